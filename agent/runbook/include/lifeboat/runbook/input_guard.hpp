#pragma once
// The gate in front of toml++ moved to common/config; see there.
#include "lifeboat/config/input_guard.hpp"

namespace lifeboat::runbook {
using config::checkInput;
using config::InputLimits;
using config::readInputFile;
}  // namespace lifeboat::runbook
