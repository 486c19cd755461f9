#include "target.hpp"

#include "lifeboat/common/duration.hpp"

namespace lifeboat::postgres {

Milliseconds durationParam(const Request& request, std::string_view name, Milliseconds fallback) {
  const auto text = request.stringParam(name);
  if (!text) {
    return fallback;
  }
  auto parsed = parseDuration(*text);
  return parsed ? *parsed : fallback;
}

Result<Target> targetOf(const Request& request) {
  Target target;
  target.dsn = request.targetString("dsn").value_or("");
  target.password = request.targetString("password").value_or("");
  target.dataDir = request.targetString("data_dir").value_or("");
  target.binDir = request.targetString("bin_dir").value_or("/usr/lib/postgresql/15/bin");
  if (auto text = request.targetString("connect_timeout")) {
    auto parsed = parseDuration(*text);
    if (!parsed) {
      return Error{"target field connect_timeout: " + parsed.error().message, parsed.error().hint};
    }
    target.connectTimeout = *parsed;
  }
  auto parsed = parseDsn(target.dsn);
  if (!parsed) {
    return parsed.error();
  }
  for (const auto& [key, value] : *parsed) {
    if (key == "password") {
      return Error{"the target's dsn contains a password",
                   "remove it from dsn and set the target field `password` (a secret) instead"};
    }
  }
  target.label = serverLabel(target.dsn);
  if (!target.dataDir.empty() && target.dataDir.is_relative()) {
    return Error{"target field data_dir must be an absolute path", ""};
  }
  return target;
}

Result<Connection> Target::connect() const {
  return connectTo(dsn);
}

Result<Connection> Target::connectTo(const std::string& otherDsn) const {
  ConnectOptions options;
  options.dsn = otherDsn;
  options.password = password;
  options.connectTimeout = connectTimeout;
  options.applicationName = "lifeboat-postgres-plugin";
  return Connection::open(options);
}

std::string Target::tool(const std::string& name) const {
  return (binDir / name).string();
}

Result<std::string> runTagOf(const Request& request) {
  const std::string& run = request.context.run;
  bool valid = !run.empty() && run != "." && run != ".." && run.size() <= 128;
  for (char c : run) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    valid = valid && allowed;
  }
  if (!valid) {
    return Error{"the run id is empty or not usable in a directory name",
                 "run ids use letters, digits, '.', '_' and '-'"};
  }
  return run;
}

}  // namespace lifeboat::postgres
