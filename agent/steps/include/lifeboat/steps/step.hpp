#pragma once
// Running one attempt of a step (exec, http or a plugin action), and the
// retry and `wait` loop around attempts (docs/runbook-reference.md 9.2-9.8).
//
// Steps know nothing of the engine, the journal or the run's DAG: what they
// need comes in through Services, what they produce goes out through its
// callbacks and the returned StepOutcome. Everything here is synchronous and
// runs on one of the engine's worker threads; several steps run at once on
// different threads.
//
// Specs arrive with their references already expanded, secrets included:
// values are passed to children and servers as they are, and only ever reach
// text meant for people (errors, output events) through the Redactor.

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/redactor.hpp"
#include "lifeboat/process/cancel_signal.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/runbook/model.hpp"

namespace lifeboat::steps {

using Milliseconds = std::chrono::milliseconds;

enum class Status { ok, failed, timedOut, cancelled };

// "ok", "failed", "timed_out", "cancelled" (the event protocol's names).
std::string_view statusName(Status status);

// What one attempt (or the whole step, after retries and waiting) came to.
struct StepOutcome {
  Status status = Status::failed;
  std::string error;  // redacted; empty when ok
  std::optional<int> exitCode;
  std::optional<int> signal;
  std::optional<int> httpStatus;
  boost::json::object outputs;       // ${steps.ID.outputs.KEY}
  boost::json::object measurements;  // e.g. rpo_seconds
  int attempts = 0;                  // filled in by runWithPolicy
};

// The output stream names of step.output events.
inline constexpr std::string_view kStdout = "stdout";
inline constexpr std::string_view kStderr = "stderr";
inline constexpr std::string_view kProgress = "progress";

// What the engine lends a step. The callbacks are called on the step's
// worker thread and must be thread-safe across steps.
struct Services {
  process::Runner* runner = nullptr;
  const process::CancelSignal* cancel = nullptr;
  const Redactor* redactor = nullptr;
  // A line of output (stdout/stderr of a child, a plugin's progress, the
  // wait loop's notes). Not yet redacted: the callee redacts.
  std::function<void(std::string_view stream, std::string_view text)> onOutput;
  // A child was started in process group `group`.
  std::function<void(pid_t group)> onProcessStarted;
  // Set for every child on top of the agent's environment: how `resume` and
  // `lifeboat cancel` recognise the processes of a run.
  std::vector<std::pair<std::string, std::string>> childEnvironment;
  Milliseconds killGrace{5'000};
};

// A plugin action ready to send (docs/plugins.md, "The request").
struct PluginCall {
  std::filesystem::path executable;
  std::string op = "run";  // "run" or "check"
  std::string action;
  boost::json::object target;
  boost::json::object params;
  boost::json::object context;
};

StepOutcome runExec(const runbook::ExecSpec& spec, Milliseconds timeout, const Services& services);
StepOutcome runPlugin(const PluginCall& call, Milliseconds timeout, const Services& services);
StepOutcome runHttp(const runbook::HttpSpec& spec, Milliseconds timeout, const Services& services);

// An exec step's outputs: its last non-empty stdout line, when that is a JSON
// object (runbook reference 9.2); else empty.
boost::json::object outputsFromLastLine(std::string_view standardOutput);

// How a step is repeated: `retry` attempts, each of which is a single try or,
// with `wait`, checks every `every` until one passes or `within` expires.
struct AttemptPolicy {
  runbook::RetryPolicy retry;
  std::optional<runbook::WaitModifier> wait;
  Milliseconds timeout{300'000};  // of one try (capped by what is left of `within`)
};

// The pause before retry number `retry` (1 = the first retry): backoff x
// multiplier^(retry-1), at most maxBackoff; with jitter, uniformly drawn from
// [pause/2, pause].
Milliseconds retryPause(const runbook::RetryPolicy& policy, int retry, std::mt19937_64& random);

// Runs `once` under the policy. `onAttempt(n)` is called before attempt n
// (1-based) begins (the engine journals it: journal before effect); when it
// returns an error text the attempt does not begin and the step fails with
// it. `once` gets the time one try may take. Returns the last try's outcome
// with `attempts` set. A cancel (Services::cancel) ends the loop at once with
// Status::cancelled, also while pausing.
StepOutcome runWithPolicy(const AttemptPolicy& policy, const Services& services,
                          std::mt19937_64& random,
                          const std::function<std::string(int attempt)>& onAttempt,
                          const std::function<StepOutcome(Milliseconds timeout)>& once);

}  // namespace lifeboat::steps
