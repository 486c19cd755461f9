#pragma once
// Renders a Plan for people (aligned text) and for machines (JSON).

#include <optional>
#include <ostream>

#include "lifeboat/runbook/plan.hpp"

namespace lifeboat::cli {

// `mode` empty: show what a real run and a drill each do; set: only that mode.
void renderPlanText(const runbook::Plan& plan, std::optional<runbook::Mode> mode,
                    std::ostream& out);
void renderPlanJson(const runbook::Plan& plan, std::ostream& out);

}  // namespace lifeboat::cli
