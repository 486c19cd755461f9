// buildRunRecord(): one pass over the journal, each event type updating its
// part of the record (docs/protocol.md gives the `data` read here).

#include <algorithm>
#include <boost/json/value.hpp>

#include "json_fields.hpp"
#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report {

namespace json = boost::json;
using detail::arrayField;
using detail::boolField;
using detail::intField;
using detail::objectField;
using detail::stringField;
using detail::stringsField;
using detail::timeField;

namespace {

Outcome parseOutcome(std::string_view text) {
  if (text == "done") {
    return Outcome::done;
  }
  if (text == "incomplete") {
    return Outcome::incomplete;
  }
  if (text == "interrupted") {
    return Outcome::interrupted;
  }
  // "failed", and anything this reader does not know: never report success
  // it cannot vouch for.
  return Outcome::failed;
}

StepStatus parseStatus(std::string_view text) {
  if (text == "ok") {
    return StepStatus::ok;
  }
  if (text == "timed_out") {
    return StepStatus::timedOut;
  }
  if (text == "cancelled") {
    return StepStatus::cancelled;
  }
  if (text == "skipped") {
    return StepStatus::skipped;
  }
  return StepStatus::failed;
}

Verdict parseVerdict(std::string_view text) {
  if (text == "met") {
    return Verdict::met;
  }
  if (text == "breached") {
    return Verdict::breached;
  }
  return Verdict::unknown;
}

// "rto_ms" -> "rto"
std::string objectiveFromKey(std::string_view key) {
  constexpr std::string_view kSuffix = "_ms";
  if (key.size() > kSuffix.size() && key.ends_with(kSuffix)) {
    key.remove_suffix(kSuffix.size());
  }
  return std::string(key);
}

class RecordBuilder {
 public:
  explicit RecordBuilder(RunRecord& record) : record_(record) {}

  void start(const Event& event);
  void apply(const Event& event);
  void finish();

 private:
  StepRecord& step(const std::string& id);
  Execution& execution(StepRecord& step, std::string_view phase);
  ObjectiveRecord& objective(const std::string& name);
  DecisionRecord& openDecision(const std::string& stepId);

  void stepStarted(const Event& event);
  void stepFinished(const Event& event);
  void objectiveMeasured(const Event& event);
  void objectiveEvaluated(const Event& event);
  void decisionRequested(const Event& event);
  void decisionMade(const Event& event);
  void notifyRequested(const Event& event);
  void preflightFinished(const Event& event);
  void runResumed(const Event& event);
  void runCancelling(const Event& event);
  void runFinished(const Event& event);

  RunRecord& record_;
};

void RecordBuilder::start(const Event& event) {
  const json::object& data = event.data;
  record_.runId = event.run;
  record_.agent = event.agent;
  record_.runbookPath = stringField(data, "runbook");
  record_.runbookName = stringField(data, "runbook_name");
  record_.runbookSha256 = stringField(data, "runbook_sha256");
  record_.service = stringField(data, "service");
  record_.drill = boolField(data, "drill", false);
  record_.agentPid = intField(data, "agent_pid");
  if (const json::object* variables = objectField(data, "variables")) {
    record_.variables = *variables;
  }
  record_.startedAt = timeField(data, "started_at").value_or(event.time);
  std::optional<Timestamp> outageStart = timeField(data, "outage_start");
  record_.outageStart = outageStart.value_or(record_.startedAt);
  record_.outageStartSource = stringField(data, "outage_start_source");
  if (record_.outageStartSource.empty() || !outageStart) {
    record_.outageStartSource = outageStart ? "unknown" : "run_start";
  }
  record_.lastEventAt = event.time;

  if (const json::object* objectives = objectField(data, "objectives")) {
    for (const auto& member : *objectives) {
      std::optional<std::int64_t> target = intField(*objectives, member.key());
      if (target) {
        objective(objectiveFromKey(member.key())).targetMs = target;
      }
    }
  }
  if (const json::array* steps = arrayField(data, "steps")) {
    for (const json::value& value : *steps) {
      const json::object* plan = value.if_object();
      if (plan == nullptr || stringField(*plan, "id").empty()) {
        continue;
      }
      StepRecord step;
      step.id = stringField(*plan, "id");
      step.name = stringField(*plan, "name");
      if (step.name.empty()) {
        step.name = step.id;
      }
      step.kind = stringField(*plan, "kind");
      step.target = stringField(*plan, "target");
      step.wave = static_cast<int>(intField(*plan, "wave").value_or(0));
      step.cleanup = boolField(*plan, "cleanup", false);
      step.runs = boolField(*plan, "runs", true);
      step.skipReason = stringField(*plan, "skip_reason");
      step.restoresService = boolField(*plan, "restores_service", false);
      step.measuresRpo = boolField(*plan, "measures_rpo", false);
      step.idempotent = boolField(*plan, "idempotent", false);
      step.hasRollback = boolField(*plan, "has_rollback", false);
      step.execution.phase = step.cleanup ? Phase::cleanup : Phase::main;
      if (record_.findStep(step.id) == nullptr) {
        record_.steps.push_back(std::move(step));
      }
    }
  }
}

void RecordBuilder::apply(const Event& event) {
  record_.lastEventAt = std::max(record_.lastEventAt, event.time);
  const std::string& type = event.type;
  if (type == event_type::kStepStarted) {
    stepStarted(event);
  } else if (type == event_type::kStepFinished) {
    stepFinished(event);
  } else if (type == event_type::kObjectiveMeasured) {
    objectiveMeasured(event);
  } else if (type == event_type::kObjectiveEvaluated) {
    objectiveEvaluated(event);
  } else if (type == event_type::kDecisionRequested) {
    decisionRequested(event);
  } else if (type == event_type::kDecisionMade) {
    decisionMade(event);
  } else if (type == event_type::kNotifyRequested) {
    notifyRequested(event);
  } else if (type == event_type::kPreflightFinished) {
    preflightFinished(event);
  } else if (type == event_type::kRunResumed) {
    runResumed(event);
  } else if (type == event_type::kRunCancelling) {
    runCancelling(event);
  } else if (type == event_type::kRunFinished) {
    runFinished(event);
  }
  // Everything else (step.output, step.process, a repeated run.started,
  // types of a newer writer) adds nothing to the report.
}

StepRecord& RecordBuilder::step(const std::string& id) {
  for (StepRecord& step : record_.steps) {
    if (step.id == id) {
      return step;
    }
  }
  StepRecord unplanned;
  unplanned.id = id;
  unplanned.name = id;
  unplanned.inPlan = false;
  record_.steps.push_back(std::move(unplanned));
  return record_.steps.back();
}

Execution& RecordBuilder::execution(StepRecord& step, std::string_view phase) {
  if (phase == "rollback") {
    if (!step.rollback) {
      step.rollback.emplace();
      step.rollback->phase = Phase::rollback;
    }
    return *step.rollback;
  }
  if (phase == "cleanup") {
    step.execution.phase = Phase::cleanup;
  }
  return step.execution;
}

ObjectiveRecord& RecordBuilder::objective(const std::string& name) {
  for (ObjectiveRecord& objective : record_.objectives) {
    if (objective.objective == name) {
      return objective;
    }
  }
  record_.objectives.push_back(ObjectiveRecord{.objective = name});
  return record_.objectives.back();
}

DecisionRecord& RecordBuilder::openDecision(const std::string& stepId) {
  for (auto it = record_.decisions.rbegin(); it != record_.decisions.rend(); ++it) {
    if (it->step == stepId && !it->made) {
      return *it;
    }
  }
  record_.decisions.push_back(DecisionRecord{.step = stepId});
  return record_.decisions.back();
}

void RecordBuilder::stepStarted(const Event& event) {
  if (event.step.empty()) {
    return;
  }
  StepRecord& record = step(event.step);
  if (record.kind.empty()) {
    record.kind = stringField(event.data, "kind");
  }
  Execution& run = execution(record, stringField(event.data, "phase"));
  if (!run.startedAt) {
    run.startedAt = event.time;
  }
  // Running until a step.finished says otherwise; a journal that ends here
  // leaves it interrupted.
  // A start after a finish (a resume re-running the step) begins afresh,
  // keeping the first start and how a resume settled it.
  const int attempt = static_cast<int>(intField(event.data, "attempt").value_or(1));
  Execution restarted{.phase = run.phase,
                      .status = StepStatus::interrupted,
                      .attempts = std::max(run.attempts, attempt),
                      .startedAt = run.startedAt};
  restarted.resolution = std::move(run.resolution);
  run = std::move(restarted);
}

void RecordBuilder::stepFinished(const Event& event) {
  if (event.step.empty()) {
    return;
  }
  const json::object& data = event.data;
  StepRecord& record = step(event.step);
  Execution& run = execution(record, stringField(data, "phase"));
  run.status = parseStatus(stringField(data, "status"));
  run.finishedAt = event.time;
  run.durationMs = intField(data, "duration_ms");
  if (std::optional<std::int64_t> attempts = intField(data, "attempts")) {
    run.attempts = static_cast<int>(*attempts);
  }
  if (!run.startedAt && run.status != StepStatus::skipped) {
    run.startedAt = event.time - std::chrono::milliseconds(run.durationMs.value_or(0));
    run.attempts = std::max(run.attempts, 1);
  }
  run.exitCode = intField(data, "exit_code");
  run.signal = intField(data, "signal");
  run.httpStatus = intField(data, "http_status");
  run.error = stringField(data, "error");
  run.reason = stringField(data, "reason");
  if (const json::object* outputs = objectField(data, "outputs")) {
    run.outputs = *outputs;
  }
  if (const json::object* measurements = objectField(data, "measurements")) {
    run.measurements = *measurements;
  }
}

void RecordBuilder::objectiveMeasured(const Event& event) {
  std::string name = stringField(event.data, "objective");
  if (name.empty()) {
    return;
  }
  ObjectiveRecord& record = objective(name);
  if (record.evaluated) {
    return;  // the evaluation is final
  }
  record.valueMs = intField(event.data, "value_ms");
  record.source = stringField(event.data, "source");
  if (record.source.empty()) {
    record.source = event.step;
  }
}

void RecordBuilder::objectiveEvaluated(const Event& event) {
  const json::object& data = event.data;
  std::string name = stringField(data, "objective");
  if (name.empty()) {
    return;
  }
  ObjectiveRecord& record = objective(name);
  record.evaluated = true;
  if (std::optional<std::int64_t> target = intField(data, "target_ms")) {
    record.targetMs = target;
  }
  record.valueMs = intField(data, "value_ms");
  record.verdict = parseVerdict(stringField(data, "verdict"));
  if (!record.valueMs && record.verdict == Verdict::met) {
    record.verdict = Verdict::unknown;  // not measured is not met
  }
  record.source = stringField(data, "source");
  record.restoredAt = timeField(data, "restored_at");
  record.outageStart = timeField(data, "outage_start");
  record.outageStartSource = stringField(data, "outage_start_source");
}

void RecordBuilder::decisionRequested(const Event& event) {
  const json::object& data = event.data;
  DecisionRecord& decision = openDecision(event.step);
  decision.question = stringField(data, "question");
  decision.options.clear();
  if (const json::array* options = arrayField(data, "options")) {
    for (const json::value& value : *options) {
      if (const json::object* option = value.if_object()) {
        decision.options.push_back(DecisionOption{stringField(*option, "id"),
                                                  stringField(*option, "label"),
                                                  stringField(*option, "impact")});
      } else if (value.is_string()) {
        std::string text(value.get_string());
        decision.options.push_back(DecisionOption{text, text, ""});
      }
    }
  }
  decision.approvers = stringsField(data, "approvers");
  decision.deadlineMs = intField(data, "deadline_ms");
  decision.defaultOption = stringField(data, "default");
  decision.requestedAt = event.time;
}

void RecordBuilder::decisionMade(const Event& event) {
  const json::object& data = event.data;
  DecisionRecord& decision = openDecision(event.step);
  decision.made = true;
  decision.choice = stringField(data, "choice");
  decision.by = stringField(data, "by");
  decision.rationale = stringField(data, "rationale");
  decision.via = stringField(data, "via");
  decision.madeAt = event.time;
}

void RecordBuilder::notifyRequested(const Event& event) {
  const json::object& data = event.data;
  record_.notifications.push_back(NotificationRecord{
      .step = event.step,
      .at = event.time,
      .audience = stringField(data, "audience"),
      .templateName = stringField(data, "template"),
      .message = stringField(data, "message"),
      .channels = stringsField(data, "channels"),
  });
}

void RecordBuilder::preflightFinished(const Event& event) {
  PreflightRecord preflight{.at = event.time, .ok = boolField(event.data, "ok", false)};
  if (const json::array* checks = arrayField(event.data, "checks")) {
    for (const json::value& value : *checks) {
      if (const json::object* check = value.if_object()) {
        preflight.checks.push_back(PreflightCheck{stringField(*check, "check"),
                                                  boolField(*check, "ok", false),
                                                  stringField(*check, "detail")});
      }
    }
  }
  preflight.warnings = stringsField(event.data, "warnings");
  record_.preflights.push_back(std::move(preflight));
}

void RecordBuilder::runResumed(const Event& event) {
  ResumeRecord resume{.at = event.time, .agentPid = intField(event.data, "agent_pid")};
  if (const json::array* interrupted = arrayField(event.data, "interrupted")) {
    for (const json::value& value : *interrupted) {
      const json::object* entry = value.if_object();
      if (entry == nullptr || stringField(*entry, "step").empty()) {
        continue;
      }
      InterruptedStep settled{stringField(*entry, "step"), stringField(*entry, "phase"),
                              stringField(*entry, "resolution")};
      Execution& run = execution(step(settled.step), settled.phase);
      run.resolution = settled.resolution;
      if (settled.resolution == "mark_done") {
        run.status = StepStatus::ok;
      } else if (settled.resolution == "mark_failed") {
        run.status = StepStatus::failed;
        if (run.error.empty()) {
          run.error = "interrupted, and marked failed when the run was resumed";
        }
      }
      resume.interrupted.push_back(std::move(settled));
    }
  }
  if (const json::array* orphans = arrayField(event.data, "orphans_stopped")) {
    for (const json::value& value : *orphans) {
      if (value.is_int64()) {
        resume.orphansStopped.push_back(value.get_int64());
      }
    }
  }
  record_.resumes.push_back(std::move(resume));
  // The run goes on: whatever an earlier run.finished said no longer holds.
  record_.outcome = Outcome::running;
  record_.exitCode.reset();
  record_.finishedAt.reset();
  record_.durationMs.reset();
  record_.failedSteps.clear();
  record_.cleanup.clear();
  record_.rolledBack = false;
  record_.error.clear();
  record_.cancellation.reset();
}

void RecordBuilder::runCancelling(const Event& event) {
  CancellationRecord cancellation{.at = event.time, .reason = stringField(event.data, "reason")};
  if (const json::value* signal = event.data.if_contains("signal")) {
    cancellation.signal = detail::scalarText(*signal);
  }
  record_.cancellation = std::move(cancellation);
}

void RecordBuilder::runFinished(const Event& event) {
  const json::object& data = event.data;
  record_.outcome = parseOutcome(stringField(data, "outcome"));
  std::optional<std::int64_t> exitCode = intField(data, "exit_code");
  record_.exitCode =
      exitCode && *exitCode >= 0 && *exitCode <= 255 ? std::optional<int>(*exitCode) : std::nullopt;
  record_.finishedAt = event.time;
  record_.durationMs = intField(data, "duration_ms");
  record_.failedSteps = stringsField(data, "failed_steps");
  record_.cleanup = stringField(data, "cleanup");
  record_.rolledBack = boolField(data, "rolled_back", false);
  record_.error = stringField(data, "error");
}

void RecordBuilder::finish() {
  for (StepRecord& step : record_.steps) {
    Execution& run = step.execution;
    if (run.started() || run.status != StepStatus::notRun) {
      continue;
    }
    if (!step.runs) {
      run.status = StepStatus::skipped;
      run.reason = step.skipReason;
    }
  }
}

}  // namespace

RunRecordBuilder::RunRecordBuilder() : record_(std::make_unique<RunRecord>()) {}
RunRecordBuilder::~RunRecordBuilder() = default;
RunRecordBuilder::RunRecordBuilder(RunRecordBuilder&&) noexcept = default;
RunRecordBuilder& RunRecordBuilder::operator=(RunRecordBuilder&&) noexcept = default;

Result<std::monostate> RunRecordBuilder::add(const Event& event) {
  if (!started_) {
    if (event.type != event_type::kRunStarted) {
      return Error{"cannot build a run report: the journal's first event is '" + event.type +
                       "' (seq " + std::to_string(event.seq) + "), not 'run.started'",
                   "pass the events of one run's journal.jsonl, from its first line"};
    }
    started_ = true;
    run_ = event.run;
    RecordBuilder(*record_).start(event);
    return std::monostate{};
  }
  if (event.run.empty()) {
    return std::monostate{};  // agent-level (hello, heartbeat): about no run
  }
  if (event.run != run_) {
    return Error{"cannot build a run report: event seq " + std::to_string(event.seq) + " ('" +
                     event.type + "') belongs to run '" + event.run + "', not '" + run_ + "'",
                 "pass the events of one run's journal only"};
  }
  RecordBuilder(*record_).apply(event);
  return std::monostate{};
}

Result<RunRecord> RunRecordBuilder::finish() && {
  if (!started_) {
    return Error{"cannot build a run report: the journal has no events",
                 "a run's journal.jsonl starts with a run.started line; check the run id"};
  }
  RecordBuilder(*record_).finish();
  return std::move(*record_);
}

Result<RunRecord> buildRunRecord(std::span<const Event> events) {
  RunRecordBuilder builder;
  for (const Event& event : events) {
    if (Result<std::monostate> added = builder.add(event); !added) {
      return added.error();
    }
  }
  return std::move(builder).finish();
}

}  // namespace lifeboat::report
