#pragma once
// The `haproxy` plugin's declaration: its target params and actions
// (reference in docs/plugin-haproxy.md).

#include "lifeboat/common/plugin_protocol.hpp"

namespace lifeboat::haproxy_plugin {

plugin::PluginDescription describeHaproxyPlugin();

}  // namespace lifeboat::haproxy_plugin
