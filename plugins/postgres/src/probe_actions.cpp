#include <cmath>

#include "actions.hpp"
#include "canary.hpp"
#include "timestamps.hpp"

namespace lifeboat::postgres {
namespace {

std::string roleOf(const ServerState& state) {
  return state.inRecovery ? "standby" : "primary";
}

// Optional text column as JSON: a string, or null.
boost::json::value textOrNull(const std::optional<std::string>& text) {
  return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

}  // namespace

Result<ServerState> readServerState(Connection& connection) {
  auto basics = connection.query(
      "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only'), "
      "current_setting('server_version')");
  if (!basics) {
    return basics.error();
  }
  const Row& row = basics->rows.at(0);
  ServerState state;
  state.inRecovery = row.at(0) == "t";
  state.readOnly = row.at(1) == "on";
  state.version = row.at(2).value_or("");
  // A primary's timeline is in the name of its current WAL file; a standby
  // cannot call pg_walfile_name, so it reports the timeline it receives (or
  // of its last restartpoint).
  const char* sql =
      state.inRecovery
          ? "SELECT coalesce((SELECT received_tli FROM pg_stat_wal_receiver), "
            "(pg_control_checkpoint()).timeline_id), pg_last_wal_replay_lsn()::text"
          : "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int, "
            "pg_current_wal_lsn()::text";
  auto position = connection.query(sql);
  if (!position) {
    return position.error();
  }
  const Row& values = position->rows.at(0);
  state.timeline = values.at(0) ? std::stoll(*values.at(0)) : 0;
  state.lsn = values.at(1).value_or("");
  return state;
}

Result<ActionResult> status(const Request& request, Reporter&) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  auto state = readServerState(*connection);
  if (!state) {
    return state.error();
  }
  const std::string role = roleOf(*state);
  if (auto expected = request.stringParam("expect_role"); expected && *expected != role) {
    return Error{target->label + " is a " + role + ", expected a " + *expected,
                 role == "standby" ? "it is in recovery; promote it or point the target at the "
                                     "primary"
                                   : "it is not in recovery; it may have been promoted"};
  }
  ActionResult result;
  result.outputs["role"] = role;
  result.outputs["in_recovery"] = state->inRecovery;
  result.outputs["timeline"] = state->timeline;
  result.outputs["lsn"] = state->lsn;
  result.outputs["accepts_writes"] = !state->inRecovery && !state->readOnly;
  result.outputs["server_version"] = state->version;
  return result;
}

Result<ActionResult> replicationLag(const Request& request, Reporter&) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  // The primary's position first: read after the standby's, it would only
  // make the lag look larger than it was.
  std::optional<std::string> primaryLsn;
  std::string primaryLabel;
  if (auto primaryDsn = request.stringParam("primary_dsn")) {
    auto primary = target->connectTo(*primaryDsn);
    if (!primary) {
      return primary.error();
    }
    primaryLabel = primary->label();
    auto rows = primary->query(
        "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END");
    if (!rows) {
      return rows.error();
    }
    primaryLsn = rows->scalar();
    if (!primaryLsn) {
      return Error{"primary_dsn " + primaryLabel + " is not a primary (it is in recovery)",
                   "point primary_dsn at the current primary"};
    }
  }
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  // Without a primary: what this standby received but has not replayed yet.
  const std::string ahead =
      primaryLsn ? "$1::pg_lsn" : "coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())";
  const std::string sql =
      "SELECT pg_is_in_recovery(), "
      "greatest(0, pg_wal_lsn_diff(" +
      ahead +
      ", pg_last_wal_replay_lsn()))::bigint, "
      "CASE WHEN pg_wal_lsn_diff(" +
      ahead +
      ", pg_last_wal_replay_lsn()) > 0 "
      "THEN greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8 "
      "ELSE 0 END";
  std::vector<std::string> parameters;
  if (primaryLsn) {
    parameters.push_back(*primaryLsn);
  }
  auto rows = connection->query(sql, parameters);
  if (!rows) {
    return rows.error();
  }
  const Row& row = rows->rows.at(0);
  if (row.at(0) != "t") {
    return Error{target->label +
                     " is not a standby (it is not in recovery), so it has no "
                     "replication lag",
                 "point the target at a standby"};
  }
  const std::int64_t lagBytes = row.at(1) ? std::stoll(*row.at(1)) : 0;
  const double lagSeconds = row.at(2) ? std::stod(*row.at(2)) : 0.0;

  boost::json::value newestCanary = nullptr;
  auto exists = canaryTableExists(*connection);
  if (!exists) {
    return exists.error();
  }
  if (*exists) {
    auto newest = connection->query("SELECT " + sqlTimestampText("max(written_at)") +
                                    " FROM lifeboat.canary");
    if (!newest) {
      return newest.error();
    }
    newestCanary = textOrNull(newest->scalar());
  }
  if (auto limit = request.integerParam("max_lag_bytes"); limit && lagBytes > *limit) {
    return Error{"standby " + target->label + " is " + std::to_string(lagBytes) + " bytes behind" +
                     (primaryLsn ? " " + primaryLabel : "") + ", more than max_lag_bytes " +
                     std::to_string(*limit),
                 "check replication (pg_stat_replication on the primary, the standby's log); "
                 "under a wait modifier this is retried"};
  }
  ActionResult result;
  result.outputs["lag_bytes"] = lagBytes;
  result.outputs["lag_seconds"] = lagSeconds;
  result.outputs["newest_canary_at"] = newestCanary;
  result.measurements["rpo_seconds"] = lagSeconds;
  return result;
}

Result<ActionResult> dataLoss(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  const std::string statePath = request.stringParam("canary_state").value_or("");
  auto state = readCanaryState(statePath);
  if (!state) {
    return state.error();
  }
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  auto own = connection->query(std::string("SELECT ") + kOriginSql);
  if (!own) {
    return own.error();
  }
  const std::string ownOrigin = own->scalar().value_or("");

  // The former primary: the other origin whose acknowledged canary is newest.
  const std::string* origin = nullptr;
  const AcknowledgedCanary* acknowledged = nullptr;
  SystemTime acknowledgedAt{};
  for (const auto& [name, canary] : state->origins) {
    if (name == ownOrigin) {
      continue;
    }
    const SystemTime writtenAt = *parseTimestamp(canary.writtenAt);
    if (acknowledged == nullptr || writtenAt > acknowledgedAt) {
      origin = &name;
      acknowledged = &canary;
      acknowledgedAt = writtenAt;
    }
  }
  if (acknowledged == nullptr) {
    return Error{"the canary state file " + statePath +
                     " records no server other than the "
                     "target " +
                     ownOrigin,
                 "the canary writer must have written to the former primary before the "
                 "failover; check its --state file and that it ran"};
  }
  auto exists = canaryTableExists(*connection);
  if (!exists) {
    return exists.error();
  }
  if (!*exists) {
    return Error{"the canary table lifeboat.canary does not exist on " + target->label,
                 "run lifeboat-pg-canary against the primary before the failover, and point the "
                 "target at the new primary"};
  }
  auto rows = connection->query("SELECT id, " + sqlTimestampText("written_at") +
                                    " FROM lifeboat.canary WHERE origin = $1 "
                                    "ORDER BY written_at DESC, id DESC LIMIT 1",
                                {*origin});
  if (!rows) {
    return rows.error();
  }
  if (rows->rows.empty()) {
    return Error{"no canary of " + *origin + " survived on " + target->label +
                     ", so the data-loss window cannot be measured (it is at least as long as "
                     "the writer ran against " +
                     *origin + ")",
                 "check that the target is the promoted standby of " + *origin};
  }
  const std::int64_t survivingId = std::stoll(rows->rows[0].at(0).value_or("0"));
  const std::string survivingAtText = rows->rows[0].at(1).value_or("");
  const auto survivingAt = parseTimestamp(survivingAtText);
  if (!survivingAt) {
    return Error{"unexpected written_at from " + target->label, ""};
  }
  const double lossSeconds =
      std::max<double>(0.0, static_cast<double>((acknowledgedAt - *survivingAt).count()) / 1e6);
  reporter.progress("newest acknowledged canary of " + *origin + " is " + acknowledged->writtenAt +
                    ", newest surviving " + survivingAtText);
  ActionResult result;
  result.outputs["origin"] = *origin;
  result.outputs["last_acknowledged_at"] = acknowledged->writtenAt;
  result.outputs["last_acknowledged_id"] = acknowledged->id;
  result.outputs["newest_surviving_at"] = survivingAtText;
  result.outputs["newest_surviving_id"] = survivingId;
  result.outputs["lost_canaries"] = std::max<std::int64_t>(0, acknowledged->id - survivingId);
  result.outputs["canary_interval_ms"] = state->intervalMs;
  result.measurements["rpo_seconds"] = lossSeconds;
  return result;
}

Result<ActionResult> verifyWrites(const Request& request, Reporter&) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  auto state = readServerState(*connection);
  if (!state) {
    return state.error();
  }
  if (state->inRecovery) {
    return Error{target->label + " does not take writes: it is a standby (in recovery)",
                 "promote it first, or point the target at the primary"};
  }
  if (state->readOnly) {
    return Error{target->label + " does not take writes: default_transaction_read_only is on",
                 "it may be fenced; run unfence or ALTER SYSTEM RESET "
                 "default_transaction_read_only"};
  }
  if (auto error = ensureCanaryTable(*connection)) {
    return *error;
  }
  auto row = insertCanary(*connection, "verify:" + request.context.run, std::chrono::seconds(30));
  if (!row) {
    return Error{"cannot write a canary on " + target->label + ": " + row.error().message,
                 "check that the server is a writable primary and not fenced"};
  }
  ActionResult result;
  result.outputs["written_at"] = row->writtenAt;
  result.outputs["origin"] = row->origin;
  result.outputs["id"] = row->id;
  return result;
}

}  // namespace lifeboat::postgres
