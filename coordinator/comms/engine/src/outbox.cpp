#include "outbox.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

namespace lifeboat::comms::detail {

namespace {

// Append-only, like the store's: a released step is never edited.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE comms_state (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  cursor INTEGER NOT NULL
);
INSERT INTO comms_state (id, cursor) VALUES (1, 0);
CREATE TABLE incidents (
  key            TEXT PRIMARY KEY,
  service        TEXT NOT NULL,
  drill          INTEGER NOT NULL,
  agent          TEXT NOT NULL,
  run            TEXT NOT NULL,
  runbook        TEXT NOT NULL,
  state          TEXT NOT NULL,
  opened_at      INTEGER NOT NULL,
  outage_start   INTEGER,
  restored_at    INTEGER,
  resolved_at    INTEGER,
  rto_target_ms  INTEGER,
  rpo_target_ms  INTEGER,
  rto_ms         INTEGER,
  rpo_ms         INTEGER,
  rto_verdict    TEXT NOT NULL,
  rpo_verdict    TEXT NOT NULL,
  outcome        TEXT NOT NULL,
  restores_steps TEXT NOT NULL,
  resolved_by    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX incidents_open ON incidents (service, state);
CREATE INDEX incidents_by_run ON incidents (agent, run);
CREATE TABLE messages (
  id              INTEGER PRIMARY KEY,
  dedup_key       TEXT NOT NULL UNIQUE,
  group_key       TEXT NOT NULL,
  incident        TEXT NOT NULL,
  audience        TEXT NOT NULL,
  channel         TEXT NOT NULL,
  trigger         TEXT NOT NULL,
  drill           INTEGER NOT NULL,
  resolves        INTEGER NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  facts           TEXT NOT NULL,
  state           TEXT NOT NULL,
  would_go_to     TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  sent_at         INTEGER,
  last_error      TEXT NOT NULL,
  last_status     INTEGER NOT NULL,
  approved_by     TEXT NOT NULL,
  approved_at     INTEGER,
  edited          INTEGER NOT NULL
);
CREATE INDEX messages_due ON messages (channel, state, next_attempt_at, id);
CREATE INDEX messages_by_incident ON messages (incident, id);
CREATE INDEX messages_by_group ON messages (group_key);
CREATE TABLE cadence (
  incident          TEXT NOT NULL,
  audience          TEXT NOT NULL,
  every_ms          INTEGER NOT NULL,
  next_due_at       INTEGER NOT NULL,
  last_delivered_at INTEGER NOT NULL,
  alerted_until     INTEGER NOT NULL,
  updates           INTEGER NOT NULL,
  missed            INTEGER NOT NULL,
  max_gap_ms        INTEGER NOT NULL,
  PRIMARY KEY (incident, audience)
) WITHOUT ROWID;
CREATE TABLE channel_health (
  channel              TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  last_error           TEXT NOT NULL,
  last_failure_at      INTEGER,
  last_success_at      INTEGER,
  reported             INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr int kOutboxVersion = 1;

void migrate(Connection& db) {
  Transaction transaction(db);
  Statement exists =
      db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'comms_schema'");
  const bool created = exists.step();
  int version = 0;
  if (!created) {
    Statement tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
    tables.step();
    if (tables.integer(0) > 0) {
      throw SqliteFailure{
          Error{db.file().string() + " is an SQLite database of something else (no comms_schema)",
                "`[comms] database` must name the comms engine's own file"},
          SQLITE_ERROR};
    }
    db.execute("CREATE TABLE comms_schema (version INTEGER PRIMARY KEY)");
  } else {
    Statement current = db.prepare("SELECT max(version) FROM comms_schema");
    current.step();
    version = static_cast<int>(current.optionalInteger(0).value_or(0));
  }
  if (version > kOutboxVersion) {
    throw SqliteFailure{Error{db.file().string() + " has comms schema version " +
                                  std::to_string(version) + ", newer than this coordinator knows",
                              "run the newer lifeboat-coordinator that wrote it"},
                        SQLITE_ERROR};
  }
  if (version < 1) {
    db.execute(kSchemaV1);
    db.execute("INSERT INTO comms_schema (version) VALUES (1)");
  }
  transaction.commit();
}

constexpr const char* kIncidentColumns =
    "key, service, drill, agent, run, runbook, state, opened_at, outage_start, restored_at, "
    "resolved_at, rto_target_ms, rpo_target_ms, rto_ms, rpo_ms, rto_verdict, rpo_verdict, "
    "outcome, restores_steps, resolved_by";

Incident readIncident(const Statement& row) {
  Incident incident;
  incident.key = row.text(0);
  incident.service = row.text(1);
  incident.drill = row.integer(2) != 0;
  incident.agent = row.text(3);
  incident.run = row.text(4);
  incident.runbook = row.text(5);
  incident.state = row.text(6);
  incident.openedAt = row.integer(7);
  incident.outageStart = row.optionalInteger(8);
  incident.restoredAt = row.optionalInteger(9);
  incident.resolvedAt = row.optionalInteger(10);
  incident.rtoTargetMs = row.optionalInteger(11);
  incident.rpoTargetMs = row.optionalInteger(12);
  incident.rtoMs = row.optionalInteger(13);
  incident.rpoMs = row.optionalInteger(14);
  incident.rtoVerdict = row.text(15);
  incident.rpoVerdict = row.text(16);
  incident.outcome = row.text(17);
  boost::system::error_code error;
  const boost::json::value steps = boost::json::parse(row.text(18), error);
  if (!error && steps.is_array()) {
    for (const boost::json::value& step : steps.get_array()) {
      if (step.is_string()) {
        incident.restoresSteps.emplace_back(step.get_string());
      }
    }
  }
  incident.resolvedBy = row.text(19);
  return incident;
}

std::optional<Incident> oneIncident(Statement& query) {
  if (!query.step()) {
    return std::nullopt;
  }
  return readIncident(query);
}

constexpr const char* kMessageColumns =
    "id, dedup_key, group_key, incident, audience, channel, trigger, drill, resolves, subject, "
    "body, facts, state, would_go_to, created_at, next_attempt_at, attempts, sent_at, "
    "last_error, last_status, approved_by, approved_at, edited";

MessageRow readMessage(const Statement& row) {
  MessageRow message;
  message.id = row.integer(0);
  message.dedupKey = row.text(1);
  message.groupKey = row.text(2);
  message.incident = row.text(3);
  message.audience = row.text(4);
  message.channel = row.text(5);
  message.trigger = row.text(6);
  message.drill = row.integer(7) != 0;
  message.resolves = row.integer(8) != 0;
  message.subject = row.text(9);
  message.body = row.text(10);
  message.facts = row.text(11);
  message.state = row.text(12);
  message.wouldGoTo = row.text(13);
  message.createdAt = row.integer(14);
  message.nextAttemptAt = row.integer(15);
  message.attempts = row.integer(16);
  message.sentAt = row.optionalInteger(17);
  message.lastError = row.text(18);
  message.lastStatus = row.integer(19);
  message.approvedBy = row.text(20);
  message.approvedAt = row.optionalInteger(21);
  message.edited = row.integer(22) != 0;
  return message;
}

boost::json::value optionalTime(const std::optional<std::int64_t>& millis) {
  if (!millis) {
    return nullptr;
  }
  return boost::json::value(formatTimestamp(fromMillis(*millis)));
}

}  // namespace

std::unique_ptr<Connection> openOutbox(const std::filesystem::path& file) {
  auto db = std::make_unique<Connection>(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db->execute("PRAGMA busy_timeout = 10000");
  {
    Statement mode = db->prepare("PRAGMA journal_mode = WAL");
    mode.step();
    if (mode.text(0) != "wal") {
      throw SqliteFailure{Error{"cannot switch the comms outbox " + file.string() + " to WAL mode",
                                "WAL needs a local file system that supports shared memory"},
                          SQLITE_ERROR};
    }
  }
  db->execute("PRAGMA synchronous = FULL");
  migrate(*db);
  return db;
}

std::optional<Incident> loadIncident(Connection& db, std::string_view key) {
  Statement query =
      db.prepare(std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE key = ?1");
  query.bind(1, key);
  return oneIncident(query);
}

void saveIncident(Connection& db, const Incident& incident) {
  boost::json::array steps;
  for (const std::string& step : incident.restoresSteps) {
    steps.emplace_back(step);
  }
  Statement upsert =
      db.prepare(std::string("INSERT OR REPLACE INTO incidents (") + kIncidentColumns +
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                 "?14, ?15, ?16, ?17, ?18, ?19, ?20)");
  upsert.bind(1, std::string_view(incident.key))
      .bind(2, std::string_view(incident.service))
      .bind(3, std::int64_t{incident.drill ? 1 : 0})
      .bind(4, std::string_view(incident.agent))
      .bind(5, std::string_view(incident.run))
      .bind(6, std::string_view(incident.runbook))
      .bind(7, std::string_view(incident.state))
      .bind(8, incident.openedAt)
      .bind(9, incident.outageStart)
      .bind(10, incident.restoredAt)
      .bind(11, incident.resolvedAt)
      .bind(12, incident.rtoTargetMs)
      .bind(13, incident.rpoTargetMs)
      .bind(14, incident.rtoMs)
      .bind(15, incident.rpoMs)
      .bind(16, std::string_view(incident.rtoVerdict))
      .bind(17, std::string_view(incident.rpoVerdict))
      .bind(18, std::string_view(incident.outcome))
      .bind(19, std::string_view(boost::json::serialize(steps)))
      .bind(20, std::string_view(incident.resolvedBy));
  upsert.run();
}

std::optional<Incident> openIncidentOf(Connection& db, std::string_view service) {
  Statement query = db.prepare(std::string("SELECT ") + kIncidentColumns +
                               " FROM incidents WHERE service = ?1 AND drill = 0 AND state <> "
                               "'resolved' ORDER BY opened_at DESC LIMIT 1");
  query.bind(1, service);
  return oneIncident(query);
}

std::optional<Incident> incidentOfRun(Connection& db, std::string_view agent,
                                      std::string_view run) {
  Statement query = db.prepare(std::string("SELECT ") + kIncidentColumns +
                               " FROM incidents WHERE agent = ?1 AND run = ?2 LIMIT 1");
  query.bind(1, agent).bind(2, run);
  return oneIncident(query);
}

std::vector<Incident> openIncidents(Connection& db) {
  Statement query = db.prepare(std::string("SELECT ") + kIncidentColumns +
                               " FROM incidents WHERE state <> 'resolved' ORDER BY opened_at");
  std::vector<Incident> result;
  while (query.step()) {
    result.push_back(readIncident(query));
  }
  return result;
}

bool insertMessage(Connection& db, MessageRow& row) {
  Statement insert = db.prepare(
      std::string("INSERT OR IGNORE INTO messages (") + (kMessageColumns + 4) +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
      "?18, ?19, ?20, ?21, ?22)");
  insert.bind(1, std::string_view(row.dedupKey))
      .bind(2, std::string_view(row.groupKey))
      .bind(3, std::string_view(row.incident))
      .bind(4, std::string_view(row.audience))
      .bind(5, std::string_view(row.channel))
      .bind(6, std::string_view(row.trigger))
      .bind(7, std::int64_t{row.drill ? 1 : 0})
      .bind(8, std::int64_t{row.resolves ? 1 : 0})
      .bind(9, std::string_view(row.subject))
      .bind(10, std::string_view(row.body))
      .bind(11, std::string_view(row.facts))
      .bind(12, std::string_view(row.state))
      .bind(13, std::string_view(row.wouldGoTo))
      .bind(14, row.createdAt)
      .bind(15, row.nextAttemptAt)
      .bind(16, row.attempts)
      .bind(17, row.sentAt)
      .bind(18, std::string_view(row.lastError))
      .bind(19, row.lastStatus)
      .bind(20, std::string_view(row.approvedBy))
      .bind(21, row.approvedAt)
      .bind(22, std::int64_t{row.edited ? 1 : 0});
  insert.run();
  if (db.changes() == 0) {
    return false;
  }
  row.id = db.lastInsertId();
  return true;
}

std::optional<MessageRow> loadMessage(Connection& db, std::int64_t id) {
  Statement query =
      db.prepare(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?1");
  query.bind(1, id);
  if (!query.step()) {
    return std::nullopt;
  }
  return readMessage(query);
}

std::optional<MessageRow> nextPending(Connection& db, std::string_view channel) {
  Statement query = db.prepare(std::string("SELECT ") + kMessageColumns +
                               " FROM messages WHERE channel = ?1 AND state = 'pending' "
                               "ORDER BY next_attempt_at, id LIMIT 1");
  query.bind(1, channel);
  if (!query.step()) {
    return std::nullopt;
  }
  return readMessage(query);
}

std::vector<MessageRow> messagesWhere(Connection& db, std::string_view incident,
                                      std::string_view state, std::size_t limit) {
  Statement query = db.prepare(std::string("SELECT ") + kMessageColumns +
                               " FROM messages WHERE (?1 = '' OR incident = ?1) AND "
                               "(?2 = '' OR state = ?2) ORDER BY id DESC LIMIT ?3");
  query.bind(1, incident).bind(2, state).bind(3, static_cast<std::int64_t>(limit));
  std::vector<MessageRow> result;
  while (query.step()) {
    result.push_back(readMessage(query));
  }
  return result;
}

boost::json::object messageJson(const MessageRow& row) {
  boost::json::object out;
  out["id"] = row.id;
  out["dedup_key"] = row.dedupKey;
  out["incident"] = row.incident;
  out["audience"] = row.audience;
  out["channel"] = row.channel;
  out["trigger"] = row.trigger;
  out["drill"] = row.drill;
  out["state"] = row.state;
  out["subject"] = row.subject;
  out["body"] = row.body;
  out["created_at"] = formatTimestamp(fromMillis(row.createdAt));
  out["sent_at"] = optionalTime(row.sentAt);
  out["attempts"] = row.attempts;
  out["next_attempt_at"] =
      row.state == "pending" ? optionalTime(row.nextAttemptAt) : boost::json::value(nullptr);
  out["last_error"] = row.lastError;
  out["last_status"] = row.lastStatus;
  out["approved_by"] = row.approvedBy;
  out["approved_at"] = optionalTime(row.approvedAt);
  out["edited"] = row.edited;
  out["would_go_to"] = row.wouldGoTo;
  return out;
}

std::int64_t cursor(Connection& db) {
  Statement query = db.prepare("SELECT cursor FROM comms_state WHERE id = 1");
  query.step();
  return query.integer(0);
}

void setCursor(Connection& db, std::int64_t id) {
  Statement update = db.prepare("UPDATE comms_state SET cursor = ?1 WHERE id = 1");
  update.bind(1, id);
  update.run();
}

}  // namespace lifeboat::comms::detail
