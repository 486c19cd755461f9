#pragma once
// `lifeboat watch`: the agent as a daemon (docs/watch.md). It runs every
// watched runbook's polled [[trigger]] checks on their intervals, takes
// Alertmanager webhooks on its HTTPS listener, judges results with
// watch::TriggerState, and when a service's outage is declared starts that
// service's runbook (a real failover) under the service's failover lock:
//
//   declared -> approval (automatic = false, or the failover budget is used
//   up) -> second observers agree (when [confirm] peers are set) -> the lock
//   (file or etcd; held by another agent = that agent is failing over: wait
//   for it and start the cooldown) -> the run, whose RTO counts from the
//   first failed check.
//
// A local control API on a unix socket serves `lifeboat status`, `lifeboat
// trigger`, `lifeboat approve` and `lifeboat decide`. SIGTERM/SIGINT stop the
// daemon gracefully (runs in progress are interrupted as `lifeboat run` is:
// cleanup runs and the journal says where they stopped); SIGHUP reloads the
// config and the runbooks, keeping the old ones when the new ones are invalid.
// systemd Type=notify readiness and watchdog are spoken when $NOTIFY_SOCKET is
// set.

#include <filesystem>
#include <functional>
#include <string_view>

#include "lifeboat/common/result.hpp"
#include "lifeboat/daemon/agent_config.hpp"

namespace lifeboat::daemon {

// Exit codes of `lifeboat watch`.
inline constexpr int kWatchStopped = 0;    // stopped by a signal, cleanly
inline constexpr int kWatchBadConfig = 2;  // the config or a runbook is invalid at start
inline constexpr int kWatchFailed = 1;     // could not start (state dir, socket, listener)

struct DaemonOptions {
  std::filesystem::path configPath;
  // One line per call, without a trailing newline (default: stderr).
  std::function<void(std::string_view line)> log;
};

// Runs until SIGTERM or SIGINT; returns an exit code above.
int runDaemon(const DaemonOptions& options);

// `lifeboat watch --check`: loads the config and every runbook as a start (or
// a SIGHUP) would, and says what would be watched ("3 services, 5 triggers").
Result<std::string> checkDaemonConfig(const std::filesystem::path& configPath);

}  // namespace lifeboat::daemon
