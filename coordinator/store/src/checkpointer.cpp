#include "lifeboat/store/checkpointer.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "lifeboat/store/sqlite.hpp"
#include "schema.hpp"

namespace lifeboat::store {

using detail::Connection;
using detail::SqliteFailure;

struct WalCheckpointer::Impl {
  Impl(const std::filesystem::path& file, OnError onError, CheckpointOptions options)
      : db(file, SQLITE_OPEN_READWRITE), onError(std::move(onError)), options(options) {}

  // The connection's busy timeout applies to RESTART only: PASSIVE never
  // waits, whatever the timeout.
  CheckpointStats checkpoint() {
    const std::lock_guard lock(connection);
    Connection::Checkpoint done = db.checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    const std::lock_guard statsLock(statsMutex);
    ++counts.passive;
    if (done.busy) {
      ++counts.busy;
    } else if (done.walFrames >= 0 &&
               static_cast<std::size_t>(done.walFrames) >= options.restartFrames) {
      done = db.checkpoint(SQLITE_CHECKPOINT_RESTART);
      if (done.busy) {
        ++counts.busy;
      } else {
        ++counts.restarts;
      }
    }
    counts.walFrames = done.walFrames;
    counts.copiedFrames = done.copiedFrames;
    return counts;
  }

  void loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return stopping || pending; });
      if (stopping) {
        return;
      }
      pending = false;
      lock.unlock();
      try {
        checkpoint();
        failing = false;
      } catch (const SqliteFailure& failure) {
        if (!failing && onError) {
          onError(failure.error);  // once per run of failures, not per attempt
        }
        failing = true;
      }
      lock.lock();
      // Commits that come meanwhile set `pending`; they wait for the pause.
      wake.wait_for(lock, options.pause, [this] { return stopping; });
    }
  }

  std::mutex connection;  // one checkpoint at a time on `db`
  Connection db;
  OnError onError;
  CheckpointOptions options;
  bool failing = false;  // the thread's own

  mutable std::mutex statsMutex;
  CheckpointStats counts;

  std::mutex mutex;
  std::condition_variable wake;
  bool pending = false;
  bool stopping = false;
  std::thread thread;
};

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::filesystem::path& file,
                                                                OnError onError,
                                                                CheckpointOptions options) {
  try {
    auto impl = std::make_unique<Impl>(file, std::move(onError), options);
    Connection& db = impl->db;
    // FULL, as the writer: the checkpoint fsyncs the WAL before copying and
    // the database file before the WAL may be reused.
    db.execute("PRAGMA synchronous = FULL");
    const std::string wait = "PRAGMA busy_timeout = " + std::to_string(options.restartWait.count());
    db.execute(wait.c_str());
    // Reads the schema: a file the writer has not opened (no WAL, no schema)
    // is refused here rather than checkpointed silently.
    detail::readSchemaVersion(db);
    {
      detail::Statement mode = db.prepare("PRAGMA journal_mode");
      mode.step();
      if (mode.text(0) != "wal") {
        return Error{"the coordinator database " + file.string() + " is not in WAL mode",
                     "open it read-write with the store first"};
      }
    }
    Impl* raw = impl.get();
    raw->thread = std::thread([raw] { raw->loop(); });
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(impl)));
  } catch (const SqliteFailure& failure) {
    return failure.error;
  }
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WalCheckpointer::~WalCheckpointer() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
}

void WalCheckpointer::committed() {
  {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->pending) {
      return;
    }
    impl_->pending = true;
  }
  impl_->wake.notify_one();
}

Result<CheckpointStats> WalCheckpointer::checkpointNow() {
  try {
    return impl_->checkpoint();
  } catch (const SqliteFailure& failure) {
    return failure.error;
  }
}

CheckpointStats WalCheckpointer::stats() const {
  const std::lock_guard lock(impl_->statsMutex);
  return impl_->counts;
}

}  // namespace lifeboat::store
