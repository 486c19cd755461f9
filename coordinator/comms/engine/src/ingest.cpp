#include "ingest.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <string>

namespace lifeboat::comms::detail {

namespace {

std::string stringAt(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::optional<std::int64_t> integerAt(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value != nullptr && value->is_int64()) {
    return value->get_int64();
  }
  if (value != nullptr && value->is_uint64()) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  return std::nullopt;
}

bool boolAt(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_bool() && value->get_bool();
}

std::optional<std::int64_t> timeAt(const boost::json::object& object, std::string_view key) {
  const std::string text = stringAt(object, key);
  if (text.empty()) {
    return std::nullopt;
  }
  Result<Timestamp> time = parseTimestamp(text);
  if (!time) {
    return std::nullopt;
  }
  return toMillis(*time);
}

const boost::json::object& objectAt(const boost::json::object& object, std::string_view key) {
  static const boost::json::object empty;
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? value->get_object() : empty;
}

// "promote: Promote the standby (impact: ...); wait: ..." for {{options}}.
std::string optionsText(const boost::json::object& data) {
  std::string text;
  const boost::json::value* options = data.if_contains("options");
  if (options == nullptr || !options->is_array()) {
    return text;
  }
  for (const boost::json::value& option : options->get_array()) {
    if (!option.is_object()) {
      continue;
    }
    const auto& fields = option.get_object();
    text += text.empty() ? "" : "; ";
    text += stringAt(fields, "id");
    if (const std::string label = stringAt(fields, "label"); !label.empty()) {
      text += ": " + label;
    }
    if (const std::string impact = stringAt(fields, "impact"); !impact.empty()) {
      text += " (impact: " + impact + ")";
    }
  }
  return text;
}

void fillFromRunStarted(Incident& incident, const boost::json::object& event,
                        const boost::json::object& data) {
  incident.agent = stringAt(event, "agent");
  incident.run = stringAt(event, "run");
  incident.runbook = stringAt(data, "runbook_name");
  if (auto outage = timeAt(data, "outage_start")) {
    // A trigger's outage start is earlier than the run; keep the earliest.
    incident.outageStart =
        incident.outageStart ? std::min(*incident.outageStart, *outage) : *outage;
  }
  const boost::json::object& objectives = objectAt(data, "objectives");
  incident.rtoTargetMs = integerAt(objectives, "rto_ms");
  incident.rpoTargetMs = integerAt(objectives, "rpo_ms");
  incident.restoresSteps.clear();
  if (const boost::json::value* steps = data.if_contains("steps");
      steps != nullptr && steps->is_array()) {
    for (const boost::json::value& step : steps->get_array()) {
      if (step.is_object() && boolAt(step.get_object(), "restores_service") &&
          (step.get_object().if_contains("runs") == nullptr || boolAt(step.get_object(), "runs"))) {
        incident.restoresSteps.push_back(stringAt(step.get_object(), "id"));
      }
    }
  }
  incident.state = "failing_over";
}

}  // namespace

std::size_t Ingest::open(Connection& db, Incident incident, std::int64_t now) const {
  saveIncident(db, incident);
  composer_.startCadence(db, incident, now);
  return composer_.announce(db, incident, Occasion{Trigger::opened}, now);
}

std::size_t Ingest::close(Connection& db, Incident& incident, std::int64_t at,
                          std::int64_t now) const {
  incident.state = "resolved";
  incident.resolvedAt = at;
  saveIncident(db, incident);
  return composer_.announce(db, incident, Occasion{Trigger::resolved}, now);
}

std::size_t Ingest::apply(Connection& db, const boost::json::object& event,
                          std::int64_t now) const {
  const std::string type = stringAt(event, "type");
  const std::string id = std::to_string(integerAt(event, "id").value_or(0));
  const std::int64_t at = timeAt(event, "ts").value_or(now);
  const boost::json::object& data = objectAt(event, "data");
  const std::string agent = stringAt(event, "agent");
  const std::string run = stringAt(event, "run");

  if (type == "run.started") {
    if (incidentOfRun(db, agent, run)) {
      return 0;  // a resumed run that started again
    }
    const std::string service = stringAt(data, "service");
    if (boolAt(data, "drill")) {
      Incident incident;
      incident.key = "drill-" + id;
      incident.service = service;
      incident.drill = true;
      incident.openedAt = at;
      fillFromRunStarted(incident, event, data);
      return open(db, std::move(incident), now);
    }
    if (std::optional<Incident> existing = openIncidentOf(db, service)) {
      // The failover of an outage already declared: the same incident.
      fillFromRunStarted(*existing, event, data);
      saveIncident(db, *existing);
      return 0;
    }
    Incident incident;
    incident.key = "inc-" + id;
    incident.service = service;
    incident.openedAt = at;
    fillFromRunStarted(incident, event, data);
    return open(db, std::move(incident), now);
  }
  if (type == "outage.declared") {
    const std::string service = stringAt(data, "service");
    if (service.empty() || openIncidentOf(db, service)) {
      return 0;
    }
    Incident incident;
    incident.key = "inc-" + id;
    incident.service = service;
    incident.agent = agent;
    incident.openedAt = at;
    incident.outageStart = timeAt(data, "outage_start");
    return open(db, std::move(incident), now);
  }
  if (type == "outage.recovered") {
    std::optional<Incident> incident = openIncidentOf(db, stringAt(data, "service"));
    // The service came back by itself before any failover started.
    if (incident && incident->run.empty() && boolAt(data, "declared")) {
      return close(db, *incident, at, now);
    }
    return 0;
  }
  if (run.empty()) {
    return 0;
  }
  std::optional<Incident> incident = incidentOfRun(db, agent, run);
  if (!incident || incident->state == "resolved") {
    return 0;
  }
  const std::string step = stringAt(event, "step");
  if (type == "step.finished") {
    if (stringAt(data, "status") != "ok" || stringAt(data, "phase") != "main") {
      return 0;
    }
    std::size_t made = 0;
    const bool restores = std::find(incident->restoresSteps.begin(), incident->restoresSteps.end(),
                                    step) != incident->restoresSteps.end();
    if (restores && !incident->restoredAt) {
      incident->restoredAt = at;
      incident->state = "restored";
      saveIncident(db, *incident);
      made += composer_.announce(db, *incident, Occasion{Trigger::restored, step, {{"step", step}}},
                                 now);
    }
    made += composer_.announce(db, *incident, Occasion{Trigger::milestone, step, {{"step", step}}},
                               now);
    return made;
  }
  if (type == "objective.measured" || type == "objective.evaluated") {
    const std::string objective = stringAt(data, "objective");
    const std::optional<std::int64_t> value = integerAt(data, "value_ms");
    if (objective == "rto") {
      incident->rtoMs = value ? value : incident->rtoMs;
    } else if (objective == "rpo") {
      incident->rpoMs = value ? value : incident->rpoMs;
    }
    if (type == "objective.measured") {
      saveIncident(db, *incident);
      return 0;
    }
    const std::string verdict = stringAt(data, "verdict");
    (objective == "rto" ? incident->rtoVerdict : incident->rpoVerdict) = verdict;
    saveIncident(db, *incident);
    if (verdict != "breached") {
      return 0;
    }
    return composer_.announce(
        db, *incident, Occasion{Trigger::breached, objective, {{"objective", objective}}}, now);
  }
  if (type == "decision.requested") {
    return composer_.announce(db, *incident,
                              Occasion{Trigger::decision,
                                       step,
                                       {{"step", step},
                                        {"decision", stringAt(data, "question")},
                                        {"options", optionsText(data)}}},
                              now);
  }
  if (type == "notify.requested") {
    Occasion occasion{Trigger::notify, "e" + id, {{"message", stringAt(data, "message")}}};
    occasion.audience = stringAt(data, "audience");
    if (const std::string name = stringAt(data, "template"); !name.empty()) {
      occasion.extra["template"] = name;
    }
    occasion.text = TemplateText{{}, "{{service_name}}: {{state}}", "{{message}}"};
    return composer_.announce(db, *incident, occasion, now);
  }
  if (type == "run.finished") {
    const std::string outcome = stringAt(data, "outcome");
    incident->outcome = outcome;
    if (incident->drill || outcome == "done") {
      return close(db, *incident, at, now);
    }
    incident->state = "failed";
    saveIncident(db, *incident);
    return composer_.alertRole(
        db, "incident_commander", &*incident, "failover_failed", run,
        "Failover of " + incident->service + " ended " + outcome,
        "Run " + run + " of runbook " + incident->runbook + " on " + agent + " ended " + outcome +
            ". The incident " + incident->key +
            " stays open: resolve it in the dashboard once the service is back.",
        now);
  }
  return 0;
}

std::size_t Ingest::tick(Connection& db, std::int64_t now,
                         std::optional<std::int64_t>& nextWake) const {
  auto wakeAt = [&](std::int64_t at) { nextWake = nextWake ? std::min(*nextWake, at) : at; };
  std::size_t made = 0;
  for (Incident& incident : openIncidents(db)) {
    // The RTO budget ran out before the service was restored: say so now,
    // not when the run ends (the later evaluation has the same dedup key).
    if (incident.rtoTargetMs && !incident.restoredAt && incident.state != "failed") {
      const std::int64_t deadline =
          incident.outageStart.value_or(incident.openedAt) + *incident.rtoTargetMs;
      if (now >= deadline) {
        made += composer_.announce(db, incident,
                                   Occasion{Trigger::breached, "rto", {{"objective", "rto"}}}, now);
      } else {
        wakeAt(deadline);
      }
    }
    struct Row {
      std::string audience;
      std::int64_t every, nextDue, lastDelivered, alertedUntil;
    };
    std::vector<Row> rows;
    {
      Statement query = db.prepare(
          "SELECT audience, every_ms, next_due_at, last_delivered_at, alerted_until FROM cadence "
          "WHERE incident = ?1");
      query.bind(1, std::string_view(incident.key));
      while (query.step()) {
        rows.push_back({query.text(0), query.integer(1), query.integer(2), query.integer(3),
                        query.integer(4)});
      }
    }
    for (const Row& row : rows) {
      if (now >= row.nextDue) {
        const std::size_t queued = composer_.announce(
            db, incident,
            Occasion{Trigger::update, std::to_string(row.nextDue), {{"audience", row.audience}}},
            now);
        made += queued;
        if (queued == 0) {
          Statement skip = db.prepare(
              "UPDATE cadence SET next_due_at = ?3 WHERE incident = ?1 AND audience = ?2");
          skip.bind(1, std::string_view(incident.key))
              .bind(2, std::string_view(row.audience))
              .bind(3, now + row.every);
          skip.run();
        }
        wakeAt(now + row.every);
      } else {
        wakeAt(row.nextDue);
      }
      // Missing an update is itself an alert to the incident commander.
      // A tenth of the period to get it out, at least 1 s, at most 5 minutes.
      const std::int64_t grace = std::clamp<std::int64_t>(row.every / 10, 1000, 300'000);
      // One alert per period without a delivered update.
      const std::int64_t periods =
          std::max<std::int64_t>(1, (now - row.lastDelivered - grace) / row.every);
      const std::int64_t deadline = row.lastDelivered + periods * row.every + grace;
      if (now >= deadline && row.alertedUntil < deadline) {
        made += composer_.alertRole(
            db, "incident_commander", &incident, "cadence_missed", std::to_string(deadline),
            "Missed update: " + row.audience + " about " + incident.service,
            "No update reached " + row.audience + " since " + humanTime(row.lastDelivered) +
                " although the plan promises one every " + humanDuration(row.every) +
                ". Check messages waiting for approval and failing channels (incident " +
                incident.key + ").",
            now);
        Statement missed = db.prepare(
            "UPDATE cadence SET missed = missed + 1, alerted_until = ?3 WHERE incident = ?1 AND "
            "audience = ?2");
        missed.bind(1, std::string_view(incident.key))
            .bind(2, std::string_view(row.audience))
            .bind(3, deadline);
        missed.run();
      } else if (now < deadline) {
        wakeAt(deadline);
      } else {
        wakeAt(deadline + row.every);
      }
    }
  }
  return made;
}

}  // namespace lifeboat::comms::detail
