// The `postgres` plugin: wires its declaration to its handlers.

#include "actions.hpp"
#include "description.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"

int main() {
  using namespace lifeboat::postgres;
  lifeboat::plugin_sdk::Plugin plugin(describePostgresPlugin());
  plugin.on("status", status)
      .on("replication_lag", replicationLag)
      .on("data_loss", dataLoss)
      .on("verify_writes", verifyWrites)
      .on("fence", fence)
      .on("unfence", unfence)
      .on("promote", promote)
      .on("clone", lifeboat::postgres::clone)
      .on("drop_clone", dropClone)
      .on("rejoin", rejoin);
  return lifeboat::plugin_sdk::runMain(plugin);
}
