#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report {

std::string_view outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::running:
      return "running";
    case Outcome::done:
      return "done";
    case Outcome::failed:
      return "failed";
    case Outcome::incomplete:
      return "incomplete";
    case Outcome::interrupted:
      return "interrupted";
  }
  return "running";
}

std::string_view statusName(StepStatus status) {
  switch (status) {
    case StepStatus::notRun:
      return "not_run";
    case StepStatus::ok:
      return "ok";
    case StepStatus::failed:
      return "failed";
    case StepStatus::timedOut:
      return "timed_out";
    case StepStatus::cancelled:
      return "cancelled";
    case StepStatus::skipped:
      return "skipped";
    case StepStatus::interrupted:
      return "interrupted";
  }
  return "failed";
}

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::main:
      return "main";
    case Phase::rollback:
      return "rollback";
    case Phase::cleanup:
      return "cleanup";
  }
  return "main";
}

std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::met:
      return "met";
    case Verdict::breached:
      return "breached";
    case Verdict::unknown:
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
