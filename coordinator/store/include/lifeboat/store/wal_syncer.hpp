#pragma once
// The WAL's fsync on a thread of its own (docs/coordinator.md, "Store").
//
// With synchronous=FULL every commit waits for its own fsync of the WAL, and
// the writer does nothing else meanwhile: at 50,000 events/s that wait is a
// third of the committer thread's time. The coordinator's writer instead
// commits with synchronous=NORMAL (Store::setCommitSync(CommitSync::Deferred):
// the commit writes its pages to the WAL and returns) and hands what waits
// for that commit to a WalSyncer. Its thread fdatasyncs the WAL file, then
// runs every callback handed over before that fdatasync began. So an event
// is still acknowledged only once its commit is on disk, as with FULL, while
// the next group is already being written: the fsync of one group overlaps
// the work of the next, and one fsync covers every commit before it.
//
// A checkpoint (WalCheckpointer, synchronous=FULL) fsyncs the WAL before it
// copies it, so a WAL page is never copied into the database file, nor the
// WAL reused, before it is on disk.
//
// The file: the WalSyncer opens the WAL file itself (a second descriptor on
// the same file: fdatasync flushes the file, whichever descriptor wrote).
// Before each round it checks that the path still names the file it has open
// (SQLite never deletes the WAL while a connection is open; if something else
// did, it opens the new file and syncs that too, and counts it).
//
// Failure: when fdatasync fails, what was written may not be on disk, and
// after a failed fsync Linux may report later ones as successful although
// the pages were lost (PostgreSQL's "fsyncgate"). So the syncer stops trusting
// the file: that round's callbacks and every later one get an Error, and the
// log says to check the disk and restart the coordinator; SQLite's recovery
// on the next start reads what reached the disk, and agents resend what was
// not acknowledged.
//
// Thread-safety: after() and stats() from any thread. Callbacks run on the
// syncer's thread, in the order after() was called; they must only post.
// The destructor runs one last round for what is pending, then stops.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "lifeboat/common/result.hpp"

namespace lifeboat::store {

struct SyncStats {
  std::uint64_t syncs = 0;      // fdatasync rounds that succeeded
  std::uint64_t callbacks = 0;  // callbacks run (with or without an error)
  std::uint64_t reopened = 0;   // times the path named another file than the one open
  bool failed = false;          // a sync failed: nothing is acknowledged any more
};

class WalSyncer {
 public:
  // Runs on the syncer's thread after a sync of the WAL that began after
  // after() was called: nullopt when it succeeded, else why it did not (the
  // commit may not be on disk: do not acknowledge it).
  using Done = std::function<void(const std::optional<Error>&)>;
  // How a round syncs an open descriptor: 0, or an errno value. fdatasync by
  // default; tests hand in one that waits or fails.
  using SyncFile = std::function<int(int fd)>;

  // Opens `walFile` (Store::walFile() of a writer in WAL mode; it must
  // exist) and starts the thread.
  static Result<std::unique_ptr<WalSyncer>> start(const std::filesystem::path& walFile,
                                                  SyncFile sync = {});
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Call after the commit returned: `done` runs after the next sync.
  void after(Done done);

  SyncStats stats() const;
  const std::filesystem::path& file() const;

 private:
  struct Impl;
  explicit WalSyncer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::store
