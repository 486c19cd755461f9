#include "lifeboat/store/sqlite.hpp"

#include <algorithm>
#include <thread>
#include <utility>

namespace lifeboat::store::detail {

Error sqliteError(const std::filesystem::path& file, std::string_view what, int code,
                  std::string_view detail) {
  const int primary = code & 0xff;
  if (primary == SQLITE_NOTADB) {
    return Error{file.string() + " is not an SQLite database (" + std::string(what) + ")",
                 "`database` in the coordinator's config must name its own SQLite file, or a "
                 "path where it may create one; move the other file away"};
  }
  if (primary == SQLITE_CORRUPT) {
    return Error{"the coordinator database " + file.string() + " is damaged (" + std::string(what) +
                     ": " + std::string(detail) + ")",
                 "restore it from a backup, or check it with sqlite3's PRAGMA integrity_check"};
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error{"the coordinator database " + file.string() + " stayed locked (" +
                     std::string(what) + ": " + std::string(detail) + ")",
                 "is another lifeboat-coordinator writing to the same file?"};
  }
  if (primary == SQLITE_READONLY) {
    return Error{"cannot write to the coordinator database " + file.string() + " (" +
                     std::string(what) + ": " + std::string(detail) + ")",
                 "it was opened read-only, or the file or its folder is not writable"};
  }
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR) {
    return Error{"cannot write the coordinator database " + file.string() + " (" +
                     std::string(what) + ": " + std::string(detail) + ")",
                 "check the disk: free space and I/O errors in the kernel log"};
  }
  if (primary == SQLITE_CANTOPEN) {
    return Error{
        "cannot open the coordinator database " + file.string() + " (" + std::string(detail) + ")",
        "check that its folder exists and is writable by the coordinator"};
  }
  return Error{"coordinator database " + file.string() + ": " + std::string(what) +
                   " failed: " + std::string(detail),
               ""};
}

Statement::Statement(sqlite3_stmt* statement, const std::filesystem::path& file)
    : statement_(statement), file_(&file) {}

Statement::Statement(Statement&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)), file_(other.file_) {}

Statement::~Statement() {
  if (statement_ != nullptr) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  sqlite3_bind_null(statement_, index);
  return *this;
}

bool Statement::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) {
    return true;
  }
  if (code == SQLITE_DONE) {
    return false;
  }
  sqlite3* db = sqlite3_db_handle(statement_);
  const int extended = sqlite3_extended_errcode(db);
  std::string sql = sqlite3_sql(statement_);
  if (sql.size() > 60) {
    sql = sql.substr(0, 60) + "…";
  }
  throw SqliteFailure{sqliteError(*file_, sql, extended, sqlite3_errmsg(db)), extended};
}

void Statement::run() {
  while (step()) {
  }
}

bool Statement::isNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::optional<std::int64_t> Statement::optionalInteger(int column) const {
  if (isNull(column)) {
    return std::nullopt;
  }
  return integer(column);
}

std::string Statement::text(int column) const {
  const auto* bytes = sqlite3_column_text(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  if (bytes == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

std::optional<std::string> Statement::optionalText(int column) const {
  if (isNull(column)) {
    return std::nullopt;
  }
  return text(column);
}

Connection::Connection(const std::filesystem::path& file, int flags) : file_(file) {
  const int code = sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteFailure{sqliteError(file_, "open", code, detail), code};
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  for (auto& [sql, statement] : statements_) {
    sqlite3_finalize(statement);
  }
  if (db_ != nullptr) {
    rollback();
    sqlite3_close_v2(db_);
  }
}

Statement Connection::prepare(const std::string& sql) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    const int code = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (code != SQLITE_OK) {
      fail("prepare", sqlite3_extended_errcode(db_));
    }
    found = statements_.emplace(sql, statement).first;
  }
  return Statement(found->second, file_);
}

void Connection::execute(const char* sql) {
  const int code = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) {
    std::string what = sql;
    if (what.size() > 60) {
      what = what.substr(0, 60) + "…";
    }
    fail(what, sqlite3_extended_errcode(db_));
  }
}

void Connection::rollback() noexcept {
  if (inTransaction()) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Connection::Checkpoint Connection::checkpoint(int mode) {
  Checkpoint result;
  const int code =
      sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &result.walFrames, &result.copiedFrames);
  if (code == SQLITE_BUSY) {
    result.busy = true;
  } else if (code != SQLITE_OK) {
    fail("WAL checkpoint", sqlite3_extended_errcode(db_));
  }
  return result;
}

void Connection::busyWait(std::chrono::milliseconds limit) {
  if (!busyWait_) {
    busyWait_ = std::make_unique<BusyWait>();
  }
  busyWait_->limit = limit;
  const auto retry = [](void* state, int attempt) -> int {
    auto& wait = *static_cast<BusyWait*>(state);
    const auto now = std::chrono::steady_clock::now();
    if (attempt == 0) {
      wait.since = now;
    } else if (now - wait.since >= wait.limit) {
      return 0;
    }
    // 50 µs doubling to 1 ms: a short hold costs about its own length.
    const int shift = std::min(attempt, 5);
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(50 << shift, 1000)));
    return 1;
  };
  if (sqlite3_busy_handler(db_, retry, busyWait_.get()) != SQLITE_OK) {
    fail("set the busy handler", sqlite3_extended_errcode(db_));
  }
}

void Connection::growInChunks(int bytes) {
  const int code = sqlite3_file_control(db_, "main", SQLITE_FCNTL_CHUNK_SIZE, &bytes);
  if (code != SQLITE_OK) {
    fail("set the chunk size", code);
  }
}

std::filesystem::path Connection::walFile() const {
  const char* wal = sqlite3_filename_wal(sqlite3_db_filename(db_, "main"));
  return wal != nullptr ? std::filesystem::path(wal)
                        : std::filesystem::path(file_.string() + "-wal");
}

void Connection::fail(std::string_view what, int code) const {
  throw SqliteFailure{sqliteError(file_, what, code, sqlite3_errmsg(db_)), code};
}

}  // namespace lifeboat::store::detail
