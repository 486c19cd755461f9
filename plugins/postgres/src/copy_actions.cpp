#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actions.hpp"
#include "server_control.hpp"
#include "timestamps.hpp"

namespace lifeboat::postgres {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kDrillMarker = "lifeboat-drill.json";

// A value for postgresql.auto.conf: single-quoted, quotes doubled.
std::string quoted(const std::string& value) {
  std::string text = "'";
  for (char c : value) {
    text += c == '\'' ? "''" : std::string(1, c);
  }
  return text + "'";
}

// The dsn for a tool (pg_basebackup -d, pg_rewind --source-server), with the
// target's connect timeout; the password goes through PGPASSWORD.
std::string toolDsn(const Target& target, const std::string& dsn) {
  const auto seconds = std::max<long long>(
      2, std::chrono::duration_cast<std::chrono::seconds>(target.connectTimeout).count());
  return dsn + " connect_timeout=" + std::to_string(seconds);
}

std::optional<Error> appendText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
  if (!out.flush()) {
    return Error{"cannot append to " + path.string(), "check permissions and free space"};
  }
  return std::nullopt;
}

fs::path drillDirectory(const fs::path& parent, const std::string& run) {
  return parent / ("lifeboat-drill-" + run);
}

Result<fs::path> parentDirOf(const Request& request) {
  const fs::path parent = request.stringParam("parent_dir").value_or("");
  if (parent.empty() || parent.is_relative()) {
    return Error{"param parent_dir must be an absolute path", ""};
  }
  if (!fs::is_directory(parent)) {
    return Error{"parent_dir " + parent.string() + " is not a directory",
                 "create it (owned by the PostgreSQL OS user) first"};
  }
  return parent;
}

// The configuration files a server keeps in its data directory. pg_rewind
// and pg_basebackup copy the source's versions over them (its port, its
// listen_addresses), so rejoin puts the node's own back afterwards.
constexpr const char* kConfigFiles[] = {"postgresql.conf", "postgresql.auto.conf", "pg_hba.conf",
                                        "pg_ident.conf"};

using SavedConfig = std::vector<std::pair<std::string, std::string>>;

SavedConfig saveConfig(const fs::path& dataDir) {
  SavedConfig saved;
  for (const char* name : kConfigFiles) {
    if (auto text = readText(dataDir / name)) {
      saved.emplace_back(name, *text);
    }
  }
  return saved;
}

// The replication slot the node's own configuration streams through (the
// last non-empty primary_slot_name of its postgresql.conf, then of its
// postgresql.auto.conf, as the server reads them), "" for none.
std::string configuredSlot(const SavedConfig& saved) {
  std::string slot;
  for (const char* file : {"postgresql.conf", "postgresql.auto.conf"}) {
    for (const auto& [name, text] : saved) {
      if (name != std::string(file)) {
        continue;
      }
      std::stringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("primary_slot_name", 0) != 0) {
          continue;
        }
        const std::size_t open = line.find('\'');
        const std::size_t close = line.rfind('\'');
        if (open != std::string::npos && close > open) {
          slot = line.substr(open + 1, close - open - 1);
        }
      }
    }
  }
  return slot;
}

// Puts the node's own configuration back and keeps the primary_conninfo the
// tool's -R just wrote (the last one in its postgresql.auto.conf).
std::optional<Error> restoreConfig(const fs::path& dataDir, const SavedConfig& saved) {
  std::string conninfo;
  if (auto written = readText(dataDir / "postgresql.auto.conf")) {
    std::stringstream lines(*written);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("primary_conninfo", 0) == 0) {
        conninfo = line;
      }
    }
  }
  if (conninfo.empty()) {
    return Error{"no primary_conninfo was written to " + dataDir.string() + "/postgresql.auto.conf",
                 ""};
  }
  for (const auto& [name, text] : saved) {
    std::string content = text;
    if (name == std::string("postgresql.auto.conf")) {
      if (!content.empty() && content.back() != '\n') {
        content += '\n';
      }
      content += "# written by lifeboat rejoin\n" + conninfo + "\n";
    }
    if (auto error = writeOwnedFile(dataDir / name, content, dataDir)) {
      return error;
    }
  }
  if (!fs::exists(dataDir / "standby.signal")) {
    return writeOwnedFile(dataDir / "standby.signal", "# lifeboat rejoin\n", dataDir);
  }
  return std::nullopt;
}

}  // namespace

Result<ActionResult> clone(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  auto parent = parentDirOf(request);
  if (!parent) {
    return parent.error();
  }
  auto run = runTagOf(request);
  if (!run) {
    return run.error();
  }
  const std::int64_t port = request.integerParam("port").value_or(0);
  if (port < 1 || port > 65535) {
    return Error{"param port must be between 1 and 65535", ""};
  }
  const std::string listen = request.stringParam("listen").value_or("127.0.0.1");
  const fs::path directory = drillDirectory(*parent, *run);
  if (fs::exists(directory)) {
    return Error{"cannot clone " + target->label + ": " + directory.string() + " already exists",
                 "a copy for this run exists already: drop it with drop_clone first"};
  }
  if (auto error = createOwnedDirectory(directory, *parent)) {
    return Error{"cannot clone " + target->label + ": " + error->message, error->hint};
  }
  ServerControl control(*target, reporter);
  reporter.progress("copying " + target->label + " to " + directory.string());
  auto copied =
      control.runTool("pg_basebackup",
                      {"-d", toolDsn(*target, target->dsn), "-D", directory.string(), "-X",
                       "stream", "-c", "fast", "-R"},
                      directory, std::chrono::hours(6), true, "copy the server with pg_basebackup");
  if (copied) {
    std::error_code ignored;
    fs::remove_all(directory, ignored);
    copied->hint =
        "the user needs the REPLICATION attribute and a pg_hba.conf line for "
        "`replication` connections from this host";
    return *copied;
  }
  std::string settings = "\n# lifeboat drill copy of " + target->label + " for run " + *run + "\n";
  settings += "port = " + std::to_string(port) + "\n";
  settings += "listen_addresses = " + quoted(listen) + "\n";
  settings += "unix_socket_directories = " + quoted(directory.string()) + "\n";
  settings += "cluster_name = " + quoted("lifeboat-drill-" + *run) + "\n";
  settings += "archive_mode = off\n";
  settings += "logging_collector = off\n";
  settings += "synchronous_standby_names = ''\n";
  settings += "primary_slot_name = ''\n";
  settings += "hot_standby = on\n";
  if (auto error = appendText(directory / "postgresql.auto.conf", settings)) {
    return *error;
  }
  // A server whose postgresql.conf lives elsewhere (/etc/postgresql) copies
  // without one; the copy then runs on defaults plus the settings above.
  if (!fs::exists(directory / "postgresql.conf")) {
    if (auto error = writeOwnedFile(directory / "postgresql.conf", "", directory)) {
      return *error;
    }
  }
  const json::object marker{
      {"run", *run}, {"source", target->label}, {"created_at", formatTimestamp(nowMicroseconds())}};
  if (auto error =
          writeOwnedFile(directory / kDrillMarker, json::serialize(marker) + "\n", directory)) {
    return *error;
  }
  if (auto error = control.start(directory, directory / "server.log")) {
    error->hint += "; the copy stays in " + directory.string() + " until drop_clone";
    return *error;
  }
  std::string dsn = "host=" + listen + " port=" + std::to_string(port);
  if (auto keywords = parseDsn(target->dsn)) {
    for (const auto& [key, value] : *keywords) {
      if (key == "user" || key == "dbname") {
        dsn += " " + key + "=" + value;
      }
    }
  }
  ActionResult result;
  result.outputs["data_dir"] = directory.string();
  result.outputs["port"] = port;
  result.outputs["dsn"] = dsn;
  result.outputs["tag"] = *run;
  return result;
}

Result<ActionResult> dropClone(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  auto parent = parentDirOf(request);
  if (!parent) {
    return parent.error();
  }
  auto run = runTagOf(request);
  if (!run) {
    return run.error();
  }
  const fs::path directory = drillDirectory(*parent, *run);
  ActionResult result;
  result.outputs["data_dir"] = directory.string();
  if (!fs::exists(directory)) {
    result.outputs["removed"] = false;
    return result;
  }
  const auto markerText = readText(directory / kDrillMarker);
  boost::system::error_code code;
  const json::value marker = markerText ? json::parse(*markerText, code) : json::value();
  const json::value* markerRun =
      marker.is_object() ? marker.get_object().if_contains("run") : nullptr;
  if (markerRun == nullptr || !markerRun->is_string() || markerRun->get_string() != *run) {
    return Error{"refusing to remove " + directory.string() + ": its " + kDrillMarker +
                     " is missing or names another run",
                 "only copies made by clone in this run are removed; remove it by hand if it "
                 "is yours"};
  }
  ServerControl control(*target, reporter);
  if (auto error = control.stopImmediately(directory)) {
    return *error;
  }
  std::error_code removeError;
  fs::remove_all(directory, removeError);
  if (removeError) {
    return Error{"cannot remove " + directory.string() + ": " + removeError.message(),
                 "check permissions"};
  }
  reporter.progress("removed the drill copy " + directory.string());
  result.outputs["removed"] = true;
  return result;
}

Result<ActionResult> rejoin(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  auto run = runTagOf(request);
  if (!run) {
    return run.error();
  }
  const fs::path dataDir = target->dataDir;
  if (dataDir.empty() || !fs::exists(dataDir / "PG_VERSION")) {
    return Error{"cannot rejoin " + target->label +
                     ": rejoin needs the target's data_dir on this "
                     "host",
                 "set data_dir to the former primary's data directory"};
  }
  const std::string primaryDsn = request.stringParam("primary_dsn").value_or("");
  const std::string primaryLabel = serverLabel(primaryDsn);
  const fs::path logFile =
      request.stringParam("log").value_or((dataDir / "lifeboat-rejoin.log").string());
  // The new primary must be one, and its control file must know its new
  // timeline: PostgreSQL 15 records it only at the first checkpoint after
  // promotion, and until then pg_rewind sees "the same timeline" and
  // rewinds nothing.
  {
    auto primary = target->connectTo(primaryDsn);
    if (!primary) {
      return primary.error();
    }
    auto role = primary->query("SELECT pg_is_in_recovery()");
    if (!role) {
      return role.error();
    }
    if (role->scalar() != "f") {
      return Error{"cannot rejoin " + target->label + " to " + primaryLabel +
                       ": that server is not a primary (it is in recovery)",
                   "point primary_dsn at the current primary"};
    }
    auto checkpoint = primary->query("CHECKPOINT", {}, std::chrono::minutes(10));
    if (!checkpoint) {
      return Error{"cannot rejoin " + target->label + ": CHECKPOINT on " + primaryLabel +
                       " failed: " + checkpoint.error().message,
                   "the user needs superuser or the pg_checkpoint role on the primary"};
    }
    // A node that streamed through a slot keeps doing so; the slot lived on
    // the old primary, so the new one gets it (else streaming fails forever
    // with "replication slot does not exist").
    if (const std::string slot = configuredSlot(saveConfig(dataDir)); !slot.empty()) {
      reporter.progress("making sure " + primaryLabel + " has replication slot " + slot);
      auto created = primary->query(
          "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS "
          "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
          {slot});
      if (!created) {
        return Error{"cannot rejoin " + target->label + ": creating replication slot " + slot +
                         " on " + primaryLabel + " failed: " + created.error().message,
                     "the user needs the REPLICATION attribute; or remove primary_slot_name "
                     "from the node's configuration"};
      }
    }
  }
  ServerControl control(*target, reporter);
  auto wasRunning = control.stop(dataDir);
  if (!wasRunning) {
    return wasRunning.error();
  }
  // pg_rewind recovers an uncleanly stopped target in single-user mode, which
  // cannot run as a standby: a fence's standby.signal goes first (and comes
  // back if the rewind fails, so the node stays fenced).
  const auto fenceSignal = readText(dataDir / "standby.signal");
  std::error_code ignored;
  fs::remove(dataDir / "standby.signal", ignored);
  fs::remove(dataDir / "recovery.signal", ignored);
  const SavedConfig saved = saveConfig(dataDir);

  std::string method = "rewind";
  reporter.progress("rewinding " + target->label + " to follow " + primaryLabel);
  auto rewound = control.runTool("pg_rewind",
                                 {"--target-pgdata=" + dataDir.string(),
                                  "--source-server=" + toolDsn(*target, primaryDsn), "-R"},
                                 dataDir, std::chrono::hours(6), true,
                                 "rewind the former primary with pg_rewind");
  if (rewound) {
    if (!request.boolParam("rebuild").value_or(false)) {
      if (fenceSignal) {
        writeOwnedFile(dataDir / "standby.signal", *fenceSignal, dataDir);
      }
      rewound->hint =
          "pg_rewind needs data checksums (initdb --data-checksums) or wal_log_hints = on on "
          "the former primary, and a superuser connection to " +
          primaryLabel + "; set rebuild = true to copy the primary afresh instead";
      return *rewound;
    }
    reporter.log(rewound->message);
    const fs::path aside = dataDir.string() + ".lifeboat-old-" + *run;
    if (fs::exists(aside)) {
      return Error{"cannot rebuild " + target->label + ": " + aside.string() + " already exists",
                   "move it away first"};
    }
    std::error_code moveError;
    fs::rename(dataDir, aside, moveError);
    if (moveError) {
      return Error{"cannot move " + dataDir.string() + " aside: " + moveError.message(), ""};
    }
    reporter.progress("pg_rewind failed; moved the old data to " + aside.string() +
                      " and copying " + primaryLabel + " afresh");
    if (auto error = createOwnedDirectory(dataDir, aside)) {
      return *error;
    }
    auto copied = control.runTool("pg_basebackup",
                                  {"-d", toolDsn(*target, primaryDsn), "-D", dataDir.string(), "-X",
                                   "stream", "-c", "fast", "-R"},
                                  dataDir, std::chrono::hours(6), true,
                                  "copy the primary with pg_basebackup");
    if (copied) {
      copied->hint = "the old data directory is in " + aside.string();
      return *copied;
    }
    method = "basebackup";
  }
  if (auto error = restoreConfig(dataDir, saved)) {
    return *error;
  }
  if (auto error = control.start(dataDir, logFile)) {
    return *error;
  }
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  auto state = readServerState(*connection);
  if (!state) {
    return state.error();
  }
  if (!state->inRecovery) {
    return Error{
        target->label + " came up as a primary after rejoin",
        "check standby.signal in " + dataDir.string() + " and the log " + logFile.string()};
  }
  ActionResult result;
  result.outputs["method"] = method;
  result.outputs["timeline"] = state->timeline;
  return result;
}

}  // namespace lifeboat::postgres
