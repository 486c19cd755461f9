#pragma once
// The postgres plugin's declaration: its target fields and actions
// (reference: docs/plugin-postgres.md).

#include "lifeboat/common/plugin_protocol.hpp"

namespace lifeboat::postgres {

plugin::PluginDescription describePostgresPlugin();

}  // namespace lifeboat::postgres
