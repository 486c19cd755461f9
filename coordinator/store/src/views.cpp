// Store's read-only views: the shapes docs/coordinator.md gives the API.

#include <boost/json/parse.hpp>
#include <limits>

#include "store_impl.hpp"
#include "timeline.hpp"

namespace lifeboat::store {

using detail::Connection;
using detail::guarded;
using detail::SqliteFailure;
using detail::Statement;

namespace {

std::int64_t sqlLimit(std::size_t limit) {
  constexpr auto kMost = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit < kMost ? limit : kMost);
}

// JSON text the store wrote itself; a row that does not parse is damage.
boost::json::object parseStored(const Connection& db, const std::string& text,
                                std::string_view where) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error);
  if (error || !value.is_object()) {
    throw SqliteFailure{
        Error{"the coordinator database " + db.file().string() +
                  " holds data that is not a JSON object (" + std::string(where) + ")",
              "restore it from a backup"},
        SQLITE_CORRUPT};
  }
  return std::move(value.get_object());
}

constexpr const char* kAgentColumns =
    "SELECT name, online, first_seen, last_seen, hostname, version, address, last_seq, events "
    "FROM agents";

boost::json::object agentJson(const Statement& row) {
  boost::json::object agent;
  agent.emplace("name", row.text(0));
  agent.emplace("online", row.integer(1) != 0);
  agent.emplace("first_seen", detail::timeJson(row.optionalInteger(2)));
  agent.emplace("last_seen", detail::timeJson(row.optionalInteger(3)));
  agent.emplace("hostname", detail::nonEmptyJson(row.text(4)));
  agent.emplace("version", detail::nonEmptyJson(row.text(5)));
  agent.emplace("address", detail::nonEmptyJson(row.text(6)));
  if (const auto seq = row.optionalInteger(7)) {
    agent.emplace("last_seq", static_cast<std::uint64_t>(*seq));
  } else {
    agent.emplace("last_seq", nullptr);
  }
  agent.emplace("events", row.integer(8));
  return agent;
}

constexpr const char* kRunColumns =
    "SELECT agent, run, runbook_name, service, drill, started_at, finished_at, outcome, "
    "outage_start, rto_target_ms, rto_value_ms, rto_verdict, rpo_target_ms, rpo_value_ms, "
    "rpo_verdict, events FROM runs";

boost::json::object objectiveJson(const Statement& row, int first) {
  boost::json::object objective;
  objective.emplace("target_ms", detail::integerJson(row.optionalInteger(first)));
  objective.emplace("value_ms", detail::integerJson(row.optionalInteger(first + 1)));
  objective.emplace("verdict", detail::textJson(row.optionalText(first + 2)));
  return objective;
}

boost::json::object runJson(const Statement& row) {
  boost::json::object run;
  run.emplace("agent", row.text(0));
  run.emplace("run", row.text(1));
  run.emplace("runbook_name", detail::textJson(row.optionalText(2)));
  run.emplace("service", detail::textJson(row.optionalText(3)));
  if (const auto drill = row.optionalInteger(4)) {
    run.emplace("drill", *drill != 0);
  } else {
    run.emplace("drill", nullptr);
  }
  run.emplace("started_at", detail::timeJson(row.optionalInteger(5)));
  const auto finishedAt = row.optionalInteger(6);
  run.emplace("finished_at", detail::timeJson(finishedAt));
  run.emplace("outcome", detail::textJson(row.optionalText(7)));
  run.emplace("live", !finishedAt.has_value());
  run.emplace("outage_start", detail::timeJson(row.optionalInteger(8)));
  run.emplace("rto", objectiveJson(row, 9));
  run.emplace("rpo", objectiveJson(row, 12));
  run.emplace("events", row.integer(15));
  return run;
}

// decision.requested's data and decision.made's, side by side per request.
boost::json::array decisionsOf(Connection& db, std::string_view agent, std::string_view run) {
  Statement rows = db.prepare(
      "SELECT step, requested_at, request, made_at, made FROM decisions "
      "WHERE agent = ?1 AND run = ?2 ORDER BY id");
  rows.bind(1, agent).bind(2, run);
  boost::json::array decisions;
  while (rows.step()) {
    boost::json::object decision;
    decision.emplace("step", rows.text(0));
    const auto request = rows.optionalText(2);
    const auto made = rows.optionalText(4);
    decision.emplace("status", made ? "made" : "pending");
    decision.emplace("requested_at", detail::timeJson(rows.optionalInteger(1)));
    decision.emplace("request", request ? boost::json::value(parseStored(db, *request, "decision"))
                                        : boost::json::value(nullptr));
    decision.emplace("made_at", detail::timeJson(rows.optionalInteger(3)));
    decision.emplace("made", made ? boost::json::value(parseStored(db, *made, "decision"))
                                  : boost::json::value(nullptr));
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

boost::json::array notesOf(Connection& db, std::string_view agent, std::string_view run) {
  Statement rows = db.prepare(
      "SELECT id, author, time, text FROM notes WHERE agent = ?1 AND run = ?2 ORDER BY id");
  rows.bind(1, agent).bind(2, run);
  boost::json::array notes;
  while (rows.step()) {
    boost::json::object note;
    note.emplace("id", rows.integer(0));
    note.emplace("author", rows.text(1));
    note.emplace("time", detail::timeJson(rows.integer(2)));
    note.emplace("text", rows.text(3));
    notes.push_back(std::move(note));
  }
  return notes;
}

}  // namespace

Result<boost::json::array> Store::agents() {
  return guarded<boost::json::array>([&]() -> boost::json::array {
    Statement rows = impl_->db.prepare(std::string(kAgentColumns) + " ORDER BY name");
    boost::json::array agents;
    while (rows.step()) {
      agents.push_back(agentJson(rows));
    }
    return agents;
  });
}

Result<std::optional<boost::json::object>> Store::agent(std::string_view name) {
  return guarded<std::optional<boost::json::object>>([&]() -> std::optional<boost::json::object> {
    Statement row = impl_->db.prepare(std::string(kAgentColumns) + " WHERE name = ?1");
    row.bind(1, name);
    if (!row.step()) {
      return std::nullopt;
    }
    return agentJson(row);
  });
}

Result<boost::json::array> Store::runs(const RunFilter& filter) {
  return guarded<boost::json::array>([&]() -> boost::json::array {
    Statement rows =
        impl_->db.prepare(std::string(kRunColumns) +
                          " WHERE (?1 = '' OR agent = ?1) AND (?2 = '' OR service = ?2) AND "
                          "(?3 = 0 OR finished_at IS NULL) "
                          "ORDER BY coalesce(started_at, first_ts) DESC, agent, run LIMIT ?4");
    rows.bind(1, std::string_view(filter.agent))
        .bind(2, std::string_view(filter.service))
        .bind(3, std::int64_t{filter.liveOnly ? 1 : 0})
        .bind(4, sqlLimit(filter.limit));
    boost::json::array runs;
    while (rows.step()) {
      runs.push_back(runJson(rows));
    }
    return runs;
  });
}

Result<std::optional<boost::json::object>> Store::run(std::string_view agent,
                                                      std::string_view run) {
  return guarded<std::optional<boost::json::object>>([&]() -> std::optional<boost::json::object> {
    Connection& db = impl_->db;
    // One read transaction, so that the summary, the steps and the rest
    // show the same moment while the writer commits beside us.
    db.execute("BEGIN");
    try {
      std::optional<boost::json::object> found;
      {
        Statement row = db.prepare(std::string(kRunColumns) + " WHERE agent = ?1 AND run = ?2");
        row.bind(1, agent).bind(2, run);
        if (row.step()) {
          found = runJson(row);
        }
      }
      if (!found) {
        db.execute("COMMIT");
        return std::nullopt;
      }
      boost::json::object& summary = *found;
      std::vector<detail::StepEvent> stepEvents;
      boost::json::array objectives;
      {
        Statement rows = db.prepare(
            "SELECT ts, type, step, data FROM events WHERE run = ?2 AND agent = ?1 AND type IN "
            "('run.started', 'step.started', 'step.finished', 'objective.measured', "
            "'objective.evaluated') ORDER BY id");
        rows.bind(1, agent).bind(2, run);
        while (rows.step()) {
          detail::StepEvent event{.ts = rows.integer(0),
                                  .type = rows.text(1),
                                  .step = rows.text(2),
                                  .data = parseStored(db, rows.text(3), "event data")};
          if (event.type.starts_with("objective.")) {
            boost::json::object objective;
            objective.emplace("type", event.type);
            objective.emplace("time", detail::timeJson(event.ts));
            objective.emplace("step", detail::nonEmptyJson(event.step));
            for (const auto& [key, value] : event.data) {
              objective.emplace(key, value);
            }
            objectives.push_back(std::move(objective));
          } else {
            stepEvents.push_back(std::move(event));
          }
        }
      }
      summary.emplace("steps", detail::buildSteps(stepEvents));
      summary.emplace("objectives", std::move(objectives));
      summary.emplace("decisions", decisionsOf(db, agent, run));
      summary.emplace("notes", notesOf(db, agent, run));
      db.execute("COMMIT");
      return found;
    } catch (const SqliteFailure&) {
      db.rollback();
      throw;
    }
  });
}

Result<boost::json::array> Store::events(const EventFilter& filter) {
  return guarded<boost::json::array>([&]() -> boost::json::array {
    Connection& db = impl_->db;
    std::string sql = "SELECT id, agent, run, seq, ts, type, step, data FROM events WHERE id > ?1";
    if (!filter.agent.empty()) {
      sql += " AND agent = ?2";
    }
    if (!filter.run.empty()) {
      sql += " AND run = ?3";
    }
    sql += " ORDER BY id LIMIT ?4";
    Statement rows = db.prepare(sql);
    rows.bind(1, filter.afterId).bind(4, sqlLimit(filter.limit));
    if (!filter.agent.empty()) {
      rows.bind(2, std::string_view(filter.agent));
    }
    if (!filter.run.empty()) {
      rows.bind(3, std::string_view(filter.run));
    }
    boost::json::array events;
    while (rows.step()) {
      Event event;
      event.agent = rows.text(1);
      event.run = rows.text(2);
      event.seq = static_cast<std::uint64_t>(rows.integer(3));
      event.time = detail::fromMillis(rows.integer(4));
      event.type = rows.text(5);
      event.step = rows.text(6);
      event.data = parseStored(db, rows.text(7), "event data");
      events.push_back(eventJson(rows.integer(0), event));
    }
    return events;
  });
}

Result<boost::json::array> Store::objectives(std::string_view service, std::size_t limit) {
  return guarded<boost::json::array>([&]() -> boost::json::array {
    Statement rows = impl_->db.prepare(
        "SELECT o.agent, o.run, r.service, r.drill, o.objective, o.target_ms, o.value_ms, "
        "o.verdict, o.time FROM objectives o JOIN runs r ON r.agent = o.agent AND r.run = o.run "
        "WHERE (?1 = '' OR r.service = ?1) ORDER BY o.time DESC, o.event_id DESC LIMIT ?2");
    rows.bind(1, service).bind(2, sqlLimit(limit));
    boost::json::array objectives;
    while (rows.step()) {
      boost::json::object objective;
      objective.emplace("agent", rows.text(0));
      objective.emplace("run", rows.text(1));
      objective.emplace("service", detail::textJson(rows.optionalText(2)));
      if (const auto drill = rows.optionalInteger(3)) {
        objective.emplace("drill", *drill != 0);
      } else {
        objective.emplace("drill", nullptr);
      }
      objective.emplace("objective", rows.text(4));
      objective.emplace("target_ms", detail::integerJson(rows.optionalInteger(5)));
      objective.emplace("value_ms", detail::integerJson(rows.optionalInteger(6)));
      objective.emplace("verdict", detail::textJson(rows.optionalText(7)));
      objective.emplace("time", detail::timeJson(rows.integer(8)));
      objectives.push_back(std::move(objective));
    }
    return objectives;
  });
}

}  // namespace lifeboat::store
