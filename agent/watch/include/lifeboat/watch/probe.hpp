#pragma once
// Probes: one check of a [[trigger]] (docs/runbook-reference.md section 8),
// turned into the CheckResult that TriggerState::record() judges
// (docs/watch.md section 1). The `lifeboat watch` daemon calls runProbe()
// every `interval` for each polled trigger.
//
// What each kind counts as healthy, and the detail it reports:
//   http   a response with status `expect_status` within `timeout`.
//          "HTTP 200"; "HTTP 503 (expected 200)"; "timed out after 2s";
//          "cannot connect: <libcurl's reason>"; never the URL itself.
//   tcp    a connection to host:port accepted within `timeout` (closed again
//          at once, nothing sent). Numeric IPv4/IPv6 hosts and names; every
//          address of a name is tried in order until one connects.
//          "connected"; "connection refused"; "timed out after 1s";
//          "cannot resolve 'db.example': <reason>".
//   exec   `command` (argv, no shell) exits with status 0 within `timeout`.
//          "exit 0"; "exit 1: <last stderr line>"; "killed by signal 9";
//          "timed out after 200ms". The quoted line is the child's last
//          non-empty stderr line (its last stdout line when stderr is empty),
//          redacted, then cut to at most kMaxQuotedBytes.
//   plugin the target's plugin runs the trigger's action with op "check" and
//          the trigger's `with`; healthy when it answers ok. "ok"; the
//          plugin's error; "timed out after 15s".
//   alertmanager
//          is not polled (webhooks drive it, docs/watch.md section 6):
//          calling runProbe() for it is a caller's mistake, answered with an
//          unhealthy result whose detail says so (isPolled() tells first).
//
// Timing: `at` (steady) and `wallAt` (system clock, milliseconds) are taken
// when the check starts, `latency` is the steady time the whole check took,
// failures included. A check returns within about `timeout` (exec and plugin
// probes: plus ProbeContext::killGrace when the child ignores SIGTERM, since
// its process group is killed and reaped before the check ends).
//
// Secrets: trigger fields arrive with their references expanded, secrets
// included; every detail passes through the Redactor before it is returned,
// and the http probe also leaves the URL out of it (a token may sit in the
// query or in user:password@).
//
// Threads: runProbe() may be called from several threads at once, for
// different triggers or the same one; it keeps no state between calls. The
// ProbeContext is only read, and what it points to must be safe to use from
// those threads (PosixRunner, CancelSignal and Redactor::redact are; the two
// callbacks must be too).

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/redactor.hpp"
#include "lifeboat/process/cancel_signal.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/watch/trigger_state.hpp"

namespace lifeboat::watch {

// What probes borrow from the daemon. Nothing is owned; everything must
// outlive the runProbe() calls that use it.
struct ProbeContext {
  // Starts exec and plugin probes. Required for those kinds (a check without
  // one is unhealthy, "no process runner"); unused by the others.
  process::Runner* runner = nullptr;
  // Optional. Once triggered, a running check stops (child killed, request or
  // connect abandoned) and reports "cancelled"; later checks end at once the
  // same way. For the daemon's shutdown.
  const process::CancelSignal* cancel = nullptr;
  // Optional (no secrets = nothing to mask). Holds the secrets the trigger's
  // references expanded to.
  const Redactor* redactor = nullptr;
  // Plugin probes: the executable of a plugin by name (the plugins
  // directories), nullopt when there is none.
  std::function<std::optional<std::filesystem::path>(std::string_view plugin)> locatePlugin;
  // Plugin probes: the runbook's target by name (its fields already
  // expanded), nullptr when unknown.
  std::function<const runbook::Target*(std::string_view name)> findTarget;
  // Set for every child on top of the agent's environment.
  std::vector<std::pair<std::string, std::string>> childEnvironment;
  // Between SIGTERM and SIGKILL to a child's group when a check times out.
  // Short: the next check is due one `interval` after this one started.
  std::chrono::milliseconds killGrace{1'000};
};

// The most bytes of a child's or plugin's own text quoted in a detail.
inline constexpr std::size_t kMaxQuotedBytes = 200;

// Whether the daemon polls this kind with runProbe() (all but alertmanager).
bool isPolled(runbook::TriggerKind kind);

// Runs one check of `trigger` on the calling thread and returns its result.
// `name` names the trigger to plugins (the request's context.step), e.g.
// "trigger #2". Never throws (std::bad_alloc aside): a check that cannot even
// start (no runner, unknown target or plugin, a command that does not exist)
// is an unhealthy result whose detail says why.
CheckResult runProbe(const runbook::Trigger& trigger, const ProbeContext& context,
                     std::string_view name = "trigger");

}  // namespace lifeboat::watch
