#include "run_model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>

#include "lifeboat/live/text.hpp"

namespace lifeboat::live {

namespace json = boost::json;

std::string_view stringMember(const json::object& data, std::string_view key) {
  if (const json::value* value = data.if_contains(key)) {
    if (const json::string* text = value->if_string()) {
      return std::string_view(text->data(), text->size());
    }
  }
  return {};
}

std::optional<std::int64_t> integerMember(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (const std::int64_t* integer = value->if_int64()) {
    return *integer;
  }
  if (const std::uint64_t* unsignedInteger = value->if_uint64()) {
    if (*unsignedInteger <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*unsignedInteger);
    }
    return std::nullopt;
  }
  if (const double* real = value->if_double()) {
    // Integral values written as 1.0 or 1e3 by a lenient producer.
    if (std::isfinite(*real) && std::trunc(*real) == *real && std::fabs(*real) < 9.0e18) {
      return static_cast<std::int64_t>(*real);
    }
  }
  return std::nullopt;
}

std::optional<bool> boolMember(const json::object& data, std::string_view key) {
  if (const json::value* value = data.if_contains(key)) {
    if (const bool* flag = value->if_bool()) {
      return *flag;
    }
  }
  return std::nullopt;
}

std::optional<Timestamp> timeMember(const json::object& data, std::string_view key) {
  const std::string_view text = stringMember(data, key);
  if (text.empty()) {
    return std::nullopt;
  }
  Result<Timestamp> parsed = parseTimestamp(text);
  if (!parsed) {
    return std::nullopt;
  }
  return *parsed;
}

const json::object* objectMember(const json::object& data, std::string_view key) {
  if (const json::value* value = data.if_contains(key)) {
    return value->if_object();
  }
  return nullptr;
}

const json::array* arrayMember(const json::object& data, std::string_view key) {
  if (const json::value* value = data.if_contains(key)) {
    return value->if_array();
  }
  return nullptr;
}

StepState stateFromStatus(std::string_view status) {
  if (status == "ok") {
    return StepState::ok;
  }
  if (status == "timed_out") {
    return StepState::timedOut;
  }
  if (status == "cancelled") {
    return StepState::cancelled;
  }
  if (status == "skipped") {
    return StepState::skipped;
  }
  return StepState::failed;
}

bool isFinal(StepState state) {
  return state == StepState::ok || state == StepState::failed || state == StepState::timedOut ||
         state == StepState::cancelled || state == StepState::skipped;
}

namespace {

// The last line of `text` with something other than blanks, terminal-safe.
std::string lastNonBlankLine(std::string_view text) {
  while (!text.empty()) {
    const std::size_t newline = text.find_last_of("\r\n");
    const std::string_view line =
        newline == std::string_view::npos ? text : text.substr(newline + 1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      std::string safe = terminalSafe(line);
      const std::size_t begin = safe.find_first_not_of(' ');
      const std::size_t end = safe.find_last_not_of(' ');
      return safe.substr(begin, end - begin + 1);
    }
    if (newline == std::string_view::npos) {
      break;
    }
    text = text.substr(0, newline);
  }
  return {};
}

}  // namespace

bool RunModel::apply(const Event& event) {
  if (!startedAt_ && !event.run.empty()) {
    startedAt_ = event.time;
  }
  const std::string_view type = event.type;
  const bool aboutOneStep = type == event_type::kStepStarted || type == event_type::kStepOutput ||
                            type == event_type::kStepFinished ||
                            type == event_type::kDecisionRequested ||
                            type == event_type::kDecisionMade;
  if (aboutOneStep && event.step.empty()) {
    return true;  // malformed: nothing to attach it to
  }
  if (type == event_type::kRunStarted) {
    applyRunStarted(event);
  } else if (type == event_type::kStepStarted) {
    applyStepStarted(event);
  } else if (type == event_type::kStepOutput) {
    const std::string line = lastNonBlankLine(stringMember(event.data, "text"));
    if (!line.empty()) {
      stepFor(event.step).lastLine = line;
    }
  } else if (type == event_type::kStepFinished) {
    applyStepFinished(event);
  } else if (type == event_type::kDecisionRequested) {
    StepModel& step = stepFor(event.step);
    if (!isFinal(step.main.state)) {
      step.main.state = StepState::waiting;
      if (!step.main.startedAt) {
        step.main.startedAt = event.time;
      }
    }
  } else if (type == event_type::kDecisionMade) {
    StepModel& step = stepFor(event.step);
    if (step.main.state == StepState::waiting) {
      step.main.state = StepState::running;
    }
  } else if (type == event_type::kObjectiveMeasured) {
    applyObjective(event, false);
  } else if (type == event_type::kObjectiveEvaluated) {
    applyObjective(event, true);
  } else if (type == event_type::kRunFinished) {
    finished_ = true;
    outcome_ = terminalSafe(stringMember(event.data, "outcome"));
    exitCode_ = integerMember(event.data, "exit_code");
    const std::optional<std::int64_t> duration = integerMember(event.data, "duration_ms");
    if (duration && startedAt_) {
      finishedAt_ = *startedAt_ + std::chrono::milliseconds(*duration);
    } else {
      finishedAt_ = event.time;
    }
  } else if (type == event_type::kRunResumed || type == event_type::kRunCancelling ||
             type == event_type::kPreflightFinished || type == event_type::kNotifyRequested ||
             type == event_type::kStepProcess) {
    // Known, but nothing in the model depends on them.
  } else {
    return false;
  }
  return true;
}

void RunModel::applyRunStarted(const Event& event) {
  const json::object& data = event.data;
  started_ = true;
  runId_ = terminalSafe(event.run);
  runbookName_ = terminalSafe(stringMember(data, "runbook_name"));
  if (runbookName_.empty()) {
    runbookName_ = terminalSafe(stringMember(data, "runbook"));
  }
  service_ = terminalSafe(stringMember(data, "service"));
  drill_ = boolMember(data, "drill").value_or(false);
  startedAt_ = timeMember(data, "started_at").value_or(event.time);
  outageStart_ = timeMember(data, "outage_start");
  if (const json::object* objectives = objectMember(data, "objectives")) {
    rto_.targetMs = integerMember(*objectives, "rto_ms");
    rpo_.targetMs = integerMember(*objectives, "rpo_ms");
  }
  if (const json::array* steps = arrayMember(data, "steps")) {
    for (const json::value& entry : *steps) {
      const json::object* step = entry.if_object();
      if (step == nullptr) {
        continue;
      }
      const std::string id{stringMember(*step, "id")};
      if (id.empty()) {
        continue;
      }
      StepModel& model = stepFor(id);
      model.name = terminalSafe(stringMember(*step, "name"));
      if (model.name == model.id) {
        model.name.clear();
      }
      model.kind = terminalSafe(stringMember(*step, "kind"));
      model.runs = boolMember(*step, "runs").value_or(true);
      model.skipReason = terminalSafe(stringMember(*step, "skip_reason"));
      model.maxAttempts = integerMember(*step, "attempts");
    }
  }
}

void RunModel::applyStepStarted(const Event& event) {
  StepModel& step = stepFor(event.step);
  StepActivity activity;
  activity.state = StepState::running;
  activity.startedAt = event.time;
  activity.attempt = static_cast<int>(integerMember(event.data, "attempt").value_or(1));
  if (stringMember(event.data, "phase") == "rollback") {
    step.rollback = activity;
  } else {
    step.main = activity;
    step.error.clear();
  }
}

void RunModel::applyStepFinished(const Event& event) {
  StepModel& step = stepFor(event.step);
  const bool rollback = stringMember(event.data, "phase") == "rollback";
  if (rollback && !step.rollback) {
    step.rollback.emplace();
  }
  StepActivity& activity = rollback ? *step.rollback : step.main;
  activity.state = stateFromStatus(stringMember(event.data, "status"));
  activity.durationMs = integerMember(event.data, "duration_ms").value_or(0);
  if (const std::optional<std::int64_t> attempts = integerMember(event.data, "attempts")) {
    activity.attempt = static_cast<int>(*attempts);
  }
  if (rollback) {
    return;
  }
  std::string_view why = stringMember(event.data, "error");
  if (why.empty()) {
    why = stringMember(event.data, "reason");
  }
  step.error = activity.state == StepState::ok ? std::string() : lastNonBlankLine(why);
}

void RunModel::applyObjective(const Event& event, bool evaluated) {
  const std::string_view name = stringMember(event.data, "objective");
  ObjectiveModel* objective = name == "rto" ? &rto_ : name == "rpo" ? &rpo_ : nullptr;
  if (objective == nullptr) {
    return;
  }
  if (!evaluated) {
    objective->measuredMs = integerMember(event.data, "value_ms");
    return;
  }
  objective->verdict = terminalSafe(stringMember(event.data, "verdict"));
  objective->evaluatedMs = integerMember(event.data, "value_ms");
  if (const std::optional<std::int64_t> target = integerMember(event.data, "target_ms")) {
    objective->targetMs = target;
  }
}

StepModel& RunModel::stepFor(const std::string& id) {
  const auto [position, inserted] = stepIndex_.try_emplace(id, steps_.size());
  if (inserted) {
    StepModel step;
    step.id = terminalSafe(id);
    steps_.push_back(std::move(step));
  }
  return steps_[position->second];
}

const StepModel* RunModel::findStep(std::string_view id) const {
  const auto position = stepIndex_.find(std::string(id));
  return position == stepIndex_.end() ? nullptr : &steps_[position->second];
}

int RunModel::skippedInMode() const {
  int count = 0;
  for (const StepModel& step : steps_) {
    count += step.runs ? 0 : 1;
  }
  return count;
}

}  // namespace lifeboat::live
