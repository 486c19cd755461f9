#include "schema.hpp"

#include <array>
#include <string>

namespace lifeboat::store::detail {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append-only: a released migration is never edited; a change is a new entry.
// Times are milliseconds since 1970 UTC; seq is the uint64 as its int64 bit
// pattern (only compared for equality in SQL).
constexpr std::array<Migration, 1> kMigrations{{
    {1, R"sql(
CREATE TABLE events (
  id    INTEGER PRIMARY KEY,
  agent TEXT NOT NULL CHECK (agent <> ''),
  run   TEXT NOT NULL,
  seq   INTEGER NOT NULL,
  ts    INTEGER NOT NULL,
  type  TEXT NOT NULL CHECK (type <> ''),
  step  TEXT NOT NULL,
  data  TEXT NOT NULL,
  UNIQUE (agent, seq)
);
CREATE INDEX events_by_agent ON events (agent, id);
CREATE INDEX events_by_run ON events (run, agent, id);

CREATE TABLE agents (
  name       TEXT PRIMARY KEY,
  first_seen INTEGER,
  last_seen  INTEGER,
  hostname   TEXT NOT NULL DEFAULT '',
  version    TEXT NOT NULL DEFAULT '',
  address    TEXT NOT NULL DEFAULT '',
  online     INTEGER NOT NULL DEFAULT 0,
  last_seq   INTEGER,
  events     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE runs (
  agent         TEXT NOT NULL,
  run           TEXT NOT NULL,
  runbook_name  TEXT,
  service       TEXT,
  drill         INTEGER,
  started_at    INTEGER,
  finished_at   INTEGER,
  outcome       TEXT,
  outage_start  INTEGER,
  rto_target_ms INTEGER,
  rto_value_ms  INTEGER,
  rto_verdict   TEXT,
  rpo_target_ms INTEGER,
  rpo_value_ms  INTEGER,
  rpo_verdict   TEXT,
  first_ts      INTEGER NOT NULL,
  events        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (agent, run)
) WITHOUT ROWID;
CREATE INDEX runs_newest ON runs (coalesce(started_at, first_ts));

CREATE TABLE objectives (
  event_id  INTEGER PRIMARY KEY REFERENCES events (id),
  agent     TEXT NOT NULL,
  run       TEXT NOT NULL,
  objective TEXT NOT NULL,
  target_ms INTEGER,
  value_ms  INTEGER,
  verdict   TEXT,
  time      INTEGER NOT NULL,
  FOREIGN KEY (agent, run) REFERENCES runs (agent, run)
);
CREATE INDEX objectives_newest ON objectives (time);

CREATE TABLE decisions (
  id                 INTEGER PRIMARY KEY,
  agent              TEXT NOT NULL,
  run                TEXT NOT NULL,
  step               TEXT NOT NULL,
  requested_event_id INTEGER REFERENCES events (id),
  requested_at       INTEGER,
  request            TEXT,
  made_event_id      INTEGER REFERENCES events (id),
  made_at            INTEGER,
  made               TEXT,
  FOREIGN KEY (agent, run) REFERENCES runs (agent, run)
);
CREATE INDEX decisions_by_run ON decisions (agent, run, step, id);

CREATE TABLE notes (
  id     INTEGER PRIMARY KEY,
  agent  TEXT NOT NULL,
  run    TEXT NOT NULL,
  author TEXT NOT NULL,
  time   INTEGER NOT NULL,
  text   TEXT NOT NULL,
  FOREIGN KEY (agent, run) REFERENCES runs (agent, run)
);
CREATE INDEX notes_by_run ON notes (agent, run, id);
)sql"},
}};

static_assert(kMigrations.back().version == kNewestSchemaVersion);

bool hasTable(Connection& db, std::string_view name) {
  Statement query = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  query.bind(1, name);
  return query.step();
}

std::int64_t tableCount(Connection& db) {
  Statement query = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  query.step();
  return query.integer(0);
}

int storedVersion(Connection& db) {
  Statement query = db.prepare("SELECT max(version) FROM schema_version");
  query.step();
  return static_cast<int>(query.optionalInteger(0).value_or(0));
}

[[noreturn]] void refuseNewer(const Connection& db, int version) {
  throw SqliteFailure{
      Error{db.file().string() + " has schema version " + std::to_string(version) +
                ", newer than this lifeboat-coordinator knows (" +
                std::to_string(kNewestSchemaVersion) + ")",
            "a newer coordinator wrote it: run that version, or restore a backup made before "
            "the upgrade"},
      SQLITE_ERROR};
}

[[noreturn]] void refuseForeign(const Connection& db) {
  throw SqliteFailure{
      Error{db.file().string() +
                " is an SQLite database of something else (it has tables but no schema_version)",
            "`database` in the coordinator's config must name its own file"},
      SQLITE_ERROR};
}

}  // namespace

int migrate(Connection& db) {
  db.execute("BEGIN IMMEDIATE");
  try {
    if (!hasTable(db, "schema_version")) {
      if (tableCount(db) > 0) {
        refuseForeign(db);
      }
      db.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    }
    const int current = storedVersion(db);
    if (current > kNewestSchemaVersion) {
      refuseNewer(db, current);
    }
    for (const Migration& migration : kMigrations) {
      if (migration.version <= current) {
        continue;
      }
      db.execute(migration.sql);
      Statement record = db.prepare(
          "INSERT INTO schema_version (version, applied_at) "
          "VALUES (?1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))");
      record.bind(1, std::int64_t{migration.version});
      record.run();
    }
    db.execute("COMMIT");
  } catch (const SqliteFailure&) {
    db.rollback();
    throw;
  }
  return kNewestSchemaVersion;
}

int readSchemaVersion(Connection& db) {
  if (!hasTable(db, "schema_version")) {
    if (tableCount(db) > 0) {
      refuseForeign(db);
    }
    throw SqliteFailure{
        Error{db.file().string() + " holds no coordinator data yet (schema not created)",
              "start lifeboat-coordinator (serve or check) once to create it"},
        SQLITE_ERROR};
  }
  const int version = storedVersion(db);
  if (version > kNewestSchemaVersion) {
    refuseNewer(db, version);
  }
  if (version < kNewestSchemaVersion) {
    throw SqliteFailure{
        Error{db.file().string() + " has schema version " + std::to_string(version) +
                  "; this coordinator needs " + std::to_string(kNewestSchemaVersion),
              "open it read-write once (lifeboat-coordinator check) to migrate it"},
        SQLITE_ERROR};
  }
  return version;
}

}  // namespace lifeboat::store::detail
