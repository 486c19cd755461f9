#include <filesystem>
#include <thread>

#include "actions.hpp"
#include "server_control.hpp"
#include "timestamps.hpp"

namespace lifeboat::postgres {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Makes a reachable server refuse writes: new transactions default to read
// only, and every other client session (which may have turned the setting
// off for itself) is ended once new sessions see the setting. A client may
// still SET it off again: this fence stops mistakes, not a determined
// writer; `stop` is the hard fence.
std::optional<Error> fenceReadOnly(const Target& target, Connection& connection) {
  const char* hint = "the target's user must be a superuser (ALTER SYSTEM, pg_terminate_backend)";
  for (const char* sql :
       {"ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()"}) {
    auto done = connection.query(sql);
    if (!done) {
      return Error{"cannot make " + target.label + " read-only: " + done.error().message, hint};
    }
  }
  // The postmaster applies the reload asynchronously; sessions that start
  // before it has done so would still write.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto fresh = target.connect();
    if (!fresh) {
      return fresh.error();
    }
    auto setting = fresh->query("SHOW default_transaction_read_only");
    if (setting && setting->scalar() == "on") {
      break;
    }
    if (Clock::now() >= deadline) {
      return Error{
          "new sessions on " + target.label + " still write 10 s after the configuration reload",
          "check the server's log for configuration errors"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto terminated = connection.query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
  if (!terminated) {
    return Error{
        "cannot end the client sessions of " + target.label + ": " + terminated.error().message,
        hint};
  }
  return std::nullopt;
}

// A standby.signal makes any later start of the server (systemd, a human) a
// standby, never a second primary.
std::optional<Error> writeFenceSignal(const Target& target, const Request& request) {
  const std::string content =
      std::string(kFenceMarker) + ": run " + request.context.run + ", fencing token " +
      (request.context.fencingToken.empty() ? "none" : request.context.fencingToken) + "\n";
  auto error = writeOwnedFile(target.dataDir / "standby.signal", content, target.dataDir);
  if (error) {
    error->message = "cannot fence " + target.label + ": " + error->message;
  }
  return error;
}

}  // namespace

Result<ActionResult> fence(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  std::string mode = request.stringParam("mode").value_or("auto");
  const bool allowUnreachable = request.boolParam("allow_unreachable").value_or(false);
  if (mode == "auto") {
    mode = target->dataDir.empty() ? "read_only" : "stop";
  }
  ActionResult result;
  if (mode == "stop") {
    if (target->dataDir.empty()) {
      return Error{"cannot fence " + target->label + " by stopping it: the target has no data_dir",
                   "set data_dir when the server runs on this host, or use mode = \"read_only\""};
    }
    if (!fs::exists(target->dataDir / "PG_VERSION")) {
      return Error{"cannot fence " + target->label + ": " + target->dataDir.string() +
                       " is not a PostgreSQL data directory",
                   "check the target's data_dir"};
    }
    ServerControl control(*target, reporter);
    auto wasRunning = control.stop(target->dataDir);
    if (!wasRunning) {
      return wasRunning.error();
    }
    if (auto error = writeFenceSignal(*target, request)) {
      return *error;
    }
    reporter.progress(std::string(*wasRunning ? "stopped " : "found stopped ") + target->label +
                      " and wrote standby.signal");
    result.outputs["method"] = *wasRunning ? "stop" : "signal_only";
    result.outputs["was_running"] = *wasRunning;
  } else {
    auto connection = target->connect();
    if (!connection) {
      if (!allowUnreachable) {
        return Error{
            "cannot fence " + target->label + " (read_only): " + connection.error().message,
            "it cannot be proven fenced; fence it another way (set data_dir and use "
            "mode = \"stop\", cut it off the network), or set allow_unreachable = true "
            "if it is known to be gone"};
      }
      reporter.log("server unreachable, accepted because allow_unreachable is true");
      result.outputs["method"] = "unreachable";
      result.outputs["was_running"] = false;
    } else {
      if (auto error = fenceReadOnly(*target, *connection)) {
        return *error;
      }
      result.outputs["method"] = "read_only";
      result.outputs["was_running"] = true;
    }
  }
  result.outputs["fenced_at"] = formatTimestamp(nowMicroseconds());
  return result;
}

Result<ActionResult> unfence(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  bool removedSignal = false;
  if (!target->dataDir.empty()) {
    const fs::path signal = target->dataDir / "standby.signal";
    const auto content = readText(signal);
    if (content && content->rfind(kFenceMarker, 0) == 0) {
      std::error_code code;
      fs::remove(signal, code);
      if (code) {
        return Error{"cannot unfence " + target->label + ": cannot remove " + signal.string() +
                         ": " + code.message(),
                     "check permissions of the data directory"};
      }
      removedSignal = true;
      reporter.progress("removed the fence's standby.signal from " + target->dataDir.string());
    } else if (content) {
      reporter.log(signal.string() + " was not written by fence; left alone");
    }
  }
  bool resetReadOnly = false;
  auto connection = target->connect();
  if (connection) {
    for (const char* sql :
         {"ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()"}) {
      auto done = connection->query(sql);
      if (!done) {
        return Error{"cannot unfence " + target->label + ": " + done.error().message,
                     "the target's user must be a superuser (ALTER SYSTEM)"};
      }
    }
    resetReadOnly = true;
  } else if (!removedSignal) {
    return Error{"cannot unfence " + target->label + ": " + connection.error().message,
                 "start the server, or set data_dir to remove a fence's standby.signal"};
  }
  ActionResult result;
  result.outputs["method"] = removedSignal && resetReadOnly ? "both"
                             : removedSignal                ? "standby_signal"
                             : resetReadOnly                ? "read_only"
                                                            : "none";
  return result;
}

Result<ActionResult> promote(const Request& request, Reporter& reporter) {
  auto target = targetOf(request);
  if (!target) {
    return target.error();
  }
  const Milliseconds wait = durationParam(request, "wait", std::chrono::seconds(30));
  auto connection = target->connect();
  if (!connection) {
    return connection.error();
  }
  auto before = readServerState(*connection);
  if (!before) {
    return before.error();
  }
  ActionResult result;
  std::int64_t promoteMs = 0;
  if (before->inRecovery) {
    const auto waitSeconds =
        std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(wait).count());
    reporter.progress("promoting " + target->label);
    const auto started = Clock::now();
    auto promoted =
        connection->query("SELECT pg_promote(true, $1::int)", {std::to_string(waitSeconds)},
                          wait + std::chrono::seconds(10));
    promoteMs = std::chrono::duration_cast<Milliseconds>(Clock::now() - started).count();
    if (!promoted) {
      return Error{"cannot promote " + target->label + ": " + promoted.error().message,
                   "the user must be a superuser (or granted pg_promote); see the server's log"};
    }
    if (promoted->scalar() != "t") {
      return Error{"promotion of " + target->label + " did not finish within " +
                       std::to_string(waitSeconds) + " s",
                   "see the server's log; it may still finish: check status later"};
    }
  }
  auto after = readServerState(*connection);
  if (!after) {
    return after.error();
  }
  if (after->inRecovery) {
    return Error{target->label + " is still in recovery after pg_promote", "see the server's log"};
  }
  result.outputs["timeline"] = after->timeline;
  result.outputs["lsn"] = after->lsn;
  result.outputs["promote_ms"] = promoteMs;
  result.outputs["already_primary"] = !before->inRecovery;
  return result;
}

}  // namespace lifeboat::postgres
