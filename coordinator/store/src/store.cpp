// Store: opening, migrating, and everything that writes (append, presence,
// notes). The read-only views live in views.cpp.

#include "lifeboat/store/store.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <utility>

#include "schema.hpp"
#include "store_impl.hpp"

namespace lifeboat::store {

using detail::Connection;
using detail::guarded;
using detail::SqliteFailure;
using detail::Statement;

int newestSchemaVersion() {
  return detail::kNewestSchemaVersion;
}

boost::json::object eventJson(std::int64_t id, const Event& event) {
  boost::json::object json;
  json.reserve(9);
  json.emplace("id", id);
  json.emplace("v", event.version);
  json.emplace("agent", event.agent);
  json.emplace("run", event.run);
  json.emplace("seq", event.seq);
  json.emplace("ts", formatTimestamp(event.time));
  json.emplace("type", event.type);
  if (!event.step.empty()) {
    json.emplace("step", event.step);
  }
  json.emplace("data", event.data);
  return json;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file, Access access) {
  return guarded<std::unique_ptr<Store>>([&]() -> std::unique_ptr<Store> {
    const int flags = access == Access::ReadOnly ? SQLITE_OPEN_READONLY
                                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    auto impl = std::make_unique<Impl>(file, flags);
    impl->access = access;
    Connection& db = impl->db;
    // A writer waits up to 5 s for another's lock (a reader never blocks the
    // writer in WAL mode; this covers a checkpoint or a second process).
    db.busyWait(std::chrono::milliseconds(5000));
    db.execute("PRAGMA foreign_keys = ON");
    if (access == Access::ReadWrite) {
      // A new file gets 1 KiB pages (SQLite's default is 4 KiB). A commit
      // writes every page it changed to the WAL, and with many agents
      // streaming at once each agent's events change their own leaf in each
      // of the events table's three indexes (agent first): smaller pages are
      // fewer bytes per commit and per fsync (docs/coordinator.md, "Store").
      // An existing file keeps its page size (this is then a no-op).
      db.execute("PRAGMA page_size = 1024");
      // The first statement that reads the file: a file that is not SQLite
      // fails here with SQLITE_NOTADB, which sqliteError() words.
      {
        Statement mode = db.prepare("PRAGMA journal_mode = WAL");
        mode.step();
        if (mode.text(0) != "wal") {
          throw SqliteFailure{
              Error{"cannot switch the coordinator database " + file.string() +
                        " to WAL mode (it stays in \"" + mode.text(0) + "\" mode)",
                    "WAL needs a local file system that supports shared memory (not NFS)"},
              SQLITE_ERROR};
        }
      }
      // FULL: every commit fsyncs the WAL, so an acknowledged event survives
      // a power loss, not only a crash of the process (docs/coordinator.md).
      db.execute("PRAGMA synchronous = FULL");
      // The writer's page cache holds what a commit touches (with 1,000
      // agents: a hot leaf per agent in each of the events table's three
      // indexes). SQLite's default, 2 MiB, is smaller: the commit then spills
      // pages to the WAL mid-transaction and reads them back, and writes the
      // same page several times (docs/coordinator.md, "Store"). Pages are
      // allocated on use, so an idle coordinator does not pay for it.
      db.execute("PRAGMA cache_size = -65536");
      db.growInChunks(detail::kChunkBytes);
      impl->schemaVersion = detail::migrate(db);
    } else {
      impl->schemaVersion = detail::readSchemaVersion(db);
    }
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  });
}

int Store::schemaVersion() const {
  return impl_->schemaVersion;
}

const std::filesystem::path& Store::file() const {
  return impl_->db.file();
}

namespace {

struct AgentDelta {
  std::int64_t events = 0;
  std::optional<std::uint64_t> lastSeq;
  std::int64_t earliest = 0;
  std::int64_t latest = 0;
};

struct RunDelta {
  std::int64_t events = 0;
  std::int64_t firstTs = 0;
};

using RunKey = std::pair<std::string, std::string>;

// One append's writes inside its transaction: the events themselves, the
// summaries special events change right away, and per-agent and per-run
// counts written once at the end.
class BatchWriter {
 public:
  explicit BatchWriter(Connection& db) : db_(db) {}

  // Stores one event; returns its id, or 0 for a duplicate or presence.
  std::int64_t add(const Event& event) {
    const std::int64_t ts = detail::toMillis(event.time);
    const bool presence = event.type == event_type::kHello || event.type == event_type::kHeartbeat;
    AgentDelta& agent = touchAgent(event.agent, ts);
    if (presence) {
      return 0;
    }
    Statement insert = db_.prepare(
        "INSERT INTO events (agent, run, seq, ts, type, step, data) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (agent, seq) DO NOTHING");
    insert.bind(1, std::string_view(event.agent))
        .bind(2, std::string_view(event.run))
        .bind(3, static_cast<std::int64_t>(event.seq))
        .bind(4, ts)
        .bind(5, std::string_view(event.type))
        .bind(6, std::string_view(event.step))
        .bind(7, std::string_view(boost::json::serialize(event.data)));
    insert.run();
    if (db_.changes() == 0) {
      return 0;
    }
    const std::int64_t id = db_.lastInsertId();
    agent.events += 1;
    if (!agent.lastSeq || event.seq > *agent.lastSeq) {
      agent.lastSeq = event.seq;
    }
    if (!event.run.empty()) {
      RunDelta& run = touchRun(event, ts);
      run.events += 1;
      summarize(event, id, ts);
    }
    return id;
  }

  // Writes the counts gathered by add().
  void finish() {
    for (const auto& [name, delta] : agents_) {
      std::optional<std::int64_t> lastSeq;
      {
        Statement read = db_.prepare("SELECT last_seq FROM agents WHERE name = ?1");
        read.bind(1, std::string_view(name));
        if (read.step()) {
          lastSeq = read.optionalInteger(0);
        }
      }
      if (delta.lastSeq && (!lastSeq || *delta.lastSeq > static_cast<std::uint64_t>(*lastSeq))) {
        lastSeq = static_cast<std::int64_t>(*delta.lastSeq);
      }
      Statement upsert = db_.prepare(
          "INSERT INTO agents (name, first_seen, last_seen, last_seq, events) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
          "first_seen = min(coalesce(first_seen, excluded.first_seen), excluded.first_seen), "
          "last_seen = max(coalesce(last_seen, excluded.last_seen), excluded.last_seen), "
          "last_seq = excluded.last_seq, events = events + excluded.events");
      upsert.bind(1, std::string_view(name))
          .bind(2, delta.earliest)
          .bind(3, delta.latest)
          .bind(4, lastSeq)
          .bind(5, delta.events);
      upsert.run();
    }
    for (const auto& [key, delta] : runs_) {
      Statement update = db_.prepare(
          "UPDATE runs SET events = events + ?3, first_ts = min(first_ts, ?4) "
          "WHERE agent = ?1 AND run = ?2");
      update.bind(1, std::string_view(key.first))
          .bind(2, std::string_view(key.second))
          .bind(3, delta.events)
          .bind(4, delta.firstTs);
      update.run();
    }
  }

 private:
  AgentDelta& touchAgent(const std::string& name, std::int64_t ts) {
    auto [it, added] = agents_.try_emplace(name);
    if (added || ts < it->second.earliest) {
      it->second.earliest = ts;
    }
    if (added || ts > it->second.latest) {
      it->second.latest = ts;
    }
    return it->second;
  }

  // The run's row exists from its first stored event on, so that the
  // objectives, decisions and notes that refer to it can be written.
  RunDelta& touchRun(const Event& event, std::int64_t ts) {
    auto [it, added] = runs_.try_emplace(RunKey{event.agent, event.run});
    if (added) {
      it->second.firstTs = ts;
      Statement insert = db_.prepare(
          "INSERT INTO runs (agent, run, first_ts) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (agent, run) DO NOTHING");
      insert.bind(1, std::string_view(event.agent))
          .bind(2, std::string_view(event.run))
          .bind(3, ts);
      insert.run();
    } else if (ts < it->second.firstTs) {
      it->second.firstTs = ts;
    }
    return it->second;
  }

  void summarize(const Event& event, std::int64_t id, std::int64_t ts) {
    const boost::json::object& data = event.data;
    if (event.type == event_type::kRunStarted) {
      std::optional<std::int64_t> rtoTarget;
      std::optional<std::int64_t> rpoTarget;
      if (const auto* objectives = data.if_contains("objectives");
          objectives != nullptr && objectives->is_object()) {
        rtoTarget = detail::integerMember(objectives->get_object(), "rto_ms");
        rpoTarget = detail::integerMember(objectives->get_object(), "rpo_ms");
      }
      std::optional<std::int64_t> drill;
      if (const auto flag = detail::boolMember(data, "drill")) {
        drill = *flag ? 1 : 0;
      }
      Statement update = runUpdate(
          event,
          "runbook_name = ?3, service = ?4, drill = ?5, started_at = ?6, outage_start = ?7, "
          "rto_target_ms = coalesce(rto_target_ms, ?8), "
          "rpo_target_ms = coalesce(rpo_target_ms, ?9)");
      update.bind(3, detail::stringMember(data, "runbook_name"))
          .bind(4, detail::stringMember(data, "service"))
          .bind(5, drill)
          .bind(6, detail::timeMember(data, "started_at").value_or(ts))
          .bind(7, detail::timeMember(data, "outage_start"))
          .bind(8, rtoTarget)
          .bind(9, rpoTarget);
      update.run();
    } else if (event.type == event_type::kRunFinished) {
      Statement update = runUpdate(event, "finished_at = ?3, outcome = ?4");
      update.bind(3, ts).bind(4, detail::stringMember(data, "outcome"));
      update.run();
    } else if (event.type == event_type::kRunResumed) {
      // `lifeboat resume` continues an interrupted run: it is live again.
      Statement update = runUpdate(event, "finished_at = NULL, outcome = NULL");
      update.run();
    } else if (event.type == event_type::kObjectiveMeasured) {
      const auto objective = detail::stringMember(data, "objective");
      if (objective == "rto" || objective == "rpo") {
        // A measurement shows until the evaluation gives the final word.
        const std::string column = *objective;
        Statement update =
            runUpdate(event, column + "_value_ms = ?3", " AND " + column + "_verdict IS NULL");
        update.bind(3, detail::integerMember(data, "value_ms"));
        update.run();
      }
    } else if (event.type == event_type::kObjectiveEvaluated) {
      evaluate(event, id, ts);
    } else if (event.type == event_type::kDecisionRequested) {
      Statement insert = db_.prepare(
          "INSERT INTO decisions (agent, run, step, requested_event_id, requested_at, request) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      insert.bind(1, std::string_view(event.agent))
          .bind(2, std::string_view(event.run))
          .bind(3, std::string_view(event.step))
          .bind(4, id)
          .bind(5, ts)
          .bind(6, std::string_view(boost::json::serialize(data)));
      insert.run();
    } else if (event.type == event_type::kDecisionMade) {
      decide(event, id, ts);
    }
  }

  void evaluate(const Event& event, std::int64_t id, std::int64_t ts) {
    const boost::json::object& data = event.data;
    const auto objective = detail::stringMember(data, "objective");
    if (!objective) {
      return;
    }
    const auto target = detail::integerMember(data, "target_ms");
    const auto value = detail::integerMember(data, "value_ms");
    const auto verdict = detail::stringMember(data, "verdict");
    if (objective == "rto" || objective == "rpo") {
      const std::string& column = *objective;
      Statement update = runUpdate(event, column + "_target_ms = ?3, " + column +
                                              "_value_ms = ?4, " + column + "_verdict = ?5");
      update.bind(3, target).bind(4, value).bind(5, verdict);
      update.run();
    }
    Statement insert = db_.prepare(
        "INSERT INTO objectives (event_id, agent, run, objective, target_ms, value_ms, verdict, "
        "time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert.bind(1, id)
        .bind(2, std::string_view(event.agent))
        .bind(3, std::string_view(event.run))
        .bind(4, std::string_view(*objective))
        .bind(5, target)
        .bind(6, value)
        .bind(7, verdict)
        .bind(8, ts);
    insert.run();
  }

  // The answer closes the step's latest open request; an answer whose
  // request was never stored (a gap in the stream) still shows.
  void decide(const Event& event, std::int64_t id, std::int64_t ts) {
    const std::string made = boost::json::serialize(event.data);
    Statement update = db_.prepare(
        "UPDATE decisions SET made_event_id = ?4, made_at = ?5, made = ?6 WHERE id = "
        "(SELECT max(id) FROM decisions WHERE agent = ?1 AND run = ?2 AND step = ?3 AND "
        "made_event_id IS NULL)");
    update.bind(1, std::string_view(event.agent))
        .bind(2, std::string_view(event.run))
        .bind(3, std::string_view(event.step))
        .bind(4, id)
        .bind(5, ts)
        .bind(6, std::string_view(made));
    update.run();
    if (db_.changes() > 0) {
      return;
    }
    Statement insert = db_.prepare(
        "INSERT INTO decisions (agent, run, step, made_event_id, made_at, made) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    insert.bind(1, std::string_view(event.agent))
        .bind(2, std::string_view(event.run))
        .bind(3, std::string_view(event.step))
        .bind(4, id)
        .bind(5, ts)
        .bind(6, std::string_view(made));
    insert.run();
  }

  // "UPDATE runs SET <assignments> WHERE agent = ?1 AND run = ?2<condition>"
  // with ?1 and ?2 bound; the statement is cached per text.
  Statement runUpdate(const Event& event, const std::string& assignments,
                      const std::string& condition = "") {
    Statement update = db_.prepare("UPDATE runs SET " + assignments +
                                   " WHERE agent = ?1 AND run = ?2" + condition);
    update.bind(1, std::string_view(event.agent)).bind(2, std::string_view(event.run));
    return update;
  }

  Connection& db_;
  std::map<std::string, AgentDelta, std::less<>> agents_;
  std::map<RunKey, RunDelta> runs_;
};

[[noreturn]] void refuseReadOnly(const Connection& db, std::string_view what) {
  throw SqliteFailure{Error{"cannot " + std::string(what) + ": the coordinator database " +
                                db.file().string() + " was opened read-only",
                            "write through the store the server opened read-write"},
                      SQLITE_READONLY};
}

}  // namespace

Result<int> Store::setWalAutoCheckpoint(int pages) {
  return guarded<int>([&]() -> int {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "change the WAL's automatic checkpoint");
    }
    const std::string sql = "PRAGMA wal_autocheckpoint = " + std::to_string(std::max(pages, 0));
    Statement set = db.prepare(sql);
    return set.step() ? static_cast<int>(set.integer(0)) : std::max(pages, 0);
  });
}

Result<bool> Store::checkpoint() {
  return guarded<bool>([&]() -> bool {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "checkpoint the WAL");
    }
    const Connection::Checkpoint done = db.checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    return !done.busy && done.copiedFrames == done.walFrames;
  });
}

std::filesystem::path Store::walFile() const {
  return impl_->db.walFile();
}

Result<CommitSync> Store::setCommitSync(CommitSync mode) {
  return guarded<CommitSync>([&]() -> CommitSync {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "change how commits reach the disk");
    }
    db.execute(mode == CommitSync::Fsync ? "PRAGMA synchronous = FULL"
                                         : "PRAGMA synchronous = NORMAL");
    return mode;
  });
}

Result<std::size_t> Store::append(std::span<const Event> events) {
  Result<AppendResult> result = appendBatch(events);
  if (!result) {
    return result.error();
  }
  return result->stored;
}

Result<AppendResult> Store::appendBatch(std::span<const Event> events) {
  return guarded<AppendResult>([&]() -> AppendResult {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "store events");
    }
    AppendResult result;
    result.ids.reserve(events.size());
    db.execute("BEGIN IMMEDIATE");
    try {
      BatchWriter writer(db);
      for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& event = events[i];
        try {
          const std::int64_t id = writer.add(event);
          result.ids.push_back(id);
          if (id != 0) {
            ++result.stored;
          } else if (event.type != event_type::kHello && event.type != event_type::kHeartbeat) {
            ++result.duplicates;
          }
        } catch (SqliteFailure& failure) {
          failure.error.message =
              "event " + std::to_string(i + 1) + " of " + std::to_string(events.size()) +
              " (agent \"" + event.agent + "\", seq " + std::to_string(event.seq) + ", type \"" +
              event.type + "\") not stored, nor the rest of its batch: " + failure.error.message;
          throw;
        }
      }
      writer.finish();
      db.execute("COMMIT");
    } catch (const SqliteFailure&) {
      db.rollback();
      throw;
    }
    return result;
  });
}

Result<bool> Store::recordPresence(const Presence& presence) {
  return guarded<bool>([&]() -> bool {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "record an agent's presence");
    }
    if (presence.agent.empty()) {
      throw SqliteFailure{Error{"cannot record the presence of an agent without a name", ""},
                          SQLITE_MISUSE};
    }
    db.execute("BEGIN IMMEDIATE");
    try {
      bool known = false;
      {
        Statement read = db.prepare("SELECT 1 FROM agents WHERE name = ?1");
        read.bind(1, std::string_view(presence.agent));
        known = read.step();
      }
      Statement upsert = db.prepare(
          "INSERT INTO agents (name, first_seen, last_seen, hostname, version, address, online) "
          "VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE SET "
          "first_seen = min(coalesce(first_seen, excluded.first_seen), excluded.first_seen), "
          "last_seen = max(coalesce(last_seen, excluded.last_seen), excluded.last_seen), "
          "hostname = iif(excluded.hostname <> '', excluded.hostname, hostname), "
          "version = iif(excluded.version <> '', excluded.version, version), "
          "address = iif(excluded.address <> '', excluded.address, address), "
          "online = excluded.online");
      upsert.bind(1, std::string_view(presence.agent))
          .bind(2, detail::toMillis(presence.at))
          .bind(3, std::string_view(presence.hostname))
          .bind(4, std::string_view(presence.version))
          .bind(5, std::string_view(presence.address))
          .bind(6, std::int64_t{presence.online ? 1 : 0});
      upsert.run();
      db.execute("COMMIT");
      return !known;
    } catch (const SqliteFailure&) {
      db.rollback();
      throw;
    }
  });
}

Result<std::size_t> Store::markAllOffline(Timestamp at) {
  return guarded<std::size_t>([&]() -> std::size_t {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "mark agents offline");
    }
    Statement update = db.prepare(
        "UPDATE agents SET online = 0, last_seen = max(coalesce(last_seen, ?1), ?1) "
        "WHERE online <> 0");
    update.bind(1, detail::toMillis(at));
    update.run();
    return static_cast<std::size_t>(db.changes());
  });
}

Result<boost::json::object> Store::addNote(std::string_view agent, std::string_view run,
                                           std::string_view author, std::string_view text,
                                           Timestamp at) {
  return guarded<boost::json::object>([&]() -> boost::json::object {
    Connection& db = impl_->db;
    if (impl_->access == Access::ReadOnly) {
      refuseReadOnly(db, "add a note");
    }
    if (text.empty()) {
      throw SqliteFailure{Error{"a note needs a text", "send {\"text\": \"...\"}"}, SQLITE_MISUSE};
    }
    db.execute("BEGIN IMMEDIATE");
    try {
      {
        Statement exists = db.prepare("SELECT 1 FROM runs WHERE agent = ?1 AND run = ?2");
        exists.bind(1, agent).bind(2, run);
        if (!exists.step()) {
          throw SqliteFailure{Error{"no run \"" + std::string(run) + "\" of agent \"" +
                                        std::string(agent) + "\" is stored",
                                    "check the agent and run id (GET /api/v1/runs)"},
                              SQLITE_NOTFOUND};
        }
      }
      Statement insert = db.prepare(
          "INSERT INTO notes (agent, run, author, time, text) VALUES (?1, ?2, ?3, ?4, ?5)");
      insert.bind(1, agent)
          .bind(2, run)
          .bind(3, author)
          .bind(4, detail::toMillis(at))
          .bind(5, text);
      insert.run();
      const std::int64_t id = db.lastInsertId();
      db.execute("COMMIT");
      boost::json::object note;
      note.emplace("id", id);
      note.emplace("author", author);
      note.emplace("time", formatTimestamp(at));
      note.emplace("text", text);
      return note;
    } catch (const SqliteFailure&) {
      db.rollback();
      throw;
    }
  });
}

}  // namespace lifeboat::store
