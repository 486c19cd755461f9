#include "journals.hpp"

namespace lifeboat::report::testing {

namespace json = boost::json;

Timestamp baseTime() {
  // 2026-11-24T22:56:10.000Z
  return Timestamp{std::chrono::milliseconds{1795560970000}};
}

Timestamp at(std::int64_t offsetMs) {
  return baseTime() + std::chrono::milliseconds(offsetMs);
}

JournalBuilder::JournalBuilder(std::string run) : run_(std::move(run)) {}

Event& JournalBuilder::add(std::int64_t atMs, std::string_view type, std::string step,
                           json::object data) {
  Event event;
  event.agent = std::string(kAgent);
  event.run = run_;
  event.seq = seq_++;
  event.time = at(atMs);
  event.type = std::string(type);
  event.step = std::move(step);
  event.data = std::move(data);
  events_.push_back(std::move(event));
  return events_.back();
}

void JournalBuilder::runStarted(bool drill, const std::vector<PlanStep>& steps,
                                json::object objectives, std::int64_t outageStartMs,
                                std::string outageSource, std::string runbookName) {
  json::array plan;
  for (const PlanStep& step : steps) {
    plan.push_back(json::object{
        {"id", step.id},
        {"name", step.name.empty() ? step.id : step.name},
        {"kind", step.kind},
        {"target", step.target},
        {"wave", step.wave},
        {"cleanup", step.cleanup},
        {"runs", step.runs},
        {"skip_reason", step.skipReason},
        {"restores_service", step.restoresService},
        {"measures_rpo", step.measuresRpo},
        {"idempotent", step.idempotent},
        {"has_rollback", step.hasRollback},
    });
  }
  add(0, event_type::kRunStarted, "",
      json::object{
          {"runbook", "runbooks/" + runbookName + ".toml"},
          {"runbook_name", runbookName},
          {"runbook_sha256", std::string(64, 'a')},
          {"service", "orders"},
          {"drill", drill},
          {"started_at", formatTimestamp(at(0))},
          {"outage_start", formatTimestamp(at(outageStartMs))},
          {"outage_start_source", outageSource},
          {"objectives", std::move(objectives)},
          {"variables", json::object{{"region", "eu-central-1"}}},
          {"agent_pid", 31337},
          {"steps", std::move(plan)},
      });
}

void JournalBuilder::preflightFinished(std::int64_t atMs, bool ok,
                                       std::vector<std::string> warnings) {
  json::array warningArray;
  for (std::string& warning : warnings) {
    warningArray.push_back(json::value(warning));
  }
  add(atMs, event_type::kPreflightFinished, "",
      json::object{
          {"ok", ok},
          {"checks",
           json::array{
               json::object{
                   {"check", "plugins"}, {"ok", true}, {"detail", "postgres answers describe"}},
               json::object{{"check", "secrets"}, {"ok", true}, {"detail", "2 resolved"}},
               json::object{{"check", "lock"}, {"ok", ok}, {"detail", "service lock"}}}},
          {"warnings", std::move(warningArray)}});
}

void JournalBuilder::stepStarted(std::int64_t atMs, const std::string& step, std::string kind,
                                 std::string phase, int attempt) {
  add(atMs, event_type::kStepStarted, step,
      json::object{{"kind", kind}, {"phase", phase}, {"attempt", attempt}});
}

void JournalBuilder::stepOutput(std::int64_t atMs, const std::string& step, std::string text) {
  add(atMs, event_type::kStepOutput, step, json::object{{"stream", "stdout"}, {"text", text}});
}

void JournalBuilder::stepFinished(std::int64_t atMs, const std::string& step, std::string status,
                                  std::int64_t durationMs, json::object extra, std::string phase,
                                  int attempts) {
  json::object data{{"status", status},          {"phase", phase},
                    {"attempts", attempts},      {"duration_ms", durationMs},
                    {"outputs", json::object{}}, {"measurements", json::object{}}};
  for (auto& member : extra) {
    data[member.key()] = member.value();
  }
  add(atMs, event_type::kStepFinished, step, std::move(data));
}

void JournalBuilder::objectiveMeasured(std::int64_t atMs, std::string objective,
                                       std::int64_t valueMs, std::string source) {
  add(atMs, event_type::kObjectiveMeasured, source,
      json::object{{"objective", objective}, {"value_ms", valueMs}, {"source", source}});
}

void JournalBuilder::objectiveEvaluated(std::int64_t atMs, std::string objective,
                                        std::int64_t targetMs, std::optional<std::int64_t> valueMs,
                                        std::string verdict, std::string source,
                                        std::optional<std::int64_t> restoredAtMs) {
  json::object data{{"objective", objective}, {"target_ms", targetMs}};
  if (valueMs) {
    data["value_ms"] = *valueMs;
  }
  data["verdict"] = verdict;
  data["source"] = source;
  if (objective == "rto") {
    data["outage_start"] = formatTimestamp(at(-2000));
    data["outage_start_source"] = "trigger";
    if (restoredAtMs) {
      data["restored_at"] = formatTimestamp(at(*restoredAtMs));
    }
  }
  add(atMs, event_type::kObjectiveEvaluated, "", std::move(data));
}

void JournalBuilder::decisionRequested(std::int64_t atMs, const std::string& step,
                                       std::string question) {
  add(atMs, event_type::kDecisionRequested, step,
      json::object{{"question", question},
                   {"options", json::array{json::object{{"id", "promote"},
                                                        {"label", "Promote the standby"},
                                                        {"impact", "30s of writes refused"}},
                                           json::object{{"id", "wait"},
                                                        {"label", "Wait for the primary"},
                                                        {"impact", "outage goes on"}}}},
                   {"approvers", json::array{"dba-oncall"}},
                   {"deadline_ms", 600000},
                   {"default", "wait"}});
}

void JournalBuilder::decisionMade(std::int64_t atMs, const std::string& step, std::string choice,
                                  std::string by, std::string rationale, std::string via) {
  add(atMs, event_type::kDecisionMade, step,
      json::object{{"choice", choice}, {"by", by}, {"rationale", rationale}, {"via", via}});
}

void JournalBuilder::notifyRequested(std::int64_t atMs, const std::string& step,
                                     std::string audience, std::string message) {
  add(atMs, event_type::kNotifyRequested, step,
      json::object{{"audience", audience},
                   {"template", "restored"},
                   {"message", message},
                   {"channels", json::array{}}});
}

void JournalBuilder::runResumed(std::int64_t atMs, json::array interrupted, json::array orphans) {
  add(atMs, event_type::kRunResumed, "",
      json::object{{"agent_pid", 4000},
                   {"interrupted", std::move(interrupted)},
                   {"orphans_stopped", std::move(orphans)}});
}

void JournalBuilder::runCancelling(std::int64_t atMs, std::string reason, int signal) {
  add(atMs, event_type::kRunCancelling, "", json::object{{"reason", reason}, {"signal", signal}});
}

void JournalBuilder::runFinished(std::int64_t atMs, std::string outcome, int exitCode,
                                 std::vector<std::string> failedSteps, std::string cleanup,
                                 bool rolledBack, std::string error) {
  json::array failed;
  for (std::string& id : failedSteps) {
    failed.push_back(json::value(id));
  }
  json::object data{{"outcome", outcome},  {"exit_code", exitCode},
                    {"duration_ms", atMs}, {"failed_steps", std::move(failed)},
                    {"cleanup", cleanup},  {"rolled_back", rolledBack}};
  if (!error.empty()) {
    data["error"] = error;
  }
  add(atMs, event_type::kRunFinished, "", std::move(data));
}

std::vector<Event> passedDrill() {
  JournalBuilder journal;
  journal.runStarted(
      true,
      {
          PlanStep{.id = "lag", .target = "standby", .measuresRpo = true},
          PlanStep{.id = "fence",
                   .target = "primary",
                   .runs = false,
                   .skipReason = "when = \"real\": real failovers only"},
          PlanStep{.id = "promote",
                   .target = "standby",
                   .wave = 2,
                   .name = "Promote the standby",
                   .hasRollback = true},
          PlanStep{.id = "verify", .kind = "http", .wave = 3, .restoresService = true},
          PlanStep{.id = "tell-customers", .kind = "notify", .wave = 4},
          PlanStep{.id = "drop-copy", .target = "standby", .wave = 5, .cleanup = true},
      },
      json::object{{"rto_ms", 300000}, {"rpo_ms", 30000}});
  journal.preflightFinished(40, true, {"rpo is measured by one step only"});
  journal.stepStarted(100, "lag");
  journal.stepOutput(150, "lag", "lag 2.5s");
  journal.stepFinished(1100, "lag", "ok", 1000,
                       json::object{{"measurements", json::object{{"rpo_seconds", 2.5}}}});
  journal.objectiveMeasured(1100, "rpo", 2500, "lag");
  journal.stepFinished(1100, "fence", "skipped", 0,
                       json::object{{"reason", "when = \"real\": real failovers only"}});
  journal.stepStarted(1200, "promote");
  journal.stepFinished(4200, "promote", "ok", 3000,
                       json::object{{"outputs", json::object{{"address", "127.0.0.5"}}}});
  journal.stepStarted(4300, "verify", "http");
  journal.stepFinished(7500, "verify", "ok", 3200, json::object{{"http_status", 200}}, "main", 2);
  journal.objectiveMeasured(7500, "rto", 9500, "verify");
  journal.stepStarted(7600, "tell-customers", "notify");
  journal.notifyRequested(7600, "tell-customers", "customers", "Orders are back.");
  journal.stepFinished(7700, "tell-customers", "ok", 100);
  journal.stepStarted(7800, "drop-copy", "plugin", "cleanup");
  journal.stepFinished(8800, "drop-copy", "ok", 1000, {}, "cleanup");
  journal.objectiveEvaluated(8900, "rto", 300000, 9500, "met", "verify", 7500);
  journal.objectiveEvaluated(8900, "rpo", 30000, 2500, "met", "lag");
  journal.runFinished(9000, "done", 0, {}, "ok");
  return journal.events();
}

std::vector<Event> failedRealRunWithRollback() {
  JournalBuilder journal;
  journal.runStarted(
      false,
      {
          PlanStep{.id = "lag", .target = "standby", .measuresRpo = true},
          PlanStep{.id = "approve", .kind = "decision", .wave = 2},
          PlanStep{.id = "promote", .target = "standby", .wave = 3, .hasRollback = true},
          PlanStep{.id = "switch", .kind = "exec", .target = "standby", .wave = 4},
          PlanStep{.id = "verify", .kind = "http", .wave = 5, .restoresService = true},
      },
      json::object{{"rto_ms", 300000}, {"rpo_ms", 30000}}, 0, "run_start");
  journal.preflightFinished(30, true);
  journal.stepStarted(100, "lag");
  journal.stepFinished(600, "lag", "ok", 500,
                       json::object{{"measurements", json::object{{"rpo_seconds", 1}}}});
  journal.objectiveMeasured(600, "rpo", 1000, "lag");
  journal.stepStarted(700, "approve", "decision");
  journal.decisionRequested(700, "approve", "Promote the standby now?");
  journal.decisionMade(20700, "approve", "promote", "alice", "primary is gone for good");
  journal.stepFinished(20700, "approve", "ok", 20000);
  journal.stepStarted(20800, "promote");
  journal.stepFinished(22800, "promote", "ok", 2000);
  journal.stepStarted(22900, "switch", "exec");
  journal.stepStarted(23900, "switch", "exec", "main", 2);
  journal.stepFinished(24900, "switch", "failed", 1000,
                       json::object{{"exit_code", 3}, {"error", "switch-vip exited with 3"}},
                       "main", 2);
  journal.stepStarted(25000, "promote", "plugin", "rollback");
  journal.stepFinished(26000, "promote", "ok", 1000, {}, "rollback");
  journal.objectiveEvaluated(26100, "rto", 300000, std::nullopt, "unknown", "");
  journal.objectiveEvaluated(26100, "rpo", 30000, 1000, "met", "lag");
  journal.runFinished(26200, "failed", 1, {"switch"}, "none", true);
  return journal.events();
}

std::vector<Event> runWithUnknownRpo() {
  JournalBuilder journal;
  journal.runStarted(
      false,
      {
          PlanStep{.id = "promote", .target = "standby"},
          PlanStep{.id = "verify", .kind = "http", .wave = 2, .restoresService = true},
      },
      json::object{{"rto_ms", 60000}, {"rpo_ms", 30000}});
  journal.stepStarted(100, "promote");
  journal.stepFinished(1100, "promote", "ok", 1000);
  journal.stepStarted(1200, "verify", "http");
  journal.stepFinished(1500, "verify", "ok", 300);
  journal.objectiveMeasured(1500, "rto", 3500, "verify");
  journal.objectiveEvaluated(1600, "rto", 60000, 3500, "met", "verify", 1500);
  journal.objectiveEvaluated(1600, "rpo", 30000, std::nullopt, "unknown", "");
  journal.runFinished(1700, "done", 3);
  return journal.events();
}

std::vector<Event> interruptedAndResumedRun() {
  JournalBuilder journal;
  journal.runStarted(
      false,
      {
          PlanStep{.id = "a", .kind = "exec", .target = "standby"},
          PlanStep{.id = "b", .kind = "exec", .target = "standby", .wave = 2, .idempotent = true},
          PlanStep{.id = "c", .kind = "exec", .target = "standby", .wave = 3},
      },
      json::object{{"rto_ms", 300000}});
  journal.stepStarted(100, "a", "exec");
  journal.stepFinished(600, "a", "ok", 500, json::object{{"exit_code", 0}});
  journal.stepStarted(700, "b", "exec");
  journal.add(710, event_type::kStepProcess, "b",
              json::object{{"process_group", 4242}, {"phase", "main"}, {"attempt", 1}});
  // The agent died here; a later `lifeboat resume` goes on.
  journal.runResumed(
      60000, json::array{json::object{{"step", "b"}, {"phase", "main"}, {"resolution", "rerun"}}},
      json::array{4242});
  journal.stepStarted(60100, "b", "exec");
  journal.stepFinished(61100, "b", "ok", 1000, json::object{{"exit_code", 0}});
  journal.stepStarted(61200, "c", "exec");
  return journal.events();
}

std::vector<Event> hostileRun() {
  JournalBuilder journal;
  const std::string name(kHostileName);
  const std::string error(kHostileError);
  journal.runStarted(
      false,
      {
          PlanStep{.id = "ask", .kind = "decision", .name = name},
          PlanStep{.id = "break", .kind = "exec", .target = "standby", .wave = 2, .name = name},
      },
      json::object{{"rto_ms", 60000}}, 0, "flag", "odd<>&\"'name");
  journal.stepStarted(100, "ask", "decision");
  journal.decisionRequested(100, "ask", name + "?");
  journal.decisionMade(200, "ask", "promote", "eve <eve@example.org>", error, "terminal");
  journal.stepFinished(200, "ask", "ok", 100);
  journal.stepStarted(300, "break", "exec");
  journal.stepOutput(350, "break", error);
  journal.stepFinished(400, "break", "failed", 100,
                       json::object{{"exit_code", 1}, {"error", error}});
  journal.notifyRequested(450, "", "engineers", error);
  journal.objectiveEvaluated(500, "rto", 60000, std::nullopt, "unknown", "");
  journal.runFinished(600, "failed", 1, {"break"}, "none", false, error);
  return journal.events();
}

}  // namespace lifeboat::report::testing
