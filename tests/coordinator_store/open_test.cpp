// Opening the store: migrations, reopening, and the files it refuses.

#include <gtest/gtest.h>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::outputEvents;
using testing::sqlExecute;
using testing::sqlValue;

TEST(StoreOpen, MigratesAFreshDatabaseInWalMode) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  {
    auto store = Store::open(file);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->schemaVersion(), newestSchemaVersion());
    EXPECT_EQ(sqlValue(file, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(sqlValue(file, "SELECT group_concat(version) FROM schema_version"), "1");
    for (const char* table : {"events", "agents", "runs", "objectives", "decisions", "notes"}) {
      EXPECT_EQ(sqlValue(file, std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                                   table + "'"),
                "1")
          << table;
    }
  }
  // Opening again applies nothing twice.
  auto again = Store::open(file);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM schema_version"), "1");
}

TEST(StoreOpen, ReopeningKeepsTheData) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  {
    auto store = Store::open(file);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto stored = (*store)->append(outputEvents("db-eu-1", "r1", 1, 20));
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(*stored, 20u);
  }
  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto events = (*store)->events({});
  ASSERT_TRUE(events.ok()) << events.error().message;
  EXPECT_EQ(events->size(), 20u);
  auto runs = (*store)->runs({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0).at("events").as_int64(), 20);
}

TEST(StoreOpen, RefusesADatabaseFromANewerCoordinator) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  ASSERT_TRUE(Store::open(file).ok());
  sqlExecute(file, "INSERT INTO schema_version (version, applied_at) VALUES (7, 0)");
  for (Access access : {Access::ReadWrite, Access::ReadOnly}) {
    auto store = Store::open(file, access);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find(file.string()), std::string::npos)
        << store.error().message;
    EXPECT_NE(store.error().message.find("schema version 7, newer than"), std::string::npos)
        << store.error().message;
  }
  // Nothing was changed by the refused opening.
  EXPECT_EQ(sqlValue(file, "SELECT group_concat(version) FROM schema_version"), "1,7");
}

TEST(StoreOpen, RefusesAFileThatIsNotSqlite) {
  test_support::TempDir dir;
  const std::string text =
      "database = \"/var/lib/lifeboat-coordinator/events.db\"\n"
      "[agents]\nlisten = \"127.0.0.1:7443\"\n"
      "# a config file named where the database should be, long enough "
      "to hold a whole SQLite header and more\n";
  const auto file = dir.write("coordinator.toml", text);
  for (Access access : {Access::ReadWrite, Access::ReadOnly}) {
    auto store = Store::open(file, access);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().message.find(file.string() + " is not an SQLite database"), 0u)
        << store.error().message;
    EXPECT_FALSE(store.error().hint.empty());
  }
  EXPECT_EQ(test_support::readText(file), text);
}

TEST(StoreOpen, RefusesAnotherProgramsDatabase) {
  test_support::TempDir dir;
  const auto file = dir.path() / "other.db";
  sqlExecute(file, "CREATE TABLE orders (id INTEGER PRIMARY KEY)");
  auto store = Store::open(file);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("of something else"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM sqlite_schema"), "1");
}

TEST(StoreOpen, ANewDatabaseGetsSmallPagesAnExistingOneKeepsItsOwn) {
  test_support::TempDir dir;
  const auto fresh = dir.path() / "fresh.db";
  {
    auto store = Store::open(fresh);
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  EXPECT_EQ(sqlValue(fresh, "PRAGMA page_size"), "1024");

  // A database made before (SQLite's 4 KiB pages, rollback journal) opens,
  // migrates to WAL and keeps its pages and its data.
  const auto older = dir.path() / "older.db";
  sqlExecute(older, "PRAGMA page_size = 4096; CREATE TABLE t (x); DROP TABLE t;");
  ASSERT_EQ(sqlValue(older, "PRAGMA page_size"), "4096");
  {
    auto store = Store::open(older);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto stored = (*store)->append(outputEvents("db-eu-1", "r1", 1, 20));
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }
  EXPECT_EQ(sqlValue(older, "PRAGMA page_size"), "4096");
  EXPECT_EQ(sqlValue(older, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(sqlValue(older, "SELECT count(*) FROM events"), "20");
}

TEST(StoreOpen, ReadOnlyNeedsAnExistingMigratedDatabase) {
  test_support::TempDir dir;
  auto missing = Store::open(dir.path() / "missing.db", Access::ReadOnly);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find((dir.path() / "missing.db").string()), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing.db"));

  const auto empty = dir.write("empty.db", "");
  auto unmigrated = Store::open(empty, Access::ReadOnly);
  ASSERT_FALSE(unmigrated.ok());
  EXPECT_NE(unmigrated.error().message.find("no coordinator data yet"), std::string::npos)
      << unmigrated.error().message;
}

TEST(StoreOpen, ReadOnlyStoreRefusesEveryWrite) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  auto writer = Store::open(file);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->append(outputEvents("a", "r", 1, 1)).ok());
  auto reader = Store::open(file, Access::ReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto appended = (*reader)->append(outputEvents("a", "r", 2, 3));
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find("read-only"), std::string::npos);
  EXPECT_FALSE((*reader)->recordPresence({.agent = "a", .online = true, .at = testing::at()}).ok());
  EXPECT_FALSE((*reader)->addNote("a", "r", "alice", "text", testing::at()).ok());
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM events"), "1");
  EXPECT_EQ(sqlValue(file, "SELECT count(*) FROM notes"), "0");
}

}  // namespace
}  // namespace lifeboat::store
