// Input that toml++ 3.3.0 cannot take safely must be refused with a clear
// error and exit status 2, never a crash (docs/testing.md).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

constexpr std::string_view kHeader = "[runbook]\nname = \"x\"\nservice = \"x\"\n";

void expectRefused(const TempDir& dir, const std::string& name, std::string_view content,
                   std::string_view expectedPhrase) {
  dir.write(name, content);
  const ProcessResult result = runLifeboat({"validate", name}, dir.path());
  EXPECT_EQ(result.signal, 0) << name << ": lifeboat crashed";
  EXPECT_EQ(result.exitCode, 2) << name;
  EXPECT_NE(result.err.find(name + ":"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(": error: "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(expectedPhrase), std::string::npos) << name << " said:\n"
                                                                << result.err.substr(0, 2000);
}

TEST(HostileInput, MalformedUtf8) {
  TempDir dir;
  expectRefused(dir, "truncated.toml", std::string(kHeader) + "description = \"caf\xC3\"\n",
                "invalid UTF-8");
  expectRefused(dir, "overlong.toml", std::string(kHeader) + "# \xC0\xAF\n", "invalid UTF-8");
  expectRefused(dir, "surrogate.toml", std::string(kHeader) + "# \xED\xA0\x80\n", "invalid UTF-8");
  expectRefused(dir, "stray.toml", std::string(kHeader) + "\x80", "invalid UTF-8");
}

TEST(HostileInput, NulBytes) {
  TempDir dir;
  expectRefused(dir, "nul.toml", std::string("[\0x]\n", 5), "NUL byte");
}

TEST(HostileInput, NonAsciiOutsideStrings) {
  TempDir dir;
  expectRefused(dir, "key.toml", std::string(kHeader) + "\xC3\xA9 = 1\n", "non-ASCII character");
  expectRefused(dir, "value.toml", std::string(kHeader) + "a = \xC3\xA9\n", "non-ASCII character");
  expectRefused(dir, "header.toml", "[\xC3\xA9]\n", "non-ASCII character");
  expectRefused(dir, "fefe.toml", "\xEF\xBB\xBE", "non-ASCII character");
}

TEST(HostileInput, ArraysNestedTenThousandDeep) {
  TempDir dir;
  expectRefused(dir, "arrays.toml",
                std::string(kHeader) + "x = " + std::string(10'000, '[') + std::string(10'000, ']'),
                "nested more than");
  std::string inlineTables = "x = ";
  for (int i = 0; i < 10'000; ++i) {
    inlineTables += "{a=";
  }
  inlineTables += "1" + std::string(10'000, '}');
  expectRefused(dir, "tables.toml", std::string(kHeader) + inlineTables, "nested more than");
}

TEST(HostileInput, DottedKeysAMillionLevelsDeep) {
  TempDir dir;
  std::string key = "a";
  key.reserve(2'000'002);
  for (int i = 0; i < 1'000'000; ++i) {
    key += ".a";
  }
  expectRefused(dir, "dotted.toml", std::string(kHeader) + key + " = 1\n", "dotted key");
  expectRefused(dir, "header.toml", std::string(kHeader) + "[" + key + "]\n", "dotted key");
}

TEST(HostileInput, HundredMegabyteFileIsRefusedBySize) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "huge.toml";
  {
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 100LL * 1024 * 1024), 0);  // sparse: costs no disk
    ::close(fd);
  }
  const ProcessResult result = runLifeboat({"validate", "huge.toml"}, dir.path());
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.err.find("104857600 bytes, more than the limit"), std::string::npos)
      << result.err;
}

TEST(HostileInput, ValidNonAsciiInStringsAndCommentsIsAccepted) {
  TempDir dir;
  dir.write("ok.toml", std::string(kHeader) +
                           "description = \"Bestellungen \xE2\x80\x93 Z\xC3\xBCrich\"  # "
                           "\xE6\x97\xA5\xE6\x9C\xAC\n"
                           "[[step]]\nid = \"s\"\nnotify = { audience = \"k\", message = '''"
                           "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82'''}\n");
  const ProcessResult result = runLifeboat({"validate", "ok.toml"}, dir.path());
  EXPECT_EQ(result.exitCode, 0) << result.err;
}

}  // namespace
}  // namespace lifeboat::test_support
