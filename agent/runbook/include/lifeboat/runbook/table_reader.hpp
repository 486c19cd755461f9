#pragma once
// The checked reading of TOML tables moved to common/config; see there.
#include "lifeboat/config/table_reader.hpp"
#include "lifeboat/runbook/document.hpp"

namespace lifeboat::runbook {
using config::isVariableName;
using config::keyIn;
using config::TableReader;
using config::variableText;
}  // namespace lifeboat::runbook
