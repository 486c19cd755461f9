// The `dns` plugin: wires its declaration to its handlers. Names, values,
// the zone, the server and the key, which end up in an nsupdate script or a
// dig command line, are checked before any action runs, so that a request
// carrying anything else is refused (exit status 2) with nothing sent.

#include "actions.hpp"
#include "description.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"
#include "names.hpp"

int main() {
  using namespace lifeboat;
  using namespace lifeboat::dns_plugin;
  plugin_sdk::Plugin plugin(describeDnsPlugin());
  plugin.on("set_record", setRecord)
      .on("delete_record", deleteRecord)
      .on("verify", verifyRecord)
      .checkRequests([](const plugin_sdk::Request& request) {
        return checkRequestValues(request.target, request.params);
      });
  return plugin_sdk::runMain(plugin);
}
