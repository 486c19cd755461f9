#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report {

std::string_view outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRunning:
      return "running";
    case Outcome::kDone:
      return "done";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kIncomplete:
      return "incomplete";
    case Outcome::kInterrupted:
      return "interrupted";
  }
  return "running";
}

std::string_view statusName(StepStatus status) {
  switch (status) {
    case StepStatus::kNotRun:
      return "not_run";
    case StepStatus::kOk:
      return "ok";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kTimedOut:
      return "timed_out";
    case StepStatus::kCancelled:
      return "cancelled";
    case StepStatus::kSkipped:
      return "skipped";
    case StepStatus::kInterrupted:
      return "interrupted";
  }
  return "failed";
}

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::kMain:
      return "main";
    case Phase::kRollback:
      return "rollback";
    case Phase::kCleanup:
      return "cleanup";
  }
  return "main";
}

std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kMet:
      return "met";
    case Verdict::kBreached:
      return "breached";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const ObjectiveRecord* RunRecord::findObjective(std::string_view objective) const {
  for (const ObjectiveRecord& record : objectives) {
    if (record.objective == objective) {
      return &record;
    }
  }
  return nullptr;
}

const StepRecord* RunRecord::findStep(std::string_view id) const {
  for (const StepRecord& step : steps) {
    if (step.id == id) {
      return &step;
    }
  }
  return nullptr;
}

}  // namespace lifeboat::report
