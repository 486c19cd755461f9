// The `file` plugin: wires its declaration to its handlers.

#include "actions.hpp"
#include "description.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"

int main() {
  using namespace lifeboat::file_plugin;
  lifeboat::plugin_sdk::Plugin plugin(describeFilePlugin());
  plugin.on("write", writeFile)
      .on("move", moveFile)
      .on("check", checkFile)
      .on("remove", removeFile);
  return lifeboat::plugin_sdk::runMain(plugin);
}
