// The `haproxy` plugin: wires its declaration to its handlers. Names and
// addresses that would end up in a runtime-API command are checked before any
// action runs, so that a request carrying anything else is refused (exit
// status 2) with nothing sent.

#include "actions.hpp"
#include "description.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"
#include "names.hpp"

int main() {
  using namespace lifeboat;
  using namespace lifeboat::haproxy_plugin;
  plugin_sdk::Plugin plugin(describeHaproxyPlugin());
  plugin.on("status", showStatus)
      .on("switch", switchServer)
      .on("drain", drainServer)
      .on("set_address", setAddress)
      .on("disable", disableServer)
      .on("verify", verifyActive)
      .checkRequests([](const plugin_sdk::Request& request) {
        return checkCommandArguments(request.target, request.params);
      });
  return plugin_sdk::runMain(plugin);
}
