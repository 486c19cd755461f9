#include "lifeboat/common/read_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat {
namespace {

using test_support::TempDir;

TEST(ReadFile, ReadsUpToTheLimitAndRefusesOneByteMore) {
  TempDir dir;
  const auto exact = dir.write("exact", std::string(16, 'x'));
  const auto over = dir.write("over", std::string(17, 'x'));
  const FileRead ok = readFile(exact, {.maxBytes = 16});
  ASSERT_EQ(ok.status, FileRead::Status::ok);
  EXPECT_EQ(ok.contents, std::string(16, 'x'));
  const FileRead large = readFile(over, {.maxBytes = 16});
  EXPECT_EQ(large.status, FileRead::Status::tooLarge);
  EXPECT_EQ(large.size, 17U);
  EXPECT_TRUE(large.contents.empty());
}

TEST(ReadFile, AnEndlessSpecialFileStopsOneBytePastTheLimit) {
  const FileRead endless = readFile("/dev/zero", {.maxBytes = 1 << 20});
  EXPECT_EQ(endless.status, FileRead::Status::tooLarge);
  EXPECT_FALSE(endless.size.has_value());  // not known up front
  EXPECT_EQ(readFile("/dev/zero", {.maxBytes = 10, .requireRegularFile = true}).status,
            FileRead::Status::notRegular);
}

TEST(ReadFile, ReportsDirectoriesFifosAndMissingFiles) {
  TempDir dir;
  EXPECT_EQ(readFile(dir.path(), {.maxBytes = 10}).status, FileRead::Status::directory);
  const auto fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Must not block waiting for a writer.
  EXPECT_EQ(readFile(fifo, {.maxBytes = 10, .requireRegularFile = true}).status,
            FileRead::Status::notRegular);
  const FileRead missing = readFile(dir.path() / "missing", {.maxBytes = 10});
  EXPECT_EQ(missing.status, FileRead::Status::systemError);
  EXPECT_EQ(missing.error, ENOENT);
}

TEST(ReadFile, NoLimitReadsEverything) {
  TempDir dir;
  const std::string big(3 * 65536 + 7, 'y');
  const FileRead all = readFile(dir.write("big", big), {.maxBytes = SIZE_MAX});
  ASSERT_EQ(all.status, FileRead::Status::ok);
  EXPECT_EQ(all.contents, big);
}

}  // namespace
}  // namespace lifeboat
