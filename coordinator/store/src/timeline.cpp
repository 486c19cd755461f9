#include "timeline.hpp"

#include <optional>

#include "store_impl.hpp"

namespace lifeboat::store::detail {

namespace {

// One phase (main, rollback, cleanup) of one step.
struct PhaseState {
  std::string phase;
  std::string status = "running";
  std::optional<std::int64_t> attempts{};
  std::optional<std::int64_t> startedAt{};
  std::optional<std::int64_t> finishedAt{};
  std::optional<std::int64_t> durationMs{};
  std::optional<std::string> error{};
};

struct StepState {
  std::string id;
  boost::json::value name = nullptr;
  boost::json::value kind = nullptr;
  boost::json::value wave = nullptr;
  boost::json::value restoresService = nullptr;
  boost::json::value skipReason = nullptr;
  bool planned = true;  // false: the plan says this mode skips it
  std::vector<PhaseState> phases{};
};

boost::json::value member(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr ? *value : boost::json::value(nullptr);
}

class Timeline {
 public:
  void plan(const boost::json::object& data) {
    const boost::json::value* steps = data.if_contains("steps");
    if (steps == nullptr || !steps->is_array()) {
      return;
    }
    for (const boost::json::value& entry : steps->get_array()) {
      if (!entry.is_object()) {
        continue;
      }
      const boost::json::object& planned = entry.get_object();
      const auto id = stringMember(planned, "id");
      if (!id) {
        continue;
      }
      StepState& step = find(*id);
      step.name = member(planned, "name");
      step.kind = member(planned, "kind");
      step.wave = member(planned, "wave");
      step.restoresService = member(planned, "restores_service");
      step.planned = boolMember(planned, "runs").value_or(true);
      step.skipReason = member(planned, "skip_reason");
    }
  }

  void started(const StepEvent& event) {
    StepState& step = find(event.step);
    if (step.kind.is_null()) {
      step.kind = member(event.data, "kind");
    }
    const std::string phase = stringMember(event.data, "phase").value_or("main");
    PhaseState* current = open(step, phase);
    if (current == nullptr) {
      step.phases.push_back(PhaseState{.phase = phase, .startedAt = event.ts});
      current = &step.phases.back();
    }
    // A retry is another step.started of the same open phase.
    current->attempts = integerMember(event.data, "attempt");
  }

  void finished(const StepEvent& event) {
    StepState& step = find(event.step);
    const std::string phase = stringMember(event.data, "phase").value_or("main");
    PhaseState* current = open(step, phase);
    if (current == nullptr) {
      // Skipped steps, or a step.started lost in a gap of the stream.
      step.phases.push_back(PhaseState{.phase = phase});
      current = &step.phases.back();
    }
    current->status = stringMember(event.data, "status").value_or("unknown");
    current->finishedAt = event.ts;
    if (const auto attempts = integerMember(event.data, "attempts")) {
      current->attempts = attempts;
    }
    current->durationMs = integerMember(event.data, "duration_ms");
    if (!current->durationMs && current->startedAt) {
      current->durationMs = event.ts - *current->startedAt;
    }
    current->error = stringMember(event.data, "error");
  }

  boost::json::array json() const {
    boost::json::array steps;
    steps.reserve(steps_.size());
    for (const StepState& step : steps_) {
      steps.push_back(stepJson(step));
    }
    return steps;
  }

 private:
  StepState& find(const std::string& id) {
    for (StepState& step : steps_) {
      if (step.id == id) {
        return step;
      }
    }
    steps_.push_back(StepState{.id = id});
    return steps_.back();
  }

  static PhaseState* open(StepState& step, const std::string& phase) {
    if (!step.phases.empty() && step.phases.back().phase == phase &&
        !step.phases.back().finishedAt) {
      return &step.phases.back();
    }
    return nullptr;
  }

  // The step's fields are those of its latest phase; started_at is when the
  // step first started.
  static boost::json::object stepJson(const StepState& step) {
    boost::json::object json;
    json.emplace("id", step.id);
    json.emplace("name", step.name);
    json.emplace("kind", step.kind);
    json.emplace("wave", step.wave);
    json.emplace("restores_service", step.restoresService);
    const PhaseState* last = step.phases.empty() ? nullptr : &step.phases.back();
    std::string status = last != nullptr ? last->status : (step.planned ? "pending" : "skipped");
    json.emplace("status", status);
    json.emplace("phase", last != nullptr ? boost::json::value(last->phase) : nullptr);
    json.emplace("attempts", integerJson(last != nullptr ? last->attempts : std::nullopt));
    std::optional<std::int64_t> startedAt;
    for (const PhaseState& phase : step.phases) {
      if (phase.startedAt) {
        startedAt = phase.startedAt;
        break;
      }
    }
    json.emplace("started_at", timeJson(startedAt));
    json.emplace("finished_at", timeJson(last != nullptr ? last->finishedAt : std::nullopt));
    json.emplace("duration_ms", integerJson(last != nullptr ? last->durationMs : std::nullopt));
    json.emplace("error", textJson(last != nullptr ? last->error : std::nullopt));
    json.emplace("skip_reason", step.skipReason);
    boost::json::array phases;
    for (const PhaseState& phase : step.phases) {
      boost::json::object entry;
      entry.emplace("phase", phase.phase);
      entry.emplace("status", phase.status);
      entry.emplace("attempts", integerJson(phase.attempts));
      entry.emplace("started_at", timeJson(phase.startedAt));
      entry.emplace("finished_at", timeJson(phase.finishedAt));
      entry.emplace("duration_ms", integerJson(phase.durationMs));
      entry.emplace("error", textJson(phase.error));
      phases.push_back(std::move(entry));
    }
    json.emplace("phases", std::move(phases));
    return json;
  }

  std::vector<StepState> steps_;
};

}  // namespace

boost::json::array buildSteps(const std::vector<StepEvent>& events) {
  Timeline timeline;
  for (const StepEvent& event : events) {
    if (event.type == "run.started") {
      timeline.plan(event.data);
    } else if (event.step.empty()) {
      continue;
    } else if (event.type == "step.started") {
      timeline.started(event);
    } else if (event.type == "step.finished") {
      timeline.finished(event);
    }
  }
  return timeline.json();
}

}  // namespace lifeboat::store::detail
