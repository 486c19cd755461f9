#pragma once
// The `dns` plugin's declaration: its target params and actions
// (reference in docs/plugin-dns.md).

#include "lifeboat/common/plugin_protocol.hpp"

namespace lifeboat::dns_plugin {

plugin::PluginDescription describeDnsPlugin();

}  // namespace lifeboat::dns_plugin
