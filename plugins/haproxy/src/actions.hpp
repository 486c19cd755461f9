#pragma once
// The `haproxy` plugin's actions. Each builds runtime-API commands only from
// names that passed checkCommandArguments (names.hpp).

#include "lifeboat/plugin_sdk/plugin.hpp"

namespace lifeboat::haproxy_plugin {

using plugin_sdk::ActionResult;
using plugin_sdk::Reporter;
using plugin_sdk::Request;

// Probe: the backend's servers and the active ones.
Result<ActionResult> showStatus(const Request& request, Reporter& reporter);
// `to` ready and proven up, then every other server in `others` state.
Result<ActionResult> switchServer(const Request& request, Reporter& reporter);
// `server` to drain.
Result<ActionResult> drainServer(const Request& request, Reporter& reporter);
// `server` to `address`:`port`.
Result<ActionResult> setAddress(const Request& request, Reporter& reporter);
// `server` to maint, its sessions closed.
Result<ActionResult> disableServer(const Request& request, Reporter& reporter);
// Probe: `active` is the only ready server (and up, with require_up).
Result<ActionResult> verifyActive(const Request& request, Reporter& reporter);

}  // namespace lifeboat::haproxy_plugin
