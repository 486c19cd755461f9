#pragma once
// Builders for the events of a scripted run, with `data` as docs/protocol.md
// "Types and their `data`" specifies, at times relative to the run's start.

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::live::testing {

namespace json = boost::json;
using std::chrono::milliseconds;

inline Timestamp runStart() {
  return *parseTimestamp("2026-11-24T22:56:10.000Z");
}

struct PlannedStep {
  std::string id;
  bool runs = true;
  std::string skipReason = {};
  std::string name = {};
  int attempts = 0;  // 0: not sent
};

class Script {
 public:
  Event at(milliseconds offset, std::string type, std::string step, json::object data) {
    Event event;
    event.agent = "db-eu-1";
    event.run = "20261124T225610Z-k3f9";
    event.seq = ++seq_;
    event.time = runStart() + offset;
    event.type = std::move(type);
    event.step = std::move(step);
    event.data = std::move(data);
    return event;
  }

  // A drill whose outage started a minute before the run, RTO 5m, RPO 30s.
  Event runStarted(const std::vector<PlannedStep>& steps, bool drill = true) {
    json::array planned;
    int wave = 0;
    for (const PlannedStep& step : steps) {
      json::object entry{{"id", step.id},         {"name", step.name.empty() ? step.id : step.name},
                         {"kind", "exec"},        {"target", "standby"},
                         {"wave", wave++},        {"cleanup", false},
                         {"runs", step.runs},     {"restores_service", false},
                         {"measures_rpo", false}, {"idempotent", false},
                         {"has_rollback", false}};
      if (!step.runs) {
        entry["skip_reason"] = step.skipReason;
      }
      if (step.attempts > 0) {
        entry["attempts"] = step.attempts;
      }
      planned.push_back(std::move(entry));
    }
    return at(milliseconds(0), "run.started", "",
              json::object{{"runbook", "runbooks/orders.toml"},
                           {"runbook_name", "orders-db-failover"},
                           {"runbook_sha256", std::string(64, 'a')},
                           {"service", "orders"},
                           {"drill", drill},
                           {"started_at", formatTimestamp(runStart())},
                           {"outage_start", formatTimestamp(runStart() - milliseconds(60'000))},
                           {"outage_start_source", "flag"},
                           {"objectives", {{"rto_ms", 300'000}, {"rpo_ms", 30'000}}},
                           {"variables", json::object{}},
                           {"agent_pid", 4242},
                           {"steps", std::move(planned)}});
  }

  Event preflight(milliseconds offset, bool ok, std::vector<std::string> warnings = {}) {
    json::array warningList;
    for (std::string& warning : warnings) {
      warningList.push_back(json::value(warning));
    }
    return at(
        offset, "preflight.finished", "",
        json::object{{"ok", ok},
                     {"checks",
                      {{{"check", "plugins"}, {"ok", true}, {"detail", ""}},
                       {{"check", "secrets"}, {"ok", true}, {"detail", ""}},
                       {{"check", "lock"}, {"ok", ok}, {"detail", ok ? "" : "held by pid 7"}}}},
                     {"warnings", std::move(warningList)}});
  }

  Event stepStarted(milliseconds offset, std::string step, int attempt = 1,
                    std::string phase = "main") {
    return at(offset, "step.started", std::move(step),
              json::object{{"kind", "exec"}, {"phase", phase}, {"attempt", attempt}});
  }

  Event stepOutput(milliseconds offset, std::string step, std::string stream, std::string text) {
    return at(offset, "step.output", std::move(step),
              json::object{{"stream", stream}, {"text", text}});
  }

  Event stepFinished(milliseconds offset, std::string step, std::string status,
                     std::int64_t durationMs, std::string error = {}, int attempts = 1) {
    json::object data{{"status", status},          {"phase", "main"},
                      {"attempts", attempts},      {"duration_ms", durationMs},
                      {"outputs", json::object{}}, {"measurements", json::object{}}};
    if (!error.empty()) {
      data[status == "skipped" ? "reason" : "error"] = error;
    }
    if (status == "ok" || status == "failed") {
      data["exit_code"] = status == "ok" ? 0 : 1;
    }
    return at(offset, "step.finished", std::move(step), std::move(data));
  }

  Event objectiveMeasured(milliseconds offset, std::string objective, std::int64_t valueMs,
                          std::string source) {
    return at(offset, "objective.measured", source,
              json::object{{"objective", objective}, {"value_ms", valueMs}, {"source", source}});
  }

  Event objectiveEvaluated(milliseconds offset, std::string objective, std::int64_t targetMs,
                           std::optional<std::int64_t> valueMs, std::string verdict,
                           std::string source) {
    json::object data{{"objective", objective},
                      {"target_ms", targetMs},
                      {"verdict", verdict},
                      {"source", source}};
    if (valueMs) {
      data["value_ms"] = *valueMs;
    }
    return at(offset, "objective.evaluated", "", std::move(data));
  }

  Event decisionRequested(milliseconds offset, std::string step) {
    return at(
        offset, "decision.requested", std::move(step),
        json::object{
            {"question", "Promote the standby now?"},
            {"options",
             {{{"id", "promote"}, {"label", "Promote now"}, {"impact", "up to 30s of orders lost"}},
              {{"id", "wait"}, {"label", "Wait for the primary"}, {"impact", "outage continues"}}}},
            {"approvers", {"alice", "bob"}},
            {"deadline_ms", 120'000},
            {"default", "wait"}});
  }

  Event decisionMade(milliseconds offset, std::string step) {
    return at(offset, "decision.made", std::move(step),
              json::object{{"choice", "promote"},
                           {"by", "alice"},
                           {"rationale", "primary disk is gone"},
                           {"via", "terminal"}});
  }

  Event notify(milliseconds offset, std::string step) {
    return at(offset, "notify.requested", std::move(step),
              json::object{{"audience", "customers"},
                           {"template", "restored"},
                           {"message", "Orders are back."},
                           {"channels", json::array{}}});
  }

  Event runFinished(milliseconds offset, std::string outcome, int exitCode,
                    std::vector<std::string> failedSteps = {}) {
    json::array failed;
    for (std::string& id : failedSteps) {
      failed.push_back(json::value(id));
    }
    return at(offset, "run.finished", "",
              json::object{{"outcome", outcome},
                           {"exit_code", exitCode},
                           {"duration_ms", offset.count()},
                           {"failed_steps", std::move(failed)},
                           {"cleanup", "ok"},
                           {"rolled_back", false}});
  }

 private:
  std::uint64_t seq_ = 0;
};

}  // namespace lifeboat::live::testing
