#include "lifeboat/runbook/model.hpp"

namespace lifeboat::runbook {

const Target* Runbook::findTarget(std::string_view name) const {
  for (const Target& target : targets) {
    if (target.name == name) {
      return &target;
    }
  }
  return nullptr;
}

const Step* Runbook::findStep(std::string_view id) const {
  for (const Step& step : steps) {
    if (step.id == id) {
      return &step;
    }
  }
  return nullptr;
}

std::string_view stepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::exec:
      return "exec";
    case StepKind::http:
      return "http";
    case StepKind::plugin:
      return "plugin";
    case StepKind::decision:
      return "decision";
    case StepKind::notify:
      return "notify";
  }
  return "?";
}

std::string_view whenName(When when) {
  switch (when) {
    case When::always:
      return "always";
    case When::drill:
      return "drill";
    case When::real:
      return "real";
  }
  return "?";
}

std::string_view onFailureName(OnFailure onFailure) {
  switch (onFailure) {
    case OnFailure::abort:
      return "abort";
    case OnFailure::continueRun:
      return "continue";
    case OnFailure::rollback:
      return "rollback";
  }
  return "?";
}

std::string_view triggerKindName(TriggerKind kind) {
  switch (kind) {
    case TriggerKind::http:
      return "http";
    case TriggerKind::tcp:
      return "tcp";
    case TriggerKind::exec:
      return "exec";
    case TriggerKind::plugin:
      return "plugin";
    case TriggerKind::alertmanager:
      return "alertmanager";
  }
  return "?";
}

}  // namespace lifeboat::runbook
