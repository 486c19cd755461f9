// WAL checkpoints off the writer's thread: the writer's automatic checkpoint
// off, a WalCheckpointer copying the WAL into the database file and making
// the writer start the WAL again, on a real SQLite file.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "lifeboat/store/checkpointer.hpp"
#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::outputEvents;
using testing::sqlValue;
using testing::waitUntil;

std::uintmax_t walBytes(const std::filesystem::path& file) {
  return std::filesystem::file_size(file.string() + "-wal");
}

// `batches` commits of 50 events each, seq on from `first`.
void appendBatches(Store& store, std::uint64_t first, int batches) {
  for (int b = 0; b < batches; ++b) {
    auto stored = store.append(outputEvents("db-eu-1", "run-1", first + b * 50, 50));
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    ASSERT_EQ(*stored, 50u);
  }
}

TEST(StoreCheckpoint, WithoutTheAutomaticCheckpointTheWalKeepsGrowing) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;

  auto small = (*store)->setWalAutoCheckpoint(8);
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(*small, 8);
  appendBatches(**store, 1, 40);
  const std::uintmax_t checkpointed = walBytes(file);

  auto off = (*store)->setWalAutoCheckpoint(0);
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(*off, 0);
  appendBatches(**store, 2001, 40);
  // Every page the 40 commits wrote is still in the WAL, none reused.
  EXPECT_GT(walBytes(file), checkpointed + 40 * 4096);
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "4000");
}

TEST(StoreCheckpoint, ARestartCheckpointCopiesTheWalAndTheWriterStartsItAgain) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  auto checkpointer = WalCheckpointer::start(file, nullptr, {.restartFrames = 64});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;

  const std::uintmax_t databaseBefore = std::filesystem::file_size(file);
  appendBatches(**store, 1, 40);
  const std::uintmax_t grown = walBytes(file);
  ASSERT_GT(grown, 64u * 4096);

  auto done = (*checkpointer)->checkpointNow();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->restarts, 1u);
  EXPECT_GE(done->walFrames, 64);
  EXPECT_EQ(done->copiedFrames, done->walFrames) << "everything copied";
  EXPECT_GT(std::filesystem::file_size(file), databaseBefore) << "the pages are in the database";

  // The next commits overwrite the WAL from its start instead of growing it.
  appendBatches(**store, 2001, 5);
  EXPECT_EQ(walBytes(file), grown);
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "2250");
  EXPECT_EQ(sqlValue(file, "PRAGMA integrity_check"), "ok");
}

TEST(StoreCheckpoint, ThePassiveCheckpointCopiesWhileTheWalIsSmall) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  auto checkpointer = WalCheckpointer::start(file, nullptr, {.restartFrames = 1000000});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;

  appendBatches(**store, 1, 10);
  auto done = (*checkpointer)->checkpointNow();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->passive, 1u);
  EXPECT_EQ(done->restarts, 0u);
  EXPECT_GT(done->walFrames, 0);
  EXPECT_EQ(done->copiedFrames, done->walFrames);
}

TEST(StoreCheckpoint, TheThreadCheckpointsAfterCommitsItIsToldOf) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  auto checkpointer = WalCheckpointer::start(
      file, nullptr, {.pause = std::chrono::milliseconds(1), .restartFrames = 64});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;
  EXPECT_EQ((*checkpointer)->stats().passive, 0u) << "nothing to do before a commit";

  // The WAL stays bounded while the writer commits and tells the thread.
  std::uintmax_t largest = 0;
  for (int round = 0; round < 20; ++round) {
    appendBatches(**store, 1 + round * 500, 10);
    (*checkpointer)->committed();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((*checkpointer)->stats().passive < static_cast<std::uint64_t>(round + 1) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    largest = std::max(largest, walBytes(file));
  }
  const CheckpointStats stats = (*checkpointer)->stats();
  EXPECT_GE(stats.passive, 20u);
  EXPECT_GE(stats.restarts, 1u);
  // 200 commits wrote far more than this; restarts kept reusing the start.
  EXPECT_LT(largest, std::uintmax_t{8} * 1024 * 1024);
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "10000");
}

TEST(StoreCheckpoint, TheWriterFinishesARestartTheThreadPreparedAndTheWalStaysBounded) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  auto checkpointer = WalCheckpointer::start(file, nullptr,
                                             {.pause = std::chrono::milliseconds(1),
                                              .restartFrames = 64,
                                              .writerRestarts = true,
                                              .restartLag = 4096});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;

  // The writer's loop as the committer runs it: commit, tell, and between
  // two transactions finish the restart when asked.
  std::uintmax_t largest = 0;
  int finished = 0;
  for (int round = 0; round < 200; ++round) {
    appendBatches(**store, 1 + round * 50, 1);
    (*checkpointer)->committed();
    if ((*checkpointer)->restartWanted()) {
      auto copied = (*store)->checkpoint();
      ASSERT_TRUE(copied.ok()) << copied.error().message;
      EXPECT_TRUE(*copied) << "the rest was small and nothing else wrote";
      (*checkpointer)->writerCheckpointed();
      EXPECT_FALSE((*checkpointer)->restartWanted());
      ++finished;
    }
    largest = std::max(largest, walBytes(file));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const CheckpointStats stats = (*checkpointer)->stats();
  EXPECT_GE(finished, 1);
  // The last handover may come after the writer's last look.
  EXPECT_GE(stats.handedOver, static_cast<std::uint64_t>(finished));
  EXPECT_LE(stats.handedOver, static_cast<std::uint64_t>(finished) + 1);
  EXPECT_EQ(stats.restarts, 0u) << "the thread never RESTARTs a writer that takes its turn";
  EXPECT_LT(largest, std::uintmax_t{8} * 1024 * 1024) << "200 commits, the WAL reused";
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "10000");
  EXPECT_EQ(sqlValue(file, "PRAGMA integrity_check"), "ok");
}

TEST(StoreCheckpoint, AWriterThatDoesNotTakeItsTurnIsIdleAndTheThreadRestarts) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  auto checkpointer = WalCheckpointer::start(file, nullptr,
                                             {.pause = std::chrono::milliseconds(1),
                                              .restartFrames = 64,
                                              .restartWait = std::chrono::milliseconds(20),
                                              .writerRestarts = true});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.error().message;
  appendBatches(**store, 1, 40);
  const std::uintmax_t grown = walBytes(file);
  (*checkpointer)->committed();
  ASSERT_TRUE(waitUntil([&] { return (*checkpointer)->restartWanted(); }));
  // The writer stops writing and never looks: after 2 x restartWait the
  // thread runs the RESTART itself.
  ASSERT_TRUE(waitUntil([&] { return (*checkpointer)->stats().restarts == 1; }));
  EXPECT_FALSE((*checkpointer)->restartWanted());
  appendBatches(**store, 2001, 5);
  EXPECT_EQ(walBytes(file), grown) << "the next commits start the WAL again";
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "2250");
}

TEST(StoreCheckpoint, TheWritersOwnCheckpointCopiesAllAndItsNextCommitStartsTheWalAgain) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->setWalAutoCheckpoint(0).ok());
  appendBatches(**store, 1, 40);
  const std::uintmax_t grown = walBytes(file);
  auto copied = (*store)->checkpoint();
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_TRUE(*copied);
  appendBatches(**store, 2001, 5);
  EXPECT_EQ(walBytes(file), grown);
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "2250");

  auto reader = Store::open(file, Access::ReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_FALSE((*reader)->checkpoint().ok()) << "read-only";
}

TEST(StoreCheckpoint, RefusesADatabaseTheStoreHasNotCreated) {
  test_support::TempDir dir;
  auto missing = WalCheckpointer::start(dir.path() / "none.db", nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("none.db"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace lifeboat::store
