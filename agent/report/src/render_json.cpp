// report.json (docs/reports.md, "report.json"): the record as one JSON
// object. Keys come in a fixed order and are always present, with null for
// what is not known, so that consumers (jq, the coordinator) need no guessing.

#include <boost/json.hpp>
#include <ostream>
#include <sstream>

#include "escape.hpp"
#include "format.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {

namespace json = boost::json;

namespace {

json::value text(const std::string& value) {
  return json::value(detail::validUtf8(value));
}

json::value time(const std::optional<Timestamp>& value) {
  return value ? json::value(formatTimestamp(*value)) : json::value(nullptr);
}

json::value number(const std::optional<std::int64_t>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::array texts(const std::vector<std::string>& values) {
  json::array array;
  for (const std::string& value : values) {
    array.push_back(text(value));
  }
  return array;
}

json::value textOrNull(const std::string& value) {
  return value.empty() ? json::value(nullptr) : text(value);
}

json::object executionJson(const Execution& execution) {
  return json::object{
      {"phase", phaseName(execution.phase)},
      {"status", statusName(execution.status)},
      {"attempts", execution.attempts},
      {"started_at", time(execution.startedAt)},
      {"finished_at", time(execution.finishedAt)},
      {"duration_ms", number(detail::executionDurationMs(execution))},
      {"exit_code", number(execution.exitCode)},
      {"signal", number(execution.signal)},
      {"http_status", number(execution.httpStatus)},
      {"error", textOrNull(execution.error)},
      {"reason", textOrNull(execution.reason)},
      {"resolution", textOrNull(execution.resolution)},
      {"outputs", execution.outputs},
      {"measurements", execution.measurements},
  };
}

json::object stepJson(const StepRecord& step) {
  json::object object{
      {"id", text(step.id)},
      {"name", text(step.name)},
      {"kind", textOrNull(step.kind)},
      {"target", textOrNull(step.target)},
      {"wave", step.wave},
      {"cleanup", step.cleanup},
      {"runs", step.runs},
      {"skip_reason", textOrNull(step.skipReason)},
      {"restores_service", step.restoresService},
      {"measures_rpo", step.measuresRpo},
      {"idempotent", step.idempotent},
      {"has_rollback", step.hasRollback},
      {"in_plan", step.inPlan},
  };
  // The step's own execution inline, so that `.steps[].status` is the answer.
  for (auto& member : executionJson(step.execution)) {
    object.emplace(member.key(), member.value());
  }
  object.emplace("rollback",
                 step.rollback ? json::value(executionJson(*step.rollback)) : json::value(nullptr));
  return object;
}

json::object objectiveJson(const ObjectiveRecord& objective) {
  return json::object{
      {"objective", text(objective.objective)},
      {"target_ms", number(objective.targetMs)},
      {"value_ms", number(objective.valueMs)},
      {"verdict", verdictName(objective.verdict)},
      {"evaluated", objective.evaluated},
      {"source", textOrNull(objective.source)},
      {"restored_at", time(objective.restoredAt)},
      {"outage_start", time(objective.outageStart)},
      {"outage_start_source", textOrNull(objective.outageStartSource)},
  };
}

json::object decisionJson(const DecisionRecord& decision) {
  json::array options;
  for (const DecisionOption& option : decision.options) {
    options.push_back(json::object{
        {"id", text(option.id)}, {"label", text(option.label)}, {"impact", text(option.impact)}});
  }
  return json::object{
      {"step", text(decision.step)},
      {"question", text(decision.question)},
      {"options", std::move(options)},
      {"approvers", texts(decision.approvers)},
      {"deadline_ms", number(decision.deadlineMs)},
      {"default", textOrNull(decision.defaultOption)},
      {"requested_at", time(decision.requestedAt)},
      {"made", decision.made},
      {"choice", textOrNull(decision.choice)},
      {"by", textOrNull(decision.by)},
      {"rationale", textOrNull(decision.rationale)},
      {"via", textOrNull(decision.via)},
      {"made_at", time(decision.madeAt)},
  };
}

json::object notificationJson(const NotificationRecord& notification) {
  return json::object{
      {"step", text(notification.step)},         {"at", formatTimestamp(notification.at)},
      {"audience", text(notification.audience)}, {"template", text(notification.templateName)},
      {"message", text(notification.message)},   {"channels", texts(notification.channels)},
  };
}

json::object preflightJson(const PreflightRecord& preflight) {
  json::array checks;
  for (const PreflightCheck& check : preflight.checks) {
    checks.push_back(json::object{
        {"check", text(check.check)}, {"ok", check.ok}, {"detail", text(check.detail)}});
  }
  return json::object{{"at", formatTimestamp(preflight.at)},
                      {"ok", preflight.ok},
                      {"checks", std::move(checks)},
                      {"warnings", texts(preflight.warnings)}};
}

json::object resumeJson(const ResumeRecord& resume) {
  json::array interrupted;
  for (const InterruptedStep& step : resume.interrupted) {
    interrupted.push_back(json::object{{"step", text(step.step)},
                                       {"phase", text(step.phase)},
                                       {"resolution", text(step.resolution)}});
  }
  json::array orphans;
  for (std::int64_t group : resume.orphansStopped) {
    orphans.push_back(group);
  }
  return json::object{{"at", formatTimestamp(resume.at)},
                      {"agent_pid", number(resume.agentPid)},
                      {"interrupted", std::move(interrupted)},
                      {"orphans_stopped", std::move(orphans)}};
}

template <class T, class F>
json::array arrayOf(const std::vector<T>& items, F toJson) {
  json::array array;
  for (const T& item : items) {
    array.push_back(toJson(item));
  }
  return array;
}

json::object reportJson(const RunRecord& record) {
  json::value cancellation = nullptr;
  if (record.cancellation) {
    cancellation = json::object{{"at", formatTimestamp(record.cancellation->at)},
                                {"reason", text(record.cancellation->reason)},
                                {"signal", textOrNull(record.cancellation->signal)}};
  }
  return json::object{
      {"report_version", kReportVersion},
      {"run", text(record.runId)},
      {"agent", text(record.agent)},
      {"runbook", json::object{{"path", text(record.runbookPath)},
                               {"name", text(record.runbookName)},
                               {"sha256", text(record.runbookSha256)}}},
      {"service", text(record.service)},
      {"mode", detail::modeName(record)},
      {"drill", record.drill},
      {"agent_pid", number(record.agentPid)},
      {"variables", record.variables},
      {"started_at", formatTimestamp(record.startedAt)},
      {"outage_start", formatTimestamp(record.outageStart)},
      {"outage_start_source", text(record.outageStartSource)},
      {"finished_at", time(record.finishedAt)},
      {"duration_ms", detail::runDurationMs(record)},
      {"outcome", outcomeName(record.outcome)},
      {"exit_code", record.exitCode ? json::value(*record.exitCode) : json::value(nullptr)},
      {"error", textOrNull(record.error)},
      {"failed_steps", texts(record.failedSteps)},
      {"cleanup", textOrNull(record.cleanup)},
      {"rolled_back", record.rolledBack},
      {"cancellation", std::move(cancellation)},
      {"last_event_at", formatTimestamp(record.lastEventAt)},
      {"objectives", arrayOf(record.objectives, objectiveJson)},
      {"steps", arrayOf(record.steps, stepJson)},
      {"decisions", arrayOf(record.decisions, decisionJson)},
      {"notifications", arrayOf(record.notifications, notificationJson)},
      {"preflight", arrayOf(record.preflights, preflightJson)},
      {"resumes", arrayOf(record.resumes, resumeJson)},
  };
}

// Two-space indentation; empty containers stay on one line.
void writePretty(const json::value& value, std::ostream& out, int depth) {
  const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string closing(static_cast<std::size_t>(depth) * 2, ' ');
  if (const json::object* object = value.if_object(); object != nullptr && !object->empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& member : *object) {
      out << (first ? "" : ",\n") << indent << json::serialize(json::value(member.key())) << ": ";
      first = false;
      writePretty(member.value(), out, depth + 1);
    }
    out << "\n" << closing << "}";
  } else if (const json::array* array = value.if_array(); array != nullptr && !array->empty()) {
    out << "[\n";
    bool first = true;
    for (const json::value& element : *array) {
      out << (first ? "" : ",\n") << indent;
      first = false;
      writePretty(element, out, depth + 1);
    }
    out << "\n" << closing << "]";
  } else {
    out << json::serialize(value);
  }
}

}  // namespace

void renderJson(const RunRecord& record, std::ostream& out) {
  writePretty(reportJson(record), out, 0);
  out << '\n';
}

std::string renderJson(const RunRecord& record) {
  std::ostringstream out;
  renderJson(record, out);
  return std::move(out).str();
}

}  // namespace lifeboat::report
