#pragma once
// The postgres plugin's target (its fields, checked by the SDK) and the
// helpers every action uses to reach it.

#include <filesystem>
#include <string>

#include "connection.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"

namespace lifeboat::postgres {

using plugin_sdk::ActionResult;
using plugin_sdk::Reporter;
using plugin_sdk::Request;

struct Target {
  std::string dsn;
  std::string password;           // secret: only ever handed to libpq or PGPASSWORD
  std::filesystem::path dataDir;  // empty when not on this host / not given
  std::filesystem::path binDir;
  Milliseconds connectTimeout{2000};
  std::string label;  // host:port of dsn

  // A connection to the target, or to another server `dsn` with the
  // target's password (primary_dsn of replication_lag and rejoin).
  Result<Connection> connect() const;
  Result<Connection> connectTo(const std::string& otherDsn) const;
  // `bin_dir`/name, e.g. /usr/lib/postgresql/15/bin/pg_ctl.
  std::string tool(const std::string& name) const;
};

Result<Target> targetOf(const Request& request);

// The run id, checked to be usable in a file name ([A-Za-z0-9._-], not "."
// or ".."): clone and rejoin put it in directory names.
Result<std::string> runTagOf(const Request& request);

// A duration param parsed (the SDK has checked its syntax already).
Milliseconds durationParam(const Request& request, std::string_view name, Milliseconds fallback);

}  // namespace lifeboat::postgres
