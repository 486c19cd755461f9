#pragma once
// Running a runbook: `lifeboat run`, `lifeboat drill` and `lifeboat resume`.
//
// A run goes: run directory and journal (run.started, with the plan) ->
// preflight (plugins answer, secrets resolve, the service's lock is taken;
// a failed preflight ends the run before any step) -> main steps as a DAG on
// Boost.Asio, at most policy.max_parallel at once -> rollbacks, when a step
// with on_failure = "rollback" failed -> cleanup steps -> objectives judged
// -> run.finished. The journal is the source of truth throughout: a step's
// start is durable before its effect begins, its end after.
//
// Threads: startRun()/resumeRun() block the calling thread, which runs the
// scheduler; steps run on a pool of worker threads. SIGINT and SIGTERM are
// handled while a run is in progress: the first stops the main steps (the
// run ends `interrupted`, cleanup still runs), the second stops cleanup too.

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/engine/run_lock.hpp"
#include "lifeboat/journal/event_sink.hpp"
#include "lifeboat/journal/sequence_store.hpp"
#include "lifeboat/plugin_host/catalog.hpp"
#include "lifeboat/process/cancel_signal.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/runbook/plan.hpp"
#include "lifeboat/runbook/secrets.hpp"

namespace lifeboat::engine {

using Milliseconds = std::chrono::milliseconds;

// Exit codes (README, DESIGN.md): when several apply, 4 wins, then 1, then 3.
inline constexpr int kExitMet = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitObjectiveNotMet = 3;
inline constexpr int kExitInterrupted = 4;

struct DecisionAnswer {
  std::string choice;  // an option id
  std::string by;      // the approver
  std::string rationale;
  std::string via;  // "terminal", "cli", ...
};

// Who answers decision steps. Without a coordinator: the terminal or
// `--decide` (cli); later the coordinator.
class DecisionProvider {
 public:
  virtual ~DecisionProvider() = default;
  // Called on a worker thread, one decision at a time. Returns the answer;
  // std::nullopt when `deadline` passed without one; an Error when nobody can
  // answer here (no terminal and no --decide for this step) or the answer
  // was refused. Must return promptly once `cancel` is triggered (any value).
  virtual Result<std::optional<DecisionAnswer>> decide(
      const std::string& step, const runbook::DecisionSpec& decision,
      std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel) = 0;
};

// What to do with a step that was running when an agent died.
enum class Resolution { rerun, markDone, markFailed };
std::string_view resolutionName(Resolution resolution);

struct RunEnvironment {
  std::filesystem::path stateDirectory;
  std::string agentName;
  plugin_host::Catalog* catalog = nullptr;
  process::Runner* runner = nullptr;
  DecisionProvider* decisions = nullptr;
  runbook::SecretSources secrets;
  // Every event, in order, as it is journaled (the live view).
  std::function<void(const Event&)> observer;
  // About every 200 ms with the run clock's time (the live view's redraw).
  std::function<void(Timestamp)> tick;
  // Warnings that are not events (before the journal exists).
  std::function<void(const std::string&)> warn;
  // The agent's sequence numbers; empty = the run opens the state
  // directory's own (the watch daemon shares one across its runs).
  std::shared_ptr<journal::SharedSequence> sequence;
  // Where journaled events go next (the coordinator's spool); null = nowhere.
  journal::EventSink* sink = nullptr;
  // The failover lock; empty = the local file lock (fileLockProvider).
  LockProvider lockProvider;
  Milliseconds killGrace{5'000};
  std::uint64_t seed = 0;  // retry jitter and run ids; 0 = from std::random_device
};

struct RunRequest {
  const runbook::Runbook* runbook = nullptr;
  runbook::Mode mode = runbook::Mode::drill;
  std::optional<Timestamp> outageStart;  // --outage-start; else the run's start
  // Recorded as run.started's outage_start_source when outageStart is set:
  // "flag" (--outage-start) or "trigger" (the first failed check).
  std::string outageStartSource = "flag";
  // What started the run, recorded as run.started's `origin` when not empty
  // (`lifeboat watch`: the trigger, its detail, who approved and why).
  boost::json::object origin;
  std::vector<std::pair<std::string, std::string>> commandLineVariables;  // recorded
};

struct ResumeRequest {
  const runbook::Runbook* runbook = nullptr;  // loaded from the journal's path and variables
  std::string runId;
  // For interrupted steps that are not idempotent (idempotent ones are rerun).
  std::map<std::string, Resolution> resolutions;
};

struct RunResult {
  std::string runId;
  std::filesystem::path directory;
  std::string outcome;  // done, failed, incomplete, interrupted
  int exitCode = kExitFailed;
};

// An Error only when no run could be recorded at all (state directory or
// journal unusable); a failed preflight or step is a RunResult.
Result<RunResult> startRun(const RunRequest& request, const RunEnvironment& environment);

// What a journal says about a run, for `resume` to decide what to ask.
struct RunInspection {
  std::string runId;
  std::filesystem::path directory;
  std::string runbookPath;
  std::string runbookSha256;
  bool drill = false;
  std::vector<std::pair<std::string, std::string>> variables;
  bool finished = false;                 // run.finished is in the journal
  std::optional<std::string> liveAgent;  // an agent holds the run right now
  std::vector<std::string> interrupted;  // steps started and never finished
};
Result<RunInspection> inspectRun(const std::filesystem::path& stateDirectory,
                                 const std::string& runId);

// Continues a run whose agent died: stops what that agent left running,
// skips finished steps, treats interrupted ones as `resolutions` say (rerun
// when idempotent), and carries on. The caller has checked the runbook's
// SHA-256 against the journal.
Result<RunResult> resumeRun(const ResumeRequest& request, const RunEnvironment& environment);

// `lifeboat cancel`: asks the agent executing `runId` to stop (SIGTERM), as
// Ctrl-C would. Returns its pid.
Result<int> cancelRun(const std::filesystem::path& stateDirectory, const std::string& runId);

}  // namespace lifeboat::engine
