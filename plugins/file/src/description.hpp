#pragma once
// The `file` plugin's declaration: its target params and actions.

#include "lifeboat/common/plugin_protocol.hpp"

namespace lifeboat::file_plugin {

plugin::PluginDescription describeFilePlugin();

}  // namespace lifeboat::file_plugin
