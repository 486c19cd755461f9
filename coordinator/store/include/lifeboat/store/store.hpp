#pragma once
// The coordinator's store: SQLite in WAL mode (docs/coordinator.md, "Store").
//
// One Store is one SQLite connection and is used by one thread at a time: the
// server keeps one for writing (its committer thread) and opens readers for
// the API. open() migrates the schema to the newest version in one
// transaction; a database written by a newer coordinator is refused.
//
// Events are stored once per (agent, seq): append() skips the ones already
// stored, so an agent that resends after a lost acknowledgement doubles
// nothing. append() commits before it returns; the server acknowledges an
// agent's batch only after that. Durability: WAL with synchronous=FULL, so a
// commit that returned has reached the disk (fsync of the WAL) and survives
// a crash of the process and a power loss.
//
// Errors are values (Result); none of these functions throws.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::store {

enum class Access { ReadWrite, ReadOnly };

// What the agents' endpoint knows about a connection.
struct Presence {
  std::string agent;       // the certificate's common name
  bool online = false;     // false: the connection ended
  Timestamp at{};          // when this was observed
  std::string hostname{};  // from hello, "" when not known
  std::string version{};   // agent_version from hello
  std::string address{};   // the peer's IP address
};

struct EventFilter {
  std::string agent{};       // "" = every agent
  std::string run{};         // "" = every run (with agent: that agent's)
  std::int64_t afterId = 0;  // the store's own id (insertion order), exclusive
  std::size_t limit = 1000;  // at most this many, oldest first
};

struct RunFilter {
  std::string agent{};      // "" = every agent
  std::string service{};    // "" = every service
  bool liveOnly = false;    // only runs without run.finished
  std::size_t limit = 100;  // newest first
};

enum class CommitSync { Fsync, Deferred };

// What one append did: `ids[i]` is the store's id of events[i], 0 when it was
// not stored (a duplicate, or hello/heartbeat).
struct AppendResult {
  std::size_t stored = 0;      // newly stored events
  std::size_t duplicates = 0;  // (agent, seq) already stored, skipped
  std::vector<std::int64_t> ids{};
};

// The newest schema version this build writes and reads.
int newestSchemaVersion();

// An event as the API shows it: {"id", then the event's own keys in the
// order encodeEvent() writes them (v, agent, run, seq, ts, type, step, data;
// step left out when empty)}. The live feed uses it too.
boost::json::object eventJson(std::int64_t id, const Event& event);

class Store {
 public:
  // ReadWrite creates the file when missing, switches it to WAL and migrates
  // the schema. ReadOnly (SQLITE_OPEN_READONLY) needs a migrated database and
  // may run beside the writer. Errors name the file: not an SQLite database,
  // a newer schema, a database of something else, cannot open or lock it.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file,
                                             Access access = Access::ReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The schema version after migration (1 and up).
  int schemaVersion() const;
  // The database file it was opened on.
  const std::filesystem::path& file() const;

  // SQLite's automatic checkpoint: after a commit that leaves `pages` or
  // more in the WAL, that commit also checkpoints (SQLite's default: 1,000).
  // 0 turns it off: then a WalCheckpointer (checkpointer.hpp) must run beside
  // this Store, or the WAL grows without end. ReadWrite only.
  Result<int> setWalAutoCheckpoint(int pages);

  // A PASSIVE checkpoint on this connection, between transactions: copies
  // what is in the WAL into the database file (fsyncing both) without
  // waiting for any other connection; when it copied everything, the next
  // transaction starts the WAL from its beginning (if no reader still reads
  // it). Returns whether it copied everything. For a writer that
  // WalCheckpointer::restartWanted() asks. ReadWrite only.
  Result<bool> checkpoint();

  // The WAL file of the database (it exists while a writer has it open).
  std::filesystem::path walFile() const;

  // How a commit reaches the disk. Fsync (the default, synchronous=FULL): a
  // commit returns after the fsync of the WAL. Deferred (synchronous=NORMAL):
  // a commit returns once its pages are written to the WAL, not yet synced;
  // whoever acts on the commit (acknowledges it) must first have the WAL
  // synced by a WalSyncer (wal_syncer.hpp) started before this is set, or a
  // power loss may take back what was acknowledged. ReadWrite only.
  Result<CommitSync> setCommitSync(CommitSync mode);

  // One transaction: stores each event whose (agent, seq) is not stored yet,
  // in the given order, and updates the run summaries they touch. Returns the
  // number newly stored. On failure nothing of the batch is stored.
  // hello/heartbeat events are not stored (they are presence, see below).
  Result<std::size_t> append(std::span<const Event> events);
  // The same, telling which events were stored under which id (for the live
  // feed) and how many were duplicates.
  Result<AppendResult> appendBatch(std::span<const Event> events);

  // Records an agent connecting (online) or disconnecting; keeps first and
  // last seen times and, when not empty, hostname, version and address.
  // Returns true when the agent was not known before.
  Result<bool> recordPresence(const Presence& presence);

  // Marks every agent offline (at start-up: no connection survives a
  // restart of the coordinator). Returns how many were online.
  Result<std::size_t> markAllOffline(Timestamp at);

  // --- Views for the API (docs/coordinator.md gives each shape) ---

  // [{"name","online","first_seen","last_seen","hostname","version",
  //   "address","last_seq","events"}], by name.
  Result<boost::json::array> agents();
  // One agent in the same shape; nullopt when not known.
  Result<std::optional<boost::json::object>> agent(std::string_view name);

  // Run summaries, newest first: [{"agent","run","runbook_name","service",
  //   "drill","started_at","finished_at","outcome","live","outage_start",
  //   "rto":{"target_ms","value_ms","verdict"},"rpo":{…},"events"}].
  Result<boost::json::array> runs(const RunFilter& filter);

  // One run in full: the summary plus
  //   "steps": the plan from run.started with each step's state and timeline,
  //     [{"id","name","kind","wave","restores_service","status","phase",
  //     "attempts","started_at","finished_at","duration_ms","error",
  //     "skip_reason","phases":[{"phase","status","attempts","started_at",
  //     "finished_at","duration_ms","error"}]}]; status "pending" before its
  //     first event, "running" between step.started and step.finished,
  //     "skipped" for a step the plan says this mode skips;
  //   "objectives": every objective.* event, [{"type","time","step", then the
  //     event's data members}];
  //   "decisions": [{"step","status" ("pending"/"made"),"requested_at",
  //     "request" (decision.requested data),"made_at","made" (decision.made
  //     data)}];
  //   "notes": [{"id","author","time","text"}], oldest first.
  // nullopt when not stored.
  Result<std::optional<boost::json::object>> run(std::string_view agent, std::string_view run);

  // Events as stored, oldest first: [eventJson(id, event)], i.e. {"id", then
  // the event's own keys v, agent, run, seq, ts, type, step (left out when
  // empty), data}. The next page: afterId = the last "id".
  Result<boost::json::array> events(const EventFilter& filter);

  // Every objective.evaluated, newest first: [{"agent","run","service",
  //   "drill","objective","target_ms","value_ms","verdict","time"}].
  Result<boost::json::array> objectives(std::string_view service, std::size_t limit);

  // A person's note on a run's timeline (operator role); returns the note
  // {"id","author","time","text"}. An Error when the run is not stored or
  // the text is empty (the server caps its length).
  Result<boost::json::object> addNote(std::string_view agent, std::string_view run,
                                      std::string_view author, std::string_view text, Timestamp at);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::store
