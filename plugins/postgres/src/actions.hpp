#pragma once
// The postgres plugin's actions (docs/plugin-postgres.md). Each handler
// checks what it needs of the target, and every Error names the server
// (host:port of the dsn) and what to check.

#include "target.hpp"

namespace lifeboat::postgres {

// probe_actions.cpp: read state only (verify_writes adds one canary row).
Result<ActionResult> status(const Request& request, Reporter& reporter);
Result<ActionResult> replicationLag(const Request& request, Reporter& reporter);
Result<ActionResult> dataLoss(const Request& request, Reporter& reporter);
Result<ActionResult> verifyWrites(const Request& request, Reporter& reporter);

// fence_actions.cpp: the roles of the servers.
Result<ActionResult> fence(const Request& request, Reporter& reporter);
Result<ActionResult> unfence(const Request& request, Reporter& reporter);
Result<ActionResult> promote(const Request& request, Reporter& reporter);

// copy_actions.cpp: data directories on this host.
Result<ActionResult> clone(const Request& request, Reporter& reporter);
Result<ActionResult> dropClone(const Request& request, Reporter& reporter);
Result<ActionResult> rejoin(const Request& request, Reporter& reporter);

// What status reads, shared by the actions that report a role or timeline.
struct ServerState {
  bool inRecovery = false;
  bool readOnly = false;  // default_transaction_read_only
  std::int64_t timeline = 0;
  std::string lsn;
  std::string version;
};
Result<ServerState> readServerState(Connection& connection);

}  // namespace lifeboat::postgres
