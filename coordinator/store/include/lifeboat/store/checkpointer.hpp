#pragma once
// WAL checkpoints on a thread of their own (docs/coordinator.md, "Store").
//
// SQLite's automatic checkpoint runs inside a commit on the writer's thread:
// every ~1,000 pages of WAL, one commit also copies the WAL into the main
// database file and fsyncs that file, and its caller waits. The coordinator's
// writer turns it off (Store::setWalAutoCheckpoint(0)) and runs a
// WalCheckpointer instead: a second connection to the same file, on its own
// thread, which after commits (committed()) and at most every `pause`
//   - runs a PASSIVE checkpoint: copies what it can without waiting for, or
//     blocking, the writer or any reader;
//   - when the WAL holds `restartFrames` pages or more, runs a RESTART
//     checkpoint: it waits (busy timeout `restartWait`) until the writer is
//     between transactions, copies the rest, and makes the writer's next
//     transaction start the WAL from its beginning, so the file stops growing.
//     The writer waits only while that rest is copied (PASSIVE did the bulk).
//     With `writerRestarts` the writer copies that rest itself instead (see
//     CheckpointOptions);
//   - flushes the database file after each copy, so that the checkpoint that
//     restarts the WAL has only its own few pages to flush.
//
// Durability does not change: the connection runs with synchronous=FULL, so a
// checkpoint fsyncs the WAL before it copies and the database file before the
// WAL is reused. (Whether a commit waits for its own WAL fsync is the
// writer's setting: Store::setCommitSync, wal_syncer.hpp.)
//
// Thread-safety: committed() and stats() from any thread; checkpointNow() from
// any thread (it takes the connection's mutex). The destructor stops the
// thread; it does not run a last checkpoint (the last connection to close the
// database does that).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "lifeboat/common/result.hpp"

namespace lifeboat::store {

struct CheckpointOptions {
  // At least this long between two checkpoints.
  std::chrono::milliseconds pause{100};
  // RESTART from this many pages in the WAL on (16 MiB of 1 KiB pages).
  std::size_t restartFrames = 16384;
  // How long a RESTART waits for the writer to be between transactions and
  // for readers of older snapshots; the writer waits as long at worst, so
  // this is short. When it runs out the WAL grows on and the next
  // checkpoint tries again.
  std::chrono::milliseconds restartWait{500};
  // The writer finishes the restart itself (the coordinator's committer,
  // which writes all the time: a RESTART from this thread would first wait
  // for a moment between two of its transactions, then hold it up while the
  // rest is copied). From `restartFrames` on, the thread runs PASSIVE
  // checkpoints back to back until one finds fewer than `restartLag` pages
  // written since the one before, then raises restartWanted() and stops
  // checkpointing. The writer, between two transactions, runs
  // Store::checkpoint() (a PASSIVE on its own connection: it copies that
  // small rest) and calls writerCheckpointed(); its next transaction starts
  // the WAL again. A writer that does not act within `restartWait` x 2 is
  // idle: the thread then runs the RESTART itself.
  bool writerRestarts = false;
  std::size_t restartLag = 2048;
};

struct CheckpointStats {
  std::uint64_t passive = 0;      // PASSIVE checkpoints run
  std::uint64_t restarts = 0;     // RESTART checkpoints that completed
  std::uint64_t handedOver = 0;   // restarts left to the writer (writerRestarts)
  std::uint64_t busy = 0;         // checkpoints that returned SQLITE_BUSY (tried again later)
  std::int64_t walFrames = 0;     // pages in the WAL after the latest checkpoint
  std::int64_t copiedFrames = 0;  // of which already copied into the database file
};

class WalCheckpointer {
 public:
  // Called on the checkpointer's thread when a checkpoint fails with an error
  // other than SQLITE_BUSY; must only log or post.
  using OnError = std::function<void(const Error&)>;

  // Opens its own read-write connection to `file`, which a Store opened
  // read-write before (WAL mode, migrated), and starts the thread.
  static Result<std::unique_ptr<WalCheckpointer>> start(const std::filesystem::path& file,
                                                        OnError onError,
                                                        CheckpointOptions options = {});
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // A commit happened: the thread checkpoints soon (cheap; never blocks).
  void committed();

  // One checkpoint now, on the caller's thread: PASSIVE, then RESTART when
  // the WAL is at `restartFrames` or more. SQLITE_BUSY is not an error.
  Result<CheckpointStats> checkpointNow();

  CheckpointStats stats() const;

  // writerRestarts: the WAL is large and copied up to a small rest; the
  // writer should run Store::checkpoint() between two transactions, then
  // call writerCheckpointed(). Cheap (an atomic load).
  bool restartWanted() const;
  void writerCheckpointed();

 private:
  struct Impl;
  explicit WalCheckpointer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::store
