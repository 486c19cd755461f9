#include "lifeboat/plugin_host/catalog.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::plugin_host {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// The real runner, counting how often a plugin was started.
class CountingRunner : public process::Runner {
 public:
  Result<process::Outcome> run(const process::Command& command) override {
    ++calls;
    return real_.run(command);
  }
  int calls = 0;

 private:
  process::PosixRunner real_;
};

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest() {
    plugins_ = root_ / "plugins";
    fs::create_directories(plugins_);
  }

  // A plugin written as a shell script; `body` runs after the request was
  // read into $request.
  fs::path writePlugin(const std::string& name, const std::string& body, bool executable = true,
                       const fs::path& directory = {}) {
    fs::path path = (directory.empty() ? plugins_ : directory) / name;
    std::ofstream(path) << "#!/bin/sh\nread -r request\n" << body << "\n";
    fs::permissions(path, executable ? fs::perms(0755) : fs::perms(0644));
    return path;
  }

  // A plugin that describes itself as `describedName` and counts its runs.
  fs::path writeGoodPlugin(const std::string& name, const std::string& describedName) {
    return writePlugin(
        name, "echo run >> '" + (root_ / (name + ".calls")).string() +
                  "'\n"
                  "if [ \"$request\" != '{\"v\":1,\"op\":\"describe\"}' ]; then\n"
                  "  echo '{\"ok\":false,\"error\":\"unexpected request\"}'; exit 2\n"
                  "fi\n"
                  "echo 'describing' >&2\n"
                  "printf '%s\\n' '{\"progress\":\"looking at myself\"}'\n"
                  "printf '%s\\n' '{\"ok\":true,\"plugin\":{\"name\":\"" +
                  describedName +
                  "\",\"version\":\"1.2.3\",\"description\":\"test plugin\","
                  "\"actions\":{\"ping\":{\"description\":\"pings\",\"probe\":true}}}}'\n");
  }

  int callsOf(const std::string& name) const {
    std::ifstream file(root_ / (name + ".calls"));
    int lines = 0;
    for (std::string line; std::getline(file, line);) {
      ++lines;
    }
    return lines;
  }

  Catalog catalog(std::chrono::milliseconds timeout = 10s) {
    return Catalog(SearchPath{{plugins_}}, runner_, timeout);
  }

  test_support::TempDir temp_;
  fs::path root_ = temp_.path();
  fs::path plugins_;
  CountingRunner runner_;
};

TEST_F(CatalogTest, DescribesAGoodPlugin) {
  const fs::path path = writeGoodPlugin("good", "good");
  Catalog plugins = catalog();
  ASSERT_EQ(plugins.locate("good"), path);
  auto description = plugins.describe("good");
  ASSERT_TRUE(description) << description.error().message;
  EXPECT_EQ((*description)->name, "good");
  EXPECT_EQ((*description)->version, "1.2.3");
  const plugin::ActionSchema* ping = (*description)->findAction("ping");
  ASSERT_NE(ping, nullptr);
  EXPECT_TRUE(ping->probe);
}

TEST_F(CatalogTest, CachesDescriptions) {
  writeGoodPlugin("good", "good");
  Catalog plugins = catalog();
  auto first = plugins.describe("good");
  auto second = plugins.describe("good");
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(callsOf("good"), 1);
  EXPECT_EQ(runner_.calls, 1);
}

TEST_F(CatalogTest, CachesFailuresToo) {
  writePlugin("broken", "echo run >> '" + (root_ / "broken.calls").string() + "'; exit 1");
  Catalog plugins = catalog();
  auto first = plugins.describe("broken");
  auto second = plugins.describe("broken");
  ASSERT_FALSE(first);
  ASSERT_FALSE(second);
  EXPECT_EQ(first.error().message, second.error().message);
  EXPECT_EQ(callsOf("broken"), 1);
}

TEST_F(CatalogTest, PluginExitingNonZeroIsAnErrorWithItsStderr) {
  writePlugin("failing", "echo 'cannot read /etc/failing.conf' >&2; exit 3");
  auto description = catalog().describe("failing");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("plugin 'failing'"));
  EXPECT_THAT(description.error().message, HasSubstr((plugins_ / "failing").string()));
  EXPECT_THAT(description.error().message, HasSubstr("exited with status 3"));
  EXPECT_THAT(description.error().message, HasSubstr("cannot read /etc/failing.conf"));
}

TEST_F(CatalogTest, StderrTailKeepsOnlyTheLastLines) {
  writePlugin("chatty",
              "i=1; while [ $i -le 30 ]; do printf 'log-%02d\\n' $i >&2; i=$((i+1)); done; exit 1");
  auto description = catalog().describe("chatty");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("log-11"));
  EXPECT_THAT(description.error().message, HasSubstr("log-30"));
  EXPECT_THAT(description.error().message, Not(HasSubstr("log-10")));
}

TEST_F(CatalogTest, GarbageOnStdoutBreaksTheProtocol) {
  writePlugin("garbage", "echo 'Starting garbage plugin v2'; exit 0");
  auto description = catalog().describe("garbage");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("plugin 'garbage'"));
  EXPECT_THAT(description.error().message, HasSubstr("broke the protocol on stdout line 1"));
}

TEST_F(CatalogTest, LineAfterTheFinalAnswerBreaksTheProtocol) {
  writePlugin("late",
              "printf '%s\\n' '{\"ok\":true,\"plugin\":{\"name\":\"late\",\"version\":\"1\","
              "\"actions\":{}}}' '{\"progress\":\"one more thing\"}'");
  auto description = catalog().describe("late");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("line 2 comes after the final answer"));
}

TEST_F(CatalogTest, RefusalCarriesThePluginsErrorAndHint) {
  writePlugin("refusing",
              "printf '%s\\n' '{\"ok\":false,\"error\":\"license expired\","
              "\"hint\":\"renew the license\"}'; exit 1");
  auto description = catalog().describe("refusing");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("plugin 'refusing'"));
  EXPECT_THAT(description.error().message, HasSubstr("license expired"));
  EXPECT_EQ(description.error().hint, "renew the license");
}

TEST_F(CatalogTest, OkAnswerWithNonZeroExitIsAnError) {
  writePlugin("confused",
              "printf '%s\\n' '{\"ok\":true,\"plugin\":{\"name\":\"confused\",\"version\":\"1\","
              "\"actions\":{}}}'; exit 1");
  auto description = catalog().describe("confused");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("answered ok:true but exited with status 1"));
}

TEST_F(CatalogTest, ExitWithoutAnswerIsAnError) {
  writePlugin("silent", "exit 0");
  auto description = catalog().describe("silent");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("without a final"));
}

TEST_F(CatalogTest, AnswerWithoutPluginMemberIsAnError) {
  writePlugin("empty", "printf '%s\\n' '{\"ok\":true}'");
  auto description = catalog().describe("empty");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("without a 'plugin' member"));
}

TEST_F(CatalogTest, InvalidDescriptionIsAnError) {
  writePlugin("sloppy", "printf '%s\\n' '{\"ok\":true,\"plugin\":{\"name\":\"sloppy\"}}'");
  auto description = catalog().describe("sloppy");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("plugin 'sloppy'"));
  EXPECT_THAT(description.error().message, HasSubstr("version"));
}

TEST_F(CatalogTest, HangingPluginTimesOut) {
  writePlugin("hanging", "echo 'waiting for nothing' >&2; sleep 100");
  const auto started = std::chrono::steady_clock::now();
  auto description = catalog(300ms).describe("hanging");
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("did not answer describe within 300ms"));
  EXPECT_THAT(description.error().message, HasSubstr("waiting for nothing"));
  EXPECT_LT(took, 5s);
}

TEST_F(CatalogTest, NameMismatchIsAnError) {
  writeGoodPlugin("mismatch", "other");
  auto description = catalog().describe("mismatch");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("describes itself as 'other'"));
  EXPECT_THAT(description.error().message, HasSubstr("named 'mismatch'"));
}

TEST_F(CatalogTest, NonExecutableFileIsAnError) {
  writePlugin("plain", "exit 0", /*executable=*/false);
  Catalog plugins = catalog();
  EXPECT_FALSE(plugins.locate("plain"));
  auto description = plugins.describe("plain");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("is not executable"));
  EXPECT_THAT(description.error().hint, HasSubstr("chmod +x"));
  EXPECT_EQ(runner_.calls, 0);
}

TEST_F(CatalogTest, MissingPluginListsTheDirectoriesSearched) {
  const fs::path other = root_ / "other";
  fs::create_directories(other);
  Catalog plugins(SearchPath{{plugins_, other}}, runner_);
  auto description = plugins.describe("absent");
  ASSERT_FALSE(description);
  EXPECT_THAT(description.error().message, HasSubstr("plugin 'absent' not found"));
  EXPECT_THAT(description.error().message, HasSubstr(plugins_.string()));
  EXPECT_THAT(description.error().message, HasSubstr(other.string()));
  EXPECT_THAT(description.error().hint, HasSubstr("--plugins-dir"));
  EXPECT_EQ(runner_.calls, 0);
}

TEST_F(CatalogTest, InvalidNamesAreRejectedWithoutRunningAnything) {
  // An executable right outside the plugin directory that "../x" would reach.
  writePlugin("x", "echo ran >> '" + (root_ / "x.calls").string() + "'", true, root_);
  Catalog plugins = catalog();
  for (const std::string name : {"../x", "A", "", "x/", ".", "good plugin"}) {
    EXPECT_FALSE(isValidPluginName(name)) << name;
    EXPECT_FALSE(plugins.locate(name)) << name;
    auto description = plugins.describe(name);
    ASSERT_FALSE(description) << name;
    EXPECT_THAT(description.error().message, HasSubstr("invalid plugin name")) << name;
  }
  EXPECT_EQ(runner_.calls, 0);
  EXPECT_EQ(callsOf("x"), 0);
  EXPECT_TRUE(isValidPluginName("postgres"));
  EXPECT_TRUE(isValidPluginName("my_plugin-2"));
}

TEST_F(CatalogTest, FirstDirectoryWins) {
  const fs::path second = root_ / "second";
  fs::create_directories(second);
  const fs::path first = writeGoodPlugin("good", "good");
  writeGoodPlugin("unused", "unused");
  fs::copy_file(first, second / "good");
  Catalog plugins(SearchPath{{plugins_, second}}, runner_);
  EXPECT_EQ(plugins.locate("good"), first);
  Catalog reversed(SearchPath{{second, plugins_}}, runner_);
  EXPECT_EQ(reversed.locate("good"), second / "good");
}

TEST(DefaultSearchPath, OrdersExplicitThenEnvironmentThenInstalled) {
  ASSERT_EQ(::setenv("LIFEBOAT_PLUGINS_PATH", "/env/one::/env/two", 1), 0);
  const SearchPath path = defaultSearchPath({"/explicit/a", "/explicit/b"});
  ::unsetenv("LIFEBOAT_PLUGINS_PATH");
  const fs::path executable = fs::read_symlink("/proc/self/exe");
  const fs::path besideBinary =
      (executable.parent_path() / ".." / "lib" / "lifeboat" / "plugins").lexically_normal();
  EXPECT_EQ(path.directories,
            (std::vector<fs::path>{"/explicit/a", "/explicit/b", "/env/one", "/env/two",
                                   besideBinary, "/usr/lib/lifeboat/plugins"}));
}

TEST(DefaultSearchPath, WorksWithoutTheEnvironmentVariable) {
  ::unsetenv("LIFEBOAT_PLUGINS_PATH");
  const SearchPath path = defaultSearchPath({});
  ASSERT_EQ(path.directories.size(), 2u);
  EXPECT_EQ(path.directories.back(), fs::path("/usr/lib/lifeboat/plugins"));
}

}  // namespace
}  // namespace lifeboat::plugin_host
