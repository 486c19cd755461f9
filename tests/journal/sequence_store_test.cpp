#include "lifeboat/journal/sequence_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "test_dir.hpp"

namespace lifeboat::journal {
namespace {

using ::testing::HasSubstr;

std::string fileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using SequenceStoreTest = TempDirTest;

std::uint64_t nextOf(SequenceStore& store) {
  Result<std::uint64_t> value = store.next();
  EXPECT_TRUE(value.ok()) << value.error().message;
  return value.ok() ? *value : 0;
}

TEST_F(SequenceStoreTest, StartsAtOneAndReservesABlockDurably) {
  Result<SequenceStore> store = SequenceStore::open(dir_, 10);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ / kSequenceFileName));  // nothing reserved yet
  EXPECT_EQ(nextOf(*store), 1u);
  EXPECT_EQ(fileText(dir_ / kSequenceFileName), "11\n");
  for (std::uint64_t expected = 2; expected <= 10; ++expected) {
    EXPECT_EQ(nextOf(*store), expected);
  }
  EXPECT_EQ(fileText(dir_ / kSequenceFileName), "11\n");  // one write per block
  EXPECT_EQ(nextOf(*store), 11u);
  EXPECT_EQ(fileText(dir_ / kSequenceFileName), "21\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "seq.tmp"));
  struct stat status {};
  ASSERT_EQ(::stat((dir_ / kSequenceFileName).c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0077, 0u);
}

TEST_F(SequenceStoreTest, MonotonicAcrossRestartsNeverReusing) {
  std::uint64_t last = 0;
  for (int restart = 0; restart < 5; ++restart) {
    Result<SequenceStore> store = SequenceStore::open(dir_, 4);
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (int i = 0; i < restart + 2; ++i) {  // sometimes inside a block, sometimes across
      const std::uint64_t value = nextOf(*store);
      EXPECT_GT(value, last);
      last = value;
    }
  }
}

// Two agent processes on one state directory (two runs of different services
// at once) each reserve blocks; no number may be handed out twice.
TEST_F(SequenceStoreTest, TwoStoresOnOneDirectoryNeverShareANumber) {
  Result<SequenceStore> first = SequenceStore::open(dir_, 3);
  Result<SequenceStore> second = SequenceStore::open(dir_, 3);
  ASSERT_TRUE(first.ok() && second.ok());
  std::set<std::uint64_t> seen;
  for (int round = 0; round < 20; ++round) {
    SequenceStore& store = (round % 3 == 0) ? *second : *first;
    const std::uint64_t value = nextOf(store);
    EXPECT_TRUE(seen.insert(value).second) << "number " << value << " handed out twice";
  }
}

TEST_F(SequenceStoreTest, CrashBetweenReservationAndUseSkipsTheRestOfTheBlock) {
  {
    Result<SequenceStore> store = SequenceStore::open(dir_);  // default block of 1000
    ASSERT_TRUE(store.ok());
    for (std::uint64_t expected = 1; expected <= 5; ++expected) {
      EXPECT_EQ(nextOf(*store), expected);
    }
    // The agent dies here: 1..5 used, 6..1000 reserved but never handed out.
  }
  Result<SequenceStore> restarted = SequenceStore::open(dir_);
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(nextOf(*restarted), 1001u);
}

TEST_F(SequenceStoreTest, LeftoverTemporaryFileDoesNotMatter) {
  {
    Result<SequenceStore> store = SequenceStore::open(dir_, 10);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(nextOf(*store), 1u);
  }
  // A crash before the rename leaves seq.tmp beside the old, intact seq.
  std::ofstream(dir_ / "seq.tmp") << "9";
  Result<SequenceStore> restarted = SequenceStore::open(dir_, 10);
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(nextOf(*restarted), 11u);
}

TEST_F(SequenceStoreTest, CorruptFileIsAnErrorNotAFreshStart) {
  for (std::string_view text : {"", "abc\n", "12x\n", "-5\n", "0\n", "99999999999999999999999\n"}) {
    std::ofstream(dir_ / kSequenceFileName, std::ios::trunc) << text;
    Result<SequenceStore> store = SequenceStore::open(dir_);
    ASSERT_FALSE(store.ok()) << text;
    EXPECT_THAT(store.error().message, HasSubstr("does not hold a positive decimal number"));
  }
}

TEST_F(SequenceStoreTest, MissingDirectoryIsAnError) {
  Result<SequenceStore> store = SequenceStore::open(dir_ / "absent");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr("absent"));
}

TEST_F(SequenceStoreTest, ExhaustionIsAnError) {
  std::ofstream(dir_ / kSequenceFileName) << "18446744073709551615\n";
  Result<SequenceStore> store = SequenceStore::open(dir_, 10);
  ASSERT_TRUE(store.ok());
  Result<std::uint64_t> value = store->next();
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(value.error().message, HasSubstr("exhausted"));
}

}  // namespace
}  // namespace lifeboat::journal
