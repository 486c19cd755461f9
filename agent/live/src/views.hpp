#pragma once
// The three View implementations, made by View::make (view.cpp).

#include <memory>
#include <ostream>

#include "lifeboat/live/view.hpp"

namespace lifeboat::live {

std::unique_ptr<View> makeLinesView(std::ostream& out);
std::unique_ptr<View> makeJsonView(std::ostream& out);
std::unique_ptr<View> makeInteractiveView(const ViewOptions& options, std::ostream& out);

}  // namespace lifeboat::live
