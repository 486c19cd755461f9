#pragma once
// What the live views know about a run, built from its events alone. Lenient
// by contract: a member that is missing or of the wrong type reads as absent;
// events about steps that run.started did not list add those steps at the
// end (a view attached late, or a newer engine).

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::live {

// Lenient readers of `data` members.
std::string_view stringMember(const boost::json::object& data, std::string_view key);
std::optional<std::int64_t> integerMember(const boost::json::object& data, std::string_view key);
std::optional<bool> boolMember(const boost::json::object& data, std::string_view key);
std::optional<Timestamp> timeMember(const boost::json::object& data, std::string_view key);
const boost::json::object* objectMember(const boost::json::object& data, std::string_view key);
const boost::json::array* arrayMember(const boost::json::object& data, std::string_view key);

enum class StepState { pending, running, waiting, ok, failed, timedOut, cancelled, skipped };

// `status` of step.finished as a state; unknown values count as failed.
StepState stateFromStatus(std::string_view status);
bool isFinal(StepState state);

struct StepActivity {
  StepState state = StepState::pending;
  std::optional<Timestamp> startedAt;
  std::int64_t durationMs = 0;  // final duration once finished
  int attempt = 0;
};

struct StepModel {
  std::string id;
  std::string name;  // empty when it equals the id
  std::string kind;
  bool runs = true;  // false: this mode skips it (skipReason says why)
  std::string skipReason;
  std::optional<std::int64_t> maxAttempts;  // from run.started when the engine says
  StepActivity main;                        // phases main and cleanup
  std::optional<StepActivity> rollback;     // phase rollback, once it began
  std::string lastLine;                     // last non-blank output/progress line, safe
  std::string error;                        // error (or skip reason) when not ok, safe
};

struct ObjectiveModel {
  std::optional<std::int64_t> targetMs;
  std::optional<std::int64_t> measuredMs;  // objective.measured
  std::string verdict;                     // objective.evaluated: met/breached/unknown
  std::optional<std::int64_t> evaluatedMs;
};

class RunModel {
 public:
  // Applies one event; returns false for types the model does not use.
  bool apply(const Event& event);

  bool started() const { return started_; }
  const std::string& runbookName() const { return runbookName_; }
  const std::string& service() const { return service_; }
  const std::string& runId() const { return runId_; }
  bool drill() const { return drill_; }
  // run.started's started_at, else the time of the first event seen.
  std::optional<Timestamp> startedAt() const { return startedAt_; }
  std::optional<Timestamp> outageStart() const { return outageStart_; }
  const ObjectiveModel& rto() const { return rto_; }
  const ObjectiveModel& rpo() const { return rpo_; }

  bool finished() const { return finished_; }
  const std::string& outcome() const { return outcome_; }
  std::optional<std::int64_t> exitCode() const { return exitCode_; }
  // When the run ended: started_at + duration_ms, else the event's time.
  std::optional<Timestamp> finishedAt() const { return finishedAt_; }

  const std::vector<StepModel>& steps() const { return steps_; }
  const StepModel* findStep(std::string_view id) const;
  // Steps this mode skips (runs = false).
  int skippedInMode() const;

 private:
  StepModel& stepFor(const std::string& id);
  void applyRunStarted(const Event& event);
  void applyStepStarted(const Event& event);
  void applyStepFinished(const Event& event);
  void applyObjective(const Event& event, bool evaluated);

  bool started_ = false;
  std::string runbookName_;
  std::string service_;
  std::string runId_;
  bool drill_ = false;
  std::optional<Timestamp> startedAt_;
  std::optional<Timestamp> outageStart_;
  ObjectiveModel rto_;
  ObjectiveModel rpo_;
  bool finished_ = false;
  std::string outcome_;
  std::optional<std::int64_t> exitCode_;
  std::optional<Timestamp> finishedAt_;
  std::vector<StepModel> steps_;
  std::unordered_map<std::string, std::size_t> stepIndex_;
};

}  // namespace lifeboat::live
