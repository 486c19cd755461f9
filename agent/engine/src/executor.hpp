#pragma once
// The scheduler of one run (fresh or resumed): steps as a DAG on an Asio
// io_context, worker threads for the steps themselves. Internal to the
// engine; run.cpp sets it up (journal, preflight) and resume.cpp feeds it the
// state a journal left.

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "expand.hpp"
#include "lifeboat/engine/event_writer.hpp"
#include "lifeboat/engine/run.hpp"

namespace lifeboat::engine {

enum class StepState { pending, running, ok, failed, timedOut, cancelled, skipped };
enum class Phase { main, rollback, cleanup };
std::string_view phaseName(Phase phase);

struct StepProgress {
  StepState state = StepState::pending;
  std::string reason;  // for skipped and failures
  Timestamp finishedAt{};
  bool rolledBack = false;
};

// What the scheduler starts from: empty for a fresh run, the journal's story
// for a resumed one.
struct PriorState {
  std::map<std::string, StepProgress, std::less<>> steps;  // main and cleanup steps
  std::map<std::string, boost::json::object, std::less<>> outputs;
  std::vector<std::string> completionOrder;  // ok main steps, in order of finishing
  std::optional<std::string> abortedBy;      // a step whose failure aborts the run
  bool rollbackRequested = false;
  std::vector<std::pair<std::string, std::int64_t>> rpoMeasurements;  // (step, ms)
};

struct ExecutorSetup {
  const runbook::Runbook* runbook = nullptr;
  runbook::Mode mode = runbook::Mode::drill;
  std::string runId;
  Timestamp outageStart{};
  std::string outageStartSource;  // flag, run_start, trigger
  Timestamp runStartedAt{};
  std::uint64_t seed = 0;  // retry jitter
  EventWriter* events = nullptr;
  const RunClock* clock = nullptr;
  const RunEnvironment* environment = nullptr;
  const Redactor* redactor = nullptr;
  ExpansionContext expansion;  // outputs pointer is set by the executor
  std::map<std::string, std::filesystem::path> pluginExecutables;
  RunLock* lock = nullptr;  // renewed while the run goes on, when it can be lost
};

struct ExecutorResult {
  std::string outcome;
  int exitCode = kExitFailed;
};

// Runs until every step that can run has, then judges the objectives and
// writes run.finished.
ExecutorResult execute(ExecutorSetup setup, PriorState prior);

}  // namespace lifeboat::engine
