// The broken-runbook corpus: tests/runbooks/invalid/NAME.toml is validated
// and its diagnostics (stderr) must equal NAME.expected byte for byte, with
// exit status 2 and nothing on stdout. Set LIFEBOAT_UPDATE_GOLDEN=1 to
// rewrite the .expected files after an intended change, then review the diff.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

std::filesystem::path corpusDir() {
  return sourceDir() / "tests" / "runbooks";
}

std::vector<std::string> corpusFiles() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(corpusDir() / "invalid")) {
    if (entry.path().extension() == ".toml") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, DiagnosticsMatchExpected) {
  const std::string name = GetParam();
  const std::string relative = "invalid/" + name + ".toml";
  ProcessResult result = runLifeboat({"validate", relative}, corpusDir());
  // Messages may name the build tree (the plugin search path): make them
  // independent of where the checkout lives.
  const std::string build = binaryDir().lexically_normal().string();
  for (std::size_t at = result.err.find(build); at != std::string::npos;
       at = result.err.find(build, at)) {
    result.err.replace(at, build.size(), "<build>");
  }
  EXPECT_EQ(result.signal, 0) << "lifeboat crashed";
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_EQ(result.out, "");
  const std::filesystem::path expectedPath = corpusDir() / "invalid" / (name + ".expected");
  if (std::getenv("LIFEBOAT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expectedPath, std::ios::binary) << result.err;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(expectedPath)) << expectedPath << " is missing";
  EXPECT_EQ(result.err, readFile(expectedPath));
}

TEST(CorpusCoverage, EveryFileHasAnExpectedOutput) {
  const std::vector<std::string> names = corpusFiles();
  EXPECT_GE(names.size(), 30U);
  for (const std::string& name : names) {
    EXPECT_TRUE(std::filesystem::exists(corpusDir() / "invalid" / (name + ".expected"))) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Invalid, Corpus, ::testing::ValuesIn(corpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace lifeboat::test_support
