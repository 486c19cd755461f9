#pragma once
// The few SQLite calls the coordinator makes, with RAII and errors that name
// the database file: the store's, and the comms engine's own outbox
// (coordinator/comms/engine). Not a general wrapper.
//
// A failed SQLite call throws SqliteFailure; every public function of the
// store and of the comms engine catches it and returns its Error, so no
// exception leaves either component (STYLE.md rule 4). One Connection is used
// by one thread at a time.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lifeboat/common/result.hpp"

namespace lifeboat::store::detail {

struct SqliteFailure {
  Error error;
  int code = SQLITE_ERROR;  // the extended result code
};

// A cached prepared statement for one use: bind, step, read columns. The
// destructor resets it and clears its bindings, ready for the next use.
class Statement {
 public:
  Statement(sqlite3_stmt* statement, const std::filesystem::path& file);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bindNull(int index);

  // true: a row is ready; false: done. Throws SqliteFailure on an error.
  bool step();
  // Steps to the end (for statements without rows).
  void run();

  bool isNull(int column) const;
  std::int64_t integer(int column) const;
  std::optional<std::int64_t> optionalInteger(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optionalText(int column) const;

 private:
  sqlite3_stmt* statement_;  // null once moved from
  const std::filesystem::path* file_;
};

class Connection {
 public:
  // Opens (does not yet read) `file`; throws SqliteFailure when it cannot.
  Connection(const std::filesystem::path& file, int flags);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The statement for `sql`, prepared once and kept for the connection's life.
  Statement prepare(const std::string& sql);
  // Runs SQL text without results (pragmas, schema scripts, BEGIN/COMMIT).
  void execute(const char* sql);
  // Ends an open transaction without saving it; never throws (some errors,
  // e.g. a full disk, already rolled it back).
  void rollback() noexcept;

  // sqlite3_wal_checkpoint_v2 on the main database with `mode`
  // (SQLITE_CHECKPOINT_PASSIVE, ...): the WAL's size and how much of it is
  // copied, in pages. `busy` when the mode could not finish because of
  // another connection (SQLITE_BUSY); other errors throw.
  struct Checkpoint {
    bool busy = false;
    int walFrames = 0;
    int copiedFrames = 0;
  };
  Checkpoint checkpoint(int mode);

  // While another connection holds a lock this one needs, retry every
  // 50 µs to 1 ms for up to `limit`, then fail with SQLITE_BUSY. (PRAGMA
  // busy_timeout sleeps 1, 2, 5 ... up to 100 ms between tries, so a writer
  // held up for a few milliseconds by a checkpoint could sleep ten times as
  // long; the committer's acknowledgements would wait as long.)
  void busyWait(std::chrono::milliseconds limit);

  // The main database file grows (and is preallocated) in steps of `bytes`
  // (SQLITE_FCNTL_CHUNK_SIZE), so that most fdatasyncs of it flush data
  // only, not a change of its size and blocks through the file system's
  // journal (which waits for other files' data too).
  void growInChunks(int bytes);

  // The WAL file SQLite uses for the main database (its path, whether or not
  // it exists yet).
  std::filesystem::path walFile() const;

  std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  bool inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  const std::filesystem::path& file() const { return file_; }

  // The Error for the connection's last failure; `what` names the operation.
  [[noreturn]] void fail(std::string_view what, int code) const;

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  struct BusyWait {
    std::chrono::milliseconds limit{0};
    std::chrono::steady_clock::time_point since{};
  };
  std::unique_ptr<BusyWait> busyWait_;  // the handler's state (stable address)
};

// The Error for result `code` on `file` (the message names the file; a file
// that is not a database gets its own words and hint).
Error sqliteError(const std::filesystem::path& file, std::string_view what, int code,
                  std::string_view detail);

}  // namespace lifeboat::store::detail
