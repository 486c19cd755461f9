#include "description.hpp"

namespace lifeboat::postgres {

using plugin::ActionSchema;
using plugin::ParamSchema;
using plugin::ParamType;

namespace {

ParamSchema stringParam(std::string name, bool required, std::string description) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::string,
                     .required = required,
                     .description = std::move(description)};
}

ParamSchema flagParam(std::string name, bool fallback, std::string description) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::boolean,
                     .description = std::move(description),
                     .defaultValue = fallback ? "true" : "false"};
}

}  // namespace

plugin::PluginDescription describePostgresPlugin() {
  plugin::PluginDescription description;
  description.name = "postgres";
  description.version = LIFEBOAT_VERSION;
  description.description =
      "PostgreSQL streaming-replication failover: status, lag, fencing, promotion, canary "
      "writes and data-loss measurement, drill copies and rejoining a former primary.";
  description.targetParams = {
      stringParam("dsn", true,
                  "libpq connection string without the password, e.g. \"host=10.0.0.5 "
                  "port=5432 user=postgres dbname=postgres\"."),
      ParamSchema{.name = "password",
                  .type = ParamType::string,
                  .secret = true,
                  .description = "Login password, given to libpq (and to tools as PGPASSWORD)."},
      stringParam("data_dir", false,
                  "The server's data directory when it is on this host: needed to stop it, "
                  "fence it while it is down, clone and rejoin."),
      ParamSchema{.name = "bin_dir",
                  .type = ParamType::string,
                  .description = "Directory of pg_ctl, pg_basebackup and pg_rewind.",
                  .defaultValue = "\"/usr/lib/postgresql/15/bin\""},
      ParamSchema{.name = "connect_timeout",
                  .type = ParamType::duration,
                  .description = "How long to wait for a connection (libpq rounds up to whole "
                                 "seconds, at least 2).",
                  .defaultValue = "\"2s\""},
  };

  ActionSchema status{
      .name = "status",
      .description = "Reads the server's role, timeline, WAL position and whether it takes writes.",
      .params = {ParamSchema{.name = "expect_role",
                             .type = ParamType::string,
                             .description = "Fail unless the server has this role.",
                             .allowed = {"primary", "standby"}}},
      .outputs = {{"role", "\"primary\" or \"standby\"."},
                  {"in_recovery", "pg_is_in_recovery()."},
                  {"timeline", "Current timeline id."},
                  {"lsn", "Current WAL position (primary) or last replayed (standby)."},
                  {"accepts_writes", "Primary and default_transaction_read_only off."},
                  {"server_version", "server_version setting."}},
      .probe = true,
  };
  ActionSchema lag{
      .name = "replication_lag",
      .description =
          "Measures how far a standby is behind: received minus replayed WAL, or the "
          "primary's WAL position minus replayed when primary_dsn is given.",
      .params = {stringParam("primary_dsn", false,
                             "libpq dsn of the primary (the target's password is used)."),
                 ParamSchema{.name = "max_lag_bytes",
                             .type = ParamType::integer,
                             .description = "Fail when the lag is above this many bytes."}},
      .outputs = {{"lag_bytes", "WAL bytes not yet replayed."},
                  {"lag_seconds",
                   "Age of the last replayed transaction when WAL is pending, "
                   "else 0."},
                  {"newest_canary_at", "Newest lifeboat.canary row on the standby, or null."}},
      .probe = true,
      .measuresRpo = true,
  };
  ActionSchema dataLoss{
      .name = "data_loss",
      .description =
          "Measures the data lost by a failover from canaries: the newest "
          "acknowledged canary of the former primary against the newest one that "
          "survived on the target.",
      .params = {stringParam("canary_state", true, "State file of lifeboat-pg-canary.")},
      .outputs = {{"origin", "The former primary (origin of the lost canaries)."},
                  {"last_acknowledged_at", "written_at of its last acknowledged canary."},
                  {"last_acknowledged_id", "id of that canary."},
                  {"newest_surviving_at", "written_at of its newest canary on the target."},
                  {"newest_surviving_id", "id of that canary."},
                  {"lost_canaries", "last_acknowledged_id minus newest_surviving_id."},
                  {"canary_interval_ms", "The writer's interval (the measurement's resolution)."}},
      .probe = true,
      .measuresRpo = true,
  };
  ActionSchema fence{
      .name = "fence",
      .description =
          "Stops a former primary from taking writes: stops it and leaves "
          "standby.signal (stop), or makes it read-only (read_only).",
      .params = {ParamSchema{.name = "mode",
                             .type = ParamType::string,
                             .description = "auto: stop when data_dir is set, else read_only.",
                             .defaultValue = "\"auto\"",
                             .allowed = {"auto", "stop", "read_only"}},
                 flagParam("allow_unreachable", false,
                           "Succeed when the server cannot be reached and cannot be stopped "
                           "here (it cannot be proven fenced).")},
      .outputs = {{"method", "stop, read_only, signal_only (was down) or unreachable."},
                  {"was_running", "Whether the server was up."},
                  {"fenced_at", "When the fence was in place (RFC 3339 UTC)."}},
      .undoneBy = "unfence",
  };
  ActionSchema unfence{
      .name = "unfence",
      .description =
          "Undoes fence: removes the standby.signal fence wrote and resets "
          "default_transaction_read_only. Does not start a stopped server.",
      .outputs = {{"method", "What was undone: standby_signal, read_only, both, or none."}},
  };
  ActionSchema promote{
      .name = "promote",
      .description =
          "Promotes a standby (pg_promote) and confirms it left recovery; succeeds "
          "at once on a primary.",
      .params = {ParamSchema{.name = "wait",
                             .type = ParamType::duration,
                             .description = "How long to wait for the promotion.",
                             .defaultValue = "\"30s\""}},
      .outputs = {{"timeline", "The new timeline id."},
                  {"lsn", "WAL position after promotion."},
                  {"promote_ms", "How long pg_promote took."},
                  {"already_primary", "The server was a primary already."}},
  };
  ActionSchema verify{
      .name = "verify_writes",
      .description =
          "Proves the server takes writes: inserts and commits one row in the "
          "plugin's own table lifeboat.canary (created when missing); that row is "
          "its only effect.",
      .outputs = {{"written_at", "written_at of the row."},
                  {"origin", "The server that accepted it (address:port)."},
                  {"id", "id of the row."}},
      .probe = true,
  };
  ActionSchema clone{
      .name = "clone",
      .description =
          "For drills: copies the target with pg_basebackup into "
          "parent_dir/lifeboat-drill-<run> and starts the copy as a standby on its "
          "own port.",
      .params = {stringParam("parent_dir", true, "Absolute directory for the copy."),
                 ParamSchema{.name = "port",
                             .type = ParamType::integer,
                             .required = true,
                             .description = "Port of the copy."},
                 ParamSchema{.name = "listen",
                             .type = ParamType::string,
                             .description = "listen_addresses of the copy.",
                             .defaultValue = "\"127.0.0.1\""}},
      .outputs = {{"data_dir", "The copy's data directory."},
                  {"port", "Its port."},
                  {"dsn", "libpq dsn of the copy."},
                  {"tag", "The run id the copy is tagged with."}},
      .undoneBy = "drop_clone",
  };
  ActionSchema dropClone{
      .name = "drop_clone",
      .description =
          "Stops and removes the copy clone made for this run; refuses a directory "
          "that is not this run's copy.",
      .params = {stringParam("parent_dir", true, "The parent_dir given to clone.")},
      .outputs = {{"removed", "Whether a copy was removed."}, {"data_dir", "Its directory."}},
  };
  ActionSchema rejoin{
      .name = "rejoin",
      .description =
          "Makes a former primary (data_dir on this host) a streaming standby of "
          "primary_dsn with pg_rewind (or, with rebuild, a fresh pg_basebackup).",
      .params = {stringParam("primary_dsn", true,
                             "libpq dsn of the current primary (the target's password is used)."),
                 flagParam("rebuild", false,
                           "When pg_rewind fails, move the data directory aside and copy the "
                           "primary afresh."),
                 stringParam("log", false,
                             "Server log file for pg_ctl start (default "
                             "data_dir/lifeboat-rejoin.log).")},
      .outputs = {{"method", "rewind or basebackup."}, {"timeline", "The standby's timeline."}},
  };
  description.actions = {std::move(clone), std::move(dataLoss), std::move(dropClone),
                         std::move(fence), std::move(promote),  std::move(rejoin),
                         std::move(lag),   std::move(status),   std::move(unfence),
                         std::move(verify)};
  return description;
}

}  // namespace lifeboat::postgres
