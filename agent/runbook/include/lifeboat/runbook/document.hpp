#pragma once
// The TOML document model moved to common/config (the coordinator reads its
// config with it too); these names keep the runbook code reading as before.
#include "lifeboat/config/document.hpp"

namespace lifeboat::runbook {
using config::kindName;
using config::Node;
using config::parseDocument;
}  // namespace lifeboat::runbook
