#pragma once
// The canary table lifeboat.canary and the canary writer's state file.
//
// A canary is one committed row; its `origin` is computed by the server that
// accepted it (address and port), so after a failover each row says which
// primary took it. The writer records, per origin, the newest row whose
// commit it saw acknowledged; `data_loss` compares that with the rows that
// survived on the new primary.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "connection.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::postgres {

// SQL for "the server that runs this statement", e.g. "127.0.0.1:5432";
// "local:5432" over a unix socket.
inline constexpr const char* kOriginSql =
    "coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port')";

// Creates schema `lifeboat` and table `lifeboat.canary` when missing. Safe to
// call concurrently from several sessions (a lost creation race is retried).
std::optional<Error> ensureCanaryTable(Connection& connection);

// Whether lifeboat.canary exists on the connected server.
Result<bool> canaryTableExists(Connection& connection);

struct CanaryRow {
  std::int64_t id = 0;
  std::string writtenAt;  // RFC 3339 UTC with microseconds (timestamps.hpp)
  std::string origin;
};

// Inserts one canary by `writer` in its own transaction and returns it once
// the commit is acknowledged.
Result<CanaryRow> insertCanary(Connection& connection, const std::string& writer,
                               Milliseconds timeout);

// The state file of lifeboat-pg-canary (JSON):
//   {"writer": "...", "interval_ms": 200,
//    "origins": {"127.0.0.1:5432": {"id": 17, "written_at": "...",
//                                   "acknowledged_at": "..."}}}
struct AcknowledgedCanary {
  std::int64_t id = 0;
  std::string writtenAt;       // server time of the row (written_at)
  std::string acknowledgedAt;  // writer's clock when the commit returned
};
struct CanaryState {
  std::string writer;
  std::int64_t intervalMs = 0;
  std::map<std::string, AcknowledgedCanary> origins;
};

Result<CanaryState> readCanaryState(const std::filesystem::path& path);
// Writes a temporary file next to `path` and renames it over `path`, so a
// reader sees the old or the new state, never a partial one.
std::optional<Error> writeCanaryState(const std::filesystem::path& path, const CanaryState& state);

}  // namespace lifeboat::postgres
