// startRun, resumeRun, inspectRun, cancelRun: setting a run up around the
// scheduler (executor.cpp): run directory, journal, locks, preflight.
#include "lifeboat/engine/run.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/value_from.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include "executor.hpp"
#include "lifeboat/engine/file_lock.hpp"
#include "lifeboat/engine/state_directory.hpp"
#include "lifeboat/journal/journal.hpp"
#include "orphans.hpp"

namespace lifeboat::engine {

std::string_view resolutionName(Resolution resolution) {
  switch (resolution) {
    case Resolution::rerun:
      return "rerun";
    case Resolution::markDone:
      return "mark_done";
    case Resolution::markFailed:
      return "mark_failed";
  }
  return "rerun";
}

namespace {

namespace json = boost::json;
using runbook::Runbook;

constexpr std::string_view kAgentLockFile = "agent.lock";

// Recorded absolute, so that `resume` finds the file from any directory.
std::string absolutePath(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

std::uint64_t seedOf(const RunEnvironment& environment) {
  if (environment.seed != 0) {
    return environment.seed;
  }
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

json::array planSteps(const Runbook& book, runbook::Mode mode) {
  const runbook::Plan plan = runbook::makePlan(book);
  json::array steps;
  for (std::size_t i = 0; i < book.steps.size(); ++i) {
    const runbook::Step& step = book.steps[i];
    const runbook::StepDecision& decision =
        mode == runbook::Mode::drill ? plan.steps[i].drill : plan.steps[i].real;
    std::string target = step.target;
    if (const auto* action = std::get_if<runbook::PluginActionSpec>(&step.action)) {
      target = action->target;
    }
    json::object entry{{"id", step.id},
                       {"name", step.name.empty() ? step.id : step.name},
                       {"kind", runbook::stepKindName(step.kind)},
                       {"target", target},
                       {"wave", plan.steps[i].wave + 1},
                       {"cleanup", step.cleanup},
                       {"runs", decision.runs},
                       {"restores_service", step.restoresService},
                       {"measures_rpo", step.measures == runbook::Measures::rpo},
                       {"idempotent", step.idempotent},
                       {"attempts", step.retry.attempts},
                       {"has_rollback", step.rollback.has_value()}};
    if (!decision.runs) {
      entry["skip_reason"] = decision.reason;
    }
    steps.push_back(std::move(entry));
  }
  return steps;
}

// Everything that must hold before the first side effect. Holds the service
// lock and the secrets for the rest of the run.
struct Preflight {
  std::map<std::string, std::filesystem::path> pluginExecutables;
  std::map<std::string, std::string> secrets;
  Redactor redactor;
  std::unique_ptr<RunLock> serviceLock;
  std::vector<std::string> warnings;
  json::array checks;
  std::string failure;
};

void addCheck(Preflight& preflight, std::string_view name, bool ok, const std::string& detail) {
  preflight.checks.push_back({{"check", name}, {"ok", ok}, {"detail", detail}});
  if (!ok) {
    preflight.failure += (preflight.failure.empty() ? "" : "\n") + detail;
  }
}

Preflight runPreflight(const Runbook& book, runbook::Mode mode, const RunEnvironment& environment,
                       const std::string& runId) {
  Preflight preflight;
  // Plugins of the steps (and rollbacks) this mode runs.
  std::set<std::string> plugins;
  const auto needTarget = [&](const std::string& name) {
    if (const runbook::Target* target = book.findTarget(name); target && !target->plugin.empty()) {
      plugins.insert(target->plugin);
    }
  };
  for (const runbook::Step& step : book.steps) {
    if (!runbook::decideStep(book, step, mode).runs) {
      continue;
    }
    if (const auto* action = std::get_if<runbook::PluginActionSpec>(&step.action)) {
      needTarget(action->target);
    }
    if (step.rollback) {
      if (const auto* action = std::get_if<runbook::PluginActionSpec>(&step.rollback->action)) {
        needTarget(action->target);
      }
    }
  }
  std::string pluginProblems;
  for (const std::string& name : plugins) {
    Result<const plugin::PluginDescription*> described =
        environment.catalog == nullptr
            ? Result<const plugin::PluginDescription*>(Error{"no plugin catalog", ""})
            : environment.catalog->describe(name);
    std::optional<std::filesystem::path> executable =
        environment.catalog == nullptr ? std::nullopt : environment.catalog->locate(name);
    if (!described || !executable) {
      pluginProblems += (pluginProblems.empty() ? "" : "; ") +
                        (described ? "plugin " + name + " not found" : described.error().message);
      continue;
    }
    preflight.pluginExecutables[name] = *executable;
  }
  addCheck(preflight, "plugins", pluginProblems.empty(),
           pluginProblems.empty() ? std::to_string(plugins.size()) + " plugin(s) answer describe"
                                  : pluginProblems);

  std::vector<std::string> unredactable;
  Result<Redactor> secrets =
      runbook::resolveAllSecrets(book, environment.secrets, &preflight.secrets, &unredactable);
  if (secrets) {
    preflight.redactor = std::move(*secrets);
    addCheck(preflight, "secrets", true,
             std::to_string(preflight.secrets.size()) + " secret(s) resolved");
    for (const std::string& reference : unredactable) {
      preflight.warnings.push_back("secret " + reference.substr(7) +
                                   " is shorter than 4 bytes and cannot be redacted from output");
    }
  } else {
    addCheck(preflight, "secrets", false, secrets.error().message);
  }

  const LockProvider provider = environment.lockProvider
                                    ? environment.lockProvider
                                    : fileLockProvider(environment.stateDirectory.string());
  Result<std::unique_ptr<RunLock>> lock = provider(book.metadata.service, runId);
  if (lock) {
    addCheck(preflight, "lock", true, (*lock)->describe());
    preflight.serviceLock = std::move(*lock);
  } else {
    addCheck(preflight, "lock", false, lock.error().message);
  }
  return preflight;
}

struct OpenedRun {
  std::unique_ptr<RunClock> clock;
  std::unique_ptr<EventWriter> events;
  std::optional<FileLock> agentLock;
};

Result<OpenedRun> openRun(const std::filesystem::path& directory, const std::string& runId,
                          const RunEnvironment& environment) {
  OpenedRun opened;
  Result<FileLock> agentLock = FileLock::acquire(directory / kAgentLockFile, "run " + runId,
                                                 "pid " + std::to_string(::getpid()));
  if (!agentLock) {
    return agentLock.error();
  }
  opened.agentLock.emplace(std::move(*agentLock));
  std::shared_ptr<journal::SharedSequence> sequence = environment.sequence;
  if (!sequence) {
    Result<journal::SequenceStore> store = journal::SequenceStore::open(environment.stateDirectory);
    if (!store) {
      return store.error();
    }
    sequence = std::make_shared<journal::SharedSequence>(std::move(*store));
  }
  Result<journal::Journal> journal = journal::Journal::open(directory / journal::kJournalFileName);
  if (!journal) {
    return journal.error();
  }
  opened.clock = std::make_unique<RunClock>();
  opened.events = std::make_unique<EventWriter>(std::move(*journal), std::move(sequence),
                                                environment.agentName, runId, *opened.clock);
  if (environment.observer) {
    opened.events->addObserver(environment.observer);
  }
  opened.events->setSink(environment.sink);
  return opened;
}

ExpansionContext expansionFor(const Runbook& book, runbook::Mode mode, const std::string& runId,
                              Timestamp startedAt, const Preflight& preflight) {
  ExpansionContext context;
  for (const auto& [name, value] : book.variables) {
    context.variables[name] = value;
  }
  context.secrets = preflight.secrets;
  context.runFields = {{"id", runId},
                       {"drill", mode == runbook::Mode::drill ? "true" : "false"},
                       {"service", book.metadata.service},
                       {"runbook", book.metadata.name},
                       {"started_at", formatTimestamp(startedAt)}};
  context.fencingToken = preflight.serviceLock ? preflight.serviceLock->fencingToken() : "";
  return context;
}

// Journals the preflight; on failure also run.finished, and returns the
// failed result.
std::optional<RunResult> recordPreflight(const Preflight& preflight, EventWriter& events,
                                         const RunEnvironment& environment, const RunResult& base,
                                         Timestamp startedAt, const RunClock& clock) {
  json::array warnings;
  for (const std::string& warning : preflight.warnings) {
    warnings.push_back(json::string(warning));
    if (environment.warn) {
      environment.warn(warning);
    }
  }
  const bool ok = preflight.failure.empty();
  (void)events.emit(event_type::kPreflightFinished, "",
                    {{"ok", ok}, {"checks", preflight.checks}, {"warnings", std::move(warnings)}});
  if (ok) {
    return std::nullopt;
  }
  (void)events.emit(
      event_type::kRunFinished, "",
      {{"outcome", "failed"},
       {"exit_code", kExitFailed},
       {"duration_ms", std::chrono::duration_cast<Milliseconds>(clock.now() - startedAt).count()},
       {"failed_steps", json::array()},
       {"cleanup", "none"},
       {"rolled_back", false},
       {"error", "preflight failed: " + preflight.failure}});
  RunResult result = base;
  result.outcome = "failed";
  result.exitCode = kExitFailed;
  return result;
}

}  // namespace

Result<RunResult> startRun(const RunRequest& request, const RunEnvironment& environment) {
  const Runbook& book = *request.runbook;
  Result<std::filesystem::path> state = ensureStateDirectory(environment.stateDirectory);
  if (!state) {
    return state.error();
  }
  std::mt19937_64 random(seedOf(environment));
  RunClock idClock;
  const std::string runId = newRunId(idClock.now(), random);
  const std::filesystem::path directory = environment.stateDirectory / runId;
  std::error_code error;
  if (!std::filesystem::create_directory(directory, error)) {
    return Error{"cannot create run directory " + directory.string() + ": " +
                     (error ? error.message() : std::string("it exists already")),
                 "check that the state directory is writable"};
  }
  ::chmod(directory.c_str(), 0700);
  Result<OpenedRun> opened = openRun(directory, runId, environment);
  if (!opened) {
    return opened.error();
  }
  EventWriter& events = *opened->events;
  const Timestamp startedAt = opened->clock->now();
  const Timestamp outageStart = request.outageStart.value_or(startedAt);

  json::object objectives;
  if (book.objectives.rto) {
    objectives["rto_ms"] = book.objectives.rto->count();
  }
  if (book.objectives.rpo) {
    objectives["rpo_ms"] = book.objectives.rpo->count();
  }
  json::object variables;
  for (const auto& [name, value] : request.commandLineVariables) {
    variables[name] = value;
  }
  json::object startedData{
      {"runbook", absolutePath(book.path)},
      {"runbook_name", book.metadata.name},
      {"runbook_sha256", book.sha256},
      {"service", book.metadata.service},
      {"drill", request.mode == runbook::Mode::drill},
      {"started_at", formatTimestamp(startedAt)},
      {"outage_start", formatTimestamp(outageStart)},
      {"outage_start_source", request.outageStart ? request.outageStartSource : "run_start"},
      {"objectives", std::move(objectives)},
      {"variables", std::move(variables)},
      {"agent_pid", ::getpid()},
      {"steps", planSteps(book, request.mode)}};
  if (!request.origin.empty()) {
    startedData["origin"] = request.origin;
  }
  Result<journal::Done> started = events.emit(event_type::kRunStarted, "", std::move(startedData));

  if (!started) {
    return started.error();
  }
  RunResult result{runId, directory, "failed", kExitFailed};

  Preflight preflight = runPreflight(book, request.mode, environment, runId);
  events.setRedactor(&preflight.redactor);
  if (auto failed =
          recordPreflight(preflight, events, environment, result, startedAt, *opened->clock)) {
    return *failed;
  }

  ExecutorSetup setup;
  setup.runbook = &book;
  setup.mode = request.mode;
  setup.runId = runId;
  setup.outageStart = outageStart;
  setup.outageStartSource = request.outageStart ? request.outageStartSource : "run_start";
  setup.runStartedAt = startedAt;
  setup.seed = random();
  setup.events = &events;
  setup.clock = opened->clock.get();
  setup.environment = &environment;
  setup.redactor = &preflight.redactor;
  setup.expansion = expansionFor(book, request.mode, runId, startedAt, preflight);
  setup.pluginExecutables = preflight.pluginExecutables;
  setup.lock = preflight.serviceLock.get();
  ExecutorResult executed = execute(std::move(setup), PriorState{});
  result.outcome = executed.outcome;
  result.exitCode = executed.exitCode;
  return result;
}

// ----- resume -----

namespace {

std::string memberString(const json::object& object, std::string_view key) {
  if (const auto* value = object.if_contains(key); value != nullptr && value->is_string()) {
    return std::string(value->as_string());
  }
  return {};
}

std::string phaseOf(const Event& event) {
  std::string phase = memberString(event.data, "phase");
  return phase.empty() ? "main" : phase;
}

}  // namespace

Result<RunInspection> inspectRun(const std::filesystem::path& stateDirectory,
                                 const std::string& runId) {
  RunInspection inspection;
  inspection.runId = runId;
  inspection.directory = stateDirectory / runId;
  Result<journal::JournalContents> contents =
      journal::readJournal(inspection.directory / journal::kJournalFileName);
  if (!contents) {
    return contents.error();
  }
  const std::vector<Event>& events = contents->events;
  if (events.empty() || events.front().type != event_type::kRunStarted) {
    return Error{"journal of run " + runId + " does not begin with run.started",
                 "the run never got going; start a new one"};
  }
  const json::object& started = events.front().data;
  inspection.runbookPath = memberString(started, "runbook");
  inspection.runbookSha256 = memberString(started, "runbook_sha256");
  if (const auto* drill = started.if_contains("drill"); drill && drill->is_bool()) {
    inspection.drill = drill->as_bool();
  }
  if (const auto* variables = started.if_contains("variables");
      variables && variables->is_object()) {
    for (const auto& member : variables->as_object()) {
      if (member.value().is_string()) {
        inspection.variables.emplace_back(std::string(member.key()),
                                          std::string(member.value().as_string()));
      }
    }
  }
  std::map<std::pair<std::string, std::string>, bool> open;  // (step, phase) -> unfinished
  std::vector<std::pair<std::string, std::string>> order;
  for (const Event& event : events) {
    if (event.type == event_type::kRunFinished) {
      inspection.finished = true;
    } else if (event.type == event_type::kStepStarted) {
      const auto key = std::make_pair(event.step, phaseOf(event));
      if (!open.contains(key)) {
        order.push_back(key);
      }
      open[key] = true;
    } else if (event.type == event_type::kStepFinished) {
      open[std::make_pair(event.step, phaseOf(event))] = false;
    }
  }
  for (const auto& key : order) {
    if (open[key]) {
      inspection.interrupted.push_back(key.first);
    }
  }
  inspection.liveAgent = lockHolder(inspection.directory / kAgentLockFile);
  return inspection;
}

namespace {

StepState stateFromStatus(std::string_view status) {
  if (status == "ok")
    return StepState::ok;
  if (status == "timed_out")
    return StepState::timedOut;
  if (status == "cancelled")
    return StepState::cancelled;
  if (status == "skipped")
    return StepState::skipped;
  return StepState::failed;
}

Result<Timestamp> timestampMember(const json::object& object, std::string_view key) {
  return parseTimestamp(memberString(object, key));
}

}  // namespace

Result<RunResult> resumeRun(const ResumeRequest& request, const RunEnvironment& environment) {
  const Runbook& book = *request.runbook;
  Result<RunInspection> inspection = inspectRun(environment.stateDirectory, request.runId);
  if (!inspection) {
    return inspection.error();
  }
  if (inspection->finished) {
    return Error{"run " + request.runId + " has finished; there is nothing to resume",
                 "`lifeboat show " + request.runId + "` shows how it ended"};
  }
  if (inspection->liveAgent) {
    return Error{"run " + request.runId + " is still being executed by " + *inspection->liveAgent,
                 "stop it with `lifeboat cancel " + request.runId + "` first"};
  }
  if (inspection->runbookSha256 != book.sha256) {
    return Error{"runbook " + book.path + " was edited since run " + request.runId + " started",
                 "resume only with the runbook as it was, or start a new run"};
  }
  Result<OpenedRun> opened = openRun(inspection->directory, request.runId, environment);
  if (!opened) {
    return opened.error();
  }
  EventWriter& events = *opened->events;
  Result<journal::JournalContents> contents =
      journal::readJournal(inspection->directory / journal::kJournalFileName);
  if (!contents) {
    return contents.error();
  }
  const json::object& startedData = contents->events.front().data;
  const runbook::Mode mode = inspection->drill ? runbook::Mode::drill : runbook::Mode::real;
  Result<Timestamp> startedAt = timestampMember(startedData, "started_at");
  Result<Timestamp> outageStart = timestampMember(startedData, "outage_start");
  if (!startedAt || !outageStart) {
    return Error{"run.started of run " + request.runId + " lacks its start times",
                 "the journal was written by something else"};
  }

  // What the journal says happened.
  PriorState prior;
  std::set<std::pair<std::string, std::string>> finished;
  for (const Event& event : contents->events) {
    if (event.type != event_type::kStepFinished) {
      continue;
    }
    const std::string phase = phaseOf(event);
    finished.emplace(event.step, phase);
    const runbook::Step* step = book.findStep(event.step);
    if (step == nullptr) {
      continue;
    }
    if (phase == "rollback") {
      prior.steps[event.step].rolledBack = true;
      continue;
    }
    StepProgress& progress = prior.steps[event.step];
    progress.state = stateFromStatus(memberString(event.data, "status"));
    progress.reason = memberString(event.data, "error");
    progress.finishedAt = event.time;
    if (progress.state == StepState::ok) {
      if (const auto* outputs = event.data.if_contains("outputs");
          outputs && outputs->is_object()) {
        prior.outputs[event.step] = outputs->as_object();
      }
      if (phase == "main") {
        prior.completionOrder.push_back(event.step);
      }
      const auto* measurements = event.data.if_contains("measurements");
      const json::value* seconds = measurements != nullptr && measurements->is_object()
                                       ? measurements->as_object().if_contains("rpo_seconds")
                                       : nullptr;
      if (phase == "main" && step->measures == runbook::Measures::rpo && seconds != nullptr &&
          seconds->is_number() && std::isfinite(seconds->to_number<double>()) &&
          seconds->to_number<double>() >= 0) {
        prior.rpoMeasurements.emplace_back(
            event.step,
            static_cast<std::int64_t>(std::llround(seconds->to_number<double>() * 1000.0)));
      }
    } else if ((progress.state == StepState::failed || progress.state == StepState::timedOut) &&
               phase == "main" && step->onFailure != runbook::OnFailure::continueRun &&
               !prior.abortedBy) {
      prior.abortedBy = event.step;
      prior.rollbackRequested = step->onFailure == runbook::OnFailure::rollback;
    }
  }

  // Steps the dead agent had started and not finished.
  json::array interrupted;
  std::set<std::string> seen;
  for (const Event& event : contents->events) {
    if (event.type != event_type::kStepStarted) {
      continue;
    }
    const std::string phase = phaseOf(event);
    if (finished.contains({event.step, phase}) || !seen.insert(event.step + "/" + phase).second) {
      continue;
    }
    const runbook::Step* step = book.findStep(event.step);
    if (step == nullptr) {
      continue;
    }
    Resolution resolution = Resolution::rerun;
    if (!step->idempotent) {
      auto chosen = request.resolutions.find(event.step);
      if (chosen == request.resolutions.end()) {
        return Error{"step " + event.step + " was interrupted and is not idempotent",
                     "decide: --resolve " + event.step + "=rerun|done|failed"};
      }
      resolution = chosen->second;
    }
    interrupted.push_back(
        {{"step", event.step}, {"phase", phase}, {"resolution", resolutionName(resolution)}});
    if (phase == "rollback") {
      prior.steps[event.step].rolledBack = resolution != Resolution::rerun;
      continue;
    }
    StepProgress& progress = prior.steps[event.step];
    switch (resolution) {
      case Resolution::rerun:
        progress.state = StepState::pending;
        break;
      case Resolution::markDone:
        progress.state = StepState::ok;
        progress.finishedAt = event.time;
        if (phase == "main") {
          prior.completionOrder.push_back(event.step);
        }
        break;
      case Resolution::markFailed:
        progress.state = StepState::failed;
        progress.reason = "interrupted, and marked failed when the run was resumed";
        if (phase == "main" && step->onFailure != runbook::OnFailure::continueRun &&
            !prior.abortedBy) {
          prior.abortedBy = event.step;
          prior.rollbackRequested = step->onFailure == runbook::OnFailure::rollback;
        }
        break;
    }
  }

  // Stop what the dead agent left running before anything starts again.
  json::array stopped;
  for (pid_t group : stopRunProcesses(request.runId, environment.killGrace)) {
    stopped.push_back(group);
  }
  (void)events.emit(event_type::kRunResumed, "",
                    {{"agent_pid", ::getpid()},
                     {"interrupted", interrupted},
                     {"orphans_stopped", std::move(stopped)}});
  // Mark-done and mark-failed resolutions are facts of the run from now on: a
  // later resume must not ask again.
  for (const auto& entry : interrupted) {
    const json::object& item = entry.as_object();
    const std::string resolution = memberString(item, "resolution");
    if (resolution == "rerun") {
      continue;
    }
    (void)events.emit(event_type::kStepFinished, memberString(item, "step"),
                      {{"status", resolution == "mark_done" ? "ok" : "failed"},
                       {"phase", memberString(item, "phase")},
                       {"attempts", 0},
                       {"duration_ms", 0},
                       {"resolution", resolution},
                       {"outputs", json::object()},
                       {"error", resolution == "mark_done"
                                     ? ""
                                     : "interrupted, and marked failed when the run was resumed"}});
  }

  RunResult result{request.runId, inspection->directory, "failed", kExitFailed};
  Preflight preflight = runPreflight(book, mode, environment, request.runId);
  events.setRedactor(&preflight.redactor);
  if (auto failed =
          recordPreflight(preflight, events, environment, result, *startedAt, *opened->clock)) {
    return *failed;
  }
  ExecutorSetup setup;
  setup.runbook = &book;
  setup.mode = mode;
  setup.runId = request.runId;
  setup.outageStart = *outageStart;
  setup.outageStartSource = memberString(startedData, "outage_start_source");
  setup.runStartedAt = *startedAt;
  setup.seed = seedOf(environment);
  setup.events = &events;
  setup.clock = opened->clock.get();
  setup.environment = &environment;
  setup.redactor = &preflight.redactor;
  setup.expansion = expansionFor(book, mode, request.runId, *startedAt, preflight);
  setup.pluginExecutables = preflight.pluginExecutables;
  setup.lock = preflight.serviceLock.get();
  ExecutorResult executed = execute(std::move(setup), std::move(prior));
  result.outcome = executed.outcome;
  result.exitCode = executed.exitCode;
  return result;
}

Result<int> cancelRun(const std::filesystem::path& stateDirectory, const std::string& runId) {
  const std::optional<std::string> holder = lockHolder(stateDirectory / runId / kAgentLockFile);
  if (!holder) {
    return Error{"run " + runId + " is not in progress",
                 "`lifeboat show " + runId + "` shows how it ended"};
  }
  int pid = 0;
  if (std::sscanf(holder->c_str(), "pid %d", &pid) != 1 || pid <= 1) {
    return Error{"cannot tell which agent executes run " + runId + " (" + *holder + ")", ""};
  }
  if (::kill(pid, SIGTERM) != 0) {
    return Error{"cannot signal agent pid " + std::to_string(pid) + ": " + std::strerror(errno),
                 "run `lifeboat cancel` as the user that started the run"};
  }
  return pid;
}

}  // namespace lifeboat::engine
