// The WAL syncer: a callback runs only after an fsync of the WAL that began
// after it was handed over; a failed fsync acknowledges nothing from then on;
// a replaced file is opened again. With a real Store committing without its
// own fsync (CommitSync::Deferred). The order is checked with a sync function
// that waits or fails on demand (a disk cannot be made to fail here).

#include "lifeboat/store/wal_syncer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::outputEvents;
using testing::sqlValue;
using testing::waitUntil;

void touch(const std::filesystem::path& file, const std::string& text = "wal") {
  std::ofstream(file) << text;
}

// A sync that blocks each call until released, counting calls.
struct GatedSync {
  std::mutex mutex;
  std::condition_variable changed;
  int calls = 0;
  int released = 0;

  int operator()(int /*fd*/) {
    std::unique_lock lock(mutex);
    const int call = ++calls;
    changed.notify_all();
    changed.wait(lock, [&] { return released >= call; });
    return 0;
  }
  void release() {
    const std::lock_guard lock(mutex);
    ++released;
    changed.notify_all();
  }
  bool waitCalls(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return calls >= n; });
  }
  int callCount() {
    const std::lock_guard lock(mutex);
    return calls;
  }
};

TEST(WalSyncer, ACallbackWaitsForASyncThatBeganAfterIt) {
  test_support::TempDir dir;
  const auto wal = dir.path() / "events.db-wal";
  touch(wal);
  GatedSync gate;
  auto syncer = WalSyncer::start(wal, [&gate](int fd) { return gate(fd); });
  ASSERT_TRUE(syncer.ok()) << syncer.error().message;

  std::mutex seenMutex;
  std::vector<std::pair<std::string, int>> seen;  // callback, sync calls when it ran
  const auto record = [&](std::string name) {
    return [&, name](const std::optional<Error>& error) {
      EXPECT_FALSE(error.has_value()) << error->message;
      const std::lock_guard lock(seenMutex);
      seen.emplace_back(name, gate.callCount());
    };
  };
  (*syncer)->after(record("first"));
  ASSERT_TRUE(gate.waitCalls(1)) << "the first sync never began";
  // Handed over while the first sync runs: that sync may have missed its
  // commit, so it must wait for the next one.
  (*syncer)->after(record("second"));
  (*syncer)->after(record("third"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    const std::lock_guard lock(seenMutex);
    EXPECT_TRUE(seen.empty()) << "a callback ran before its sync finished";
  }
  gate.release();
  ASSERT_TRUE(gate.waitCalls(2)) << "no second sync for the callbacks that came during the first";
  {
    const std::lock_guard lock(seenMutex);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], (std::pair<std::string, int>{"first", 1}));
  }
  gate.release();
  ASSERT_TRUE(waitUntil([&] { return (*syncer)->stats().callbacks == 3; }));
  const std::lock_guard lock(seenMutex);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1], (std::pair<std::string, int>{"second", 2}));
  EXPECT_EQ(seen[2], (std::pair<std::string, int>{"third", 2})) << "one sync covers both";
  const SyncStats stats = (*syncer)->stats();
  EXPECT_EQ(stats.syncs, 2u);
  EXPECT_FALSE(stats.failed);
}

TEST(WalSyncer, AFailedSyncAcknowledgesNothingFromThenOn) {
  test_support::TempDir dir;
  const auto wal = dir.path() / "events.db-wal";
  touch(wal);
  std::atomic<int> calls{0};
  // The first sync fails; later ones would "succeed", as Linux may report
  // after it dropped the pages it could not write: they must not be trusted.
  auto syncer = WalSyncer::start(wal, [&calls](int) { return calls++ == 0 ? EIO : 0; });
  ASSERT_TRUE(syncer.ok()) << syncer.error().message;

  std::mutex mutex;
  std::vector<std::optional<Error>> results;
  const auto keep = [&](const std::optional<Error>& error) {
    const std::lock_guard lock(mutex);
    results.push_back(error);
  };
  (*syncer)->after(keep);
  ASSERT_TRUE(waitUntil([&] { return (*syncer)->stats().callbacks == 1; }));
  (*syncer)->after(keep);
  ASSERT_TRUE(waitUntil([&] { return (*syncer)->stats().callbacks == 2; }));

  const std::lock_guard lock(mutex);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value()) << "acknowledged after a failed fsync";
    EXPECT_NE(result->message.find(wal.string()), std::string::npos) << result->message;
    EXPECT_NE(result->message.find("Input/output error"), std::string::npos) << result->message;
    EXPECT_NE(result->hint.find("restart lifeboat-coordinator"), std::string::npos) << result->hint;
  }
  EXPECT_EQ(calls.load(), 1) << "no sync is tried once one failed";
  const SyncStats stats = (*syncer)->stats();
  EXPECT_TRUE(stats.failed);
  EXPECT_EQ(stats.syncs, 0u);
}

TEST(WalSyncer, AFileReplacedUnderItIsOpenedAndSyncedToo) {
  test_support::TempDir dir;
  const auto wal = dir.path() / "events.db-wal";
  touch(wal, "old");
  std::atomic<int> calls{0};
  auto syncer = WalSyncer::start(wal, [&calls](int fd) {
    ++calls;
    return ::fdatasync(fd) == 0 ? 0 : errno;
  });
  ASSERT_TRUE(syncer.ok()) << syncer.error().message;
  std::filesystem::rename(wal, dir.path() / "moved-away");
  touch(wal, "new");

  std::atomic<bool> ok{false};
  (*syncer)->after([&ok](const std::optional<Error>& error) { ok = !error.has_value(); });
  ASSERT_TRUE(waitUntil([&] { return (*syncer)->stats().callbacks == 1; }));
  EXPECT_TRUE(ok.load());
  EXPECT_EQ(calls.load(), 2) << "the old file, then the new one";
  EXPECT_EQ((*syncer)->stats().reopened, 1u);

  // From then on the new file only.
  (*syncer)->after([](const std::optional<Error>&) {});
  ASSERT_TRUE(waitUntil([&] { return (*syncer)->stats().callbacks == 2; }));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ((*syncer)->stats().reopened, 1u);
}

TEST(WalSyncer, StoppingRunsWhatIsPending) {
  test_support::TempDir dir;
  const auto wal = dir.path() / "events.db-wal";
  touch(wal);
  std::atomic<int> done{0};
  {
    auto syncer = WalSyncer::start(wal);
    ASSERT_TRUE(syncer.ok()) << syncer.error().message;
    for (int i = 0; i < 100; ++i) {
      (*syncer)->after([&done](const std::optional<Error>& error) {
        EXPECT_FALSE(error.has_value());
        ++done;
      });
    }
  }
  EXPECT_EQ(done.load(), 100);
}

TEST(WalSyncer, RefusesAMissingFileAndNamesIt) {
  test_support::TempDir dir;
  auto syncer = WalSyncer::start(dir.path() / "none.db-wal");
  ASSERT_FALSE(syncer.ok());
  EXPECT_NE(syncer.error().message.find("none.db-wal"), std::string::npos)
      << syncer.error().message;
  EXPECT_NE(syncer.error().message.find("No such file"), std::string::npos)
      << syncer.error().message;
}

// The committer's set-up on a real database: commits return without their
// own fsync, and the callback after them finds them stored.
TEST(WalSyncer, DeferredCommitsOfARealStoreAreSyncedThenAcknowledged) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->walFile(), std::filesystem::path(file.string() + "-wal"));
  auto syncer = WalSyncer::start((*store)->walFile());
  ASSERT_TRUE(syncer.ok()) << syncer.error().message;
  auto deferred = (*store)->setCommitSync(CommitSync::Deferred);
  ASSERT_TRUE(deferred.ok()) << deferred.error().message;

  std::atomic<int> acknowledged{0};
  for (int batch = 0; batch < 20; ++batch) {
    auto stored = (*store)->append(outputEvents("db-eu-1", "run-1", 1 + batch * 50, 50));
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    (*syncer)->after([&acknowledged, &file, batch](const std::optional<Error>& error) {
      EXPECT_FALSE(error.has_value()) << error->message;
      // What the callback acknowledges is there for any reader.
      EXPECT_GE(std::stoi(sqlValue(file, "SELECT count(*) FROM events")), (batch + 1) * 50);
      ++acknowledged;
    });
  }
  ASSERT_TRUE(waitUntil([&] { return acknowledged.load() == 20; }));
  const SyncStats stats = (*syncer)->stats();
  EXPECT_GE(stats.syncs, 1u);
  EXPECT_LE(stats.syncs, 20u) << "one sync covers the commits before it";
  EXPECT_EQ(stats.callbacks, 20u);
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "1000");
}

TEST(WalSyncer, AReadOnlyStoreRefusesToChangeHowCommitsSync) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto writer = Store::open(file);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  auto reader = Store::open(file, Access::ReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto refused = (*reader)->setCommitSync(CommitSync::Deferred);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("read-only"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace lifeboat::store
