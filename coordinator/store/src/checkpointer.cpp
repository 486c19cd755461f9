#include "lifeboat/store/checkpointer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
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
      : db(file, SQLITE_OPEN_READWRITE),
        databaseFd(::open(file.c_str(), O_RDONLY | O_CLOEXEC)),
        onError(std::move(onError)),
        options(options) {}

  ~Impl() {
    if (databaseFd >= 0) {
      ::close(databaseFd);
    }
  }

  // SQLite fsyncs the database file only after a checkpoint that reached the
  // end of the WAL, which under steady writes is the one that restarts it:
  // the copies of all the PASSIVE checkpoints before would then be flushed
  // in that one fsync, while the writer waits for it. Flushing after each
  // copy, on this thread, leaves that fsync only the last few pages.
  void flushDatabase(const Connection::Checkpoint& done) {
    if (databaseFd < 0 || done.busy || done.copiedFrames <= 0) {
      return;
    }
    while (::fdatasync(databaseFd) != 0) {
      if (errno != EINTR) {
        throw SqliteFailure{Error{"cannot flush the coordinator database " + db.file().string() +
                                      " to disk after a checkpoint: " + std::strerror(errno),
                                  "check the disk (dmesg)"},
                            SQLITE_IOERR_FSYNC};
      }
    }
  }

  // The connection's busy timeout applies to RESTART only: PASSIVE never
  // waits, whatever the timeout.
  CheckpointStats checkpoint() {
    const std::lock_guard lock(connection);
    CheckpointStats added;
    const auto passive = [&] {
      Connection::Checkpoint done = db.checkpoint(SQLITE_CHECKPOINT_PASSIVE);
      ++added.passive;
      added.busy += done.busy ? 1 : 0;
      flushDatabase(done);
      return done;
    };
    Connection::Checkpoint done = passive();
    const bool large = !done.busy && done.walFrames >= 0 &&
                       static_cast<std::size_t>(done.walFrames) >= options.restartFrames;
    if (large && options.writerRestarts && !writerIdle.load()) {
      // Catch up: each round copies what the writer wrote during the one
      // before, and copying is faster than writing, so the rest shrinks.
      for (int round = 0; round < 16; ++round) {
        const int before = done.walFrames;
        done = passive();
        if (done.busy || done.walFrames < before) {
          break;  // busy, or the WAL started again meanwhile
        }
        if (static_cast<std::size_t>(done.walFrames - before) <= options.restartLag) {
          ++added.handedOver;
          wanted.store(true);
          break;
        }
      }
    } else if (large) {
      done = db.checkpoint(SQLITE_CHECKPOINT_RESTART);
      added.busy += done.busy ? 1 : 0;
      added.restarts += done.busy ? 0 : 1;
    }
    const std::lock_guard statsLock(statsMutex);
    counts.passive += added.passive;
    counts.busy += added.busy;
    counts.restarts += added.restarts;
    counts.handedOver += added.handedOver;
    counts.walFrames = done.walFrames;
    counts.copiedFrames = done.copiedFrames;
    return counts;
  }

  void loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      if (wanted.load()) {
        // The writer's turn: no checkpoint from here meanwhile (it would
        // make the writer's busy). A writer that does not come is idle.
        if (wake.wait_for(lock, options.restartWait * 2,
                          [this] { return stopping || !wanted.load(); })) {
          if (stopping) {
            return;
          }
          // A checkpoint now would take a read lock just as the writer's
          // next transaction tries to restart the WAL, and stop it.
          wake.wait_for(lock, options.pause, [this] { return stopping; });
          continue;
        }
        wanted.store(false);
        writerIdle.store(true);  // this checkpoint may RESTART from here
      } else {
        wake.wait(lock, [this] { return stopping || pending; });
        if (stopping) {
          return;
        }
      }
      pending = false;
      lock.unlock();
      try {
        checkpoint();
        writerIdle.store(false);
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
  int databaseFd;  // -1 when it could not be opened: then SQLite's own fsyncs only
  OnError onError;
  CheckpointOptions options;
  bool failing = false;                 // the thread's own
  std::atomic<bool> writerIdle{false};  // the writer let a handover lapse
  std::atomic<bool> wanted{false};

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
    // FULL: the checkpoint fsyncs the WAL before copying and the database
    // file before the WAL may be reused, whatever the writer's setting.
    db.execute("PRAGMA synchronous = FULL");
    db.busyWait(options.restartWait);
    // Its checkpoints are what extends the database file.
    db.growInChunks(detail::kChunkBytes);
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

bool WalCheckpointer::restartWanted() const {
  return impl_->wanted.load(std::memory_order_relaxed);
}

void WalCheckpointer::writerCheckpointed() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->wanted.store(false);
    impl_->pending = true;  // look at the WAL again after the pause
  }
  impl_->wake.notify_one();
}

CheckpointStats WalCheckpointer::stats() const {
  const std::lock_guard lock(impl_->statsMutex);
  return impl_->counts;
}

}  // namespace lifeboat::store
