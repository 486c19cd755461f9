// Runs the built `file` plugin executable through its stdin/stdout, as the
// agent does.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

// SHA-256 of "hello" (the well-known test vector).
constexpr std::string_view kHelloSha256 =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeText(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct Answer {
  test_support::ProcessResult process;
  json::object final;  // the last stdout line; empty when it is not an object

  bool ok() const { return final.contains("ok") && final.at("ok") == true; }
  std::string error() const {
    const json::value* error = final.if_contains("error");
    return error != nullptr && error->is_string() ? std::string(error->get_string()) : "";
  }
  const json::value& output(std::string_view name) const { return final.at("outputs").at(name); }
  std::string outputText(std::string_view name) const {
    const json::value& value = output(name);
    return value.is_string() ? std::string(value.get_string()) : json::serialize(value);
  }
};

class FilePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_ = (test_support::binaryDir() / "lib/lifeboat/plugins/file").string();
    ASSERT_EQ(::access(plugin_.c_str(), X_OK), 0) << plugin_ << " is not built";
    base_ = temp_.path();
    root_ = base_ / "root";
    outside_ = base_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
  }

  Answer send(std::string_view request) {
    Answer answer;
    answer.process = test_support::runProcess({plugin_}, request);
    const std::string last = answer.process.lastLine();
    boost::system::error_code error;
    json::value value = json::parse(last, error);
    if (!error && value.is_object()) {
      answer.final = value.get_object();
    }
    return answer;
  }

  Answer act(std::string_view op, std::string_view action, const json::object& params) {
    json::object request{
        {"v", 1},           {"op", op},
        {"action", action}, {"target", {{"root", root_.string()}, {"plugin", "file"}}},
        {"params", params}, {"context", {{"run", "r-1"}, {"step", "s"}, {"drill", true}}}};
    return send(json::serialize(request));
  }
  Answer run(std::string_view action, const json::object& params) {
    return act("run", action, params);
  }

  std::string plugin_;
  test_support::TempDir temp_;
  fs::path base_;
  fs::path root_;
  fs::path outside_;
};

TEST_F(FilePluginTest, DescribeParsesAndDeclaresTheActions) {
  Answer answer = send(R"({"v":1,"op":"describe"})");
  ASSERT_EQ(answer.process.exitCode, 0) << answer.process.err;
  auto description = plugin::parseDescription(answer.final.at("plugin"));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "file");
  ASSERT_EQ(description->targetParams.size(), 1u);
  EXPECT_EQ(description->targetParams[0].name, "root");
  EXPECT_TRUE(description->targetParams[0].required);
  const plugin::ActionSchema* write = description->findAction("write");
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->undoneBy, "remove");
  EXPECT_FALSE(write->probe);
  const plugin::ActionSchema* check = description->findAction("check");
  ASSERT_NE(check, nullptr);
  EXPECT_TRUE(check->probe);
  EXPECT_NE(description->findAction("move"), nullptr);
  EXPECT_NE(description->findAction("remove"), nullptr);
}

TEST_F(FilePluginTest, WriteCreatesTheFileAtomicallyWithItsParents) {
  Answer answer = run("write", {{"path", "state/primary.txt"}, {"content", "hello"}});
  ASSERT_TRUE(answer.ok()) << answer.process.out << answer.process.err;
  EXPECT_EQ(answer.process.exitCode, 0);
  const fs::path written = root_ / "state/primary.txt";
  EXPECT_EQ(readFile(written), "hello");
  EXPECT_EQ(answer.outputText("path"), fs::canonical(written).string());
  EXPECT_EQ(answer.output("bytes"), 5);
  EXPECT_EQ(answer.outputText("sha256"), kHelloSha256);
  struct stat status {};
  ASSERT_EQ(::stat(written.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0644u);
  // Exactly one progress line before the final one, and no temporary file left.
  const auto lines = answer.process.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("\"progress\""));
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "state"), fs::directory_iterator()), 1);
}

TEST_F(FilePluginTest, WriteSetsTheModeAndHonoursOverwrite) {
  ASSERT_TRUE(run("write", {{"path", "a"}, {"content", "one"}, {"mode", "0600"}}).ok());
  struct stat status {};
  ASSERT_EQ(::stat((root_ / "a").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);

  Answer refused = run("write", {{"path", "a"}, {"content", "two"}, {"overwrite", false}});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.process.exitCode, 1);
  EXPECT_THAT(refused.error(), HasSubstr("already exists and overwrite is false"));
  EXPECT_EQ(readFile(root_ / "a"), "one");

  Answer replaced = run("write", {{"path", "a"}, {"content", "three"}});
  EXPECT_TRUE(replaced.ok()) << replaced.error();
  EXPECT_EQ(readFile(root_ / "a"), "three");

  Answer badMode = run("write", {{"path", "b"}, {"content", "x"}, {"mode", "rw-r--r--"}});
  EXPECT_FALSE(badMode.ok());
  EXPECT_THAT(badMode.error(), HasSubstr("octal"));
  EXPECT_FALSE(fs::exists(root_ / "b"));
}

TEST_F(FilePluginTest, MoveRenamesAndRefusesToReplaceByDefault) {
  writeText(root_ / "from.txt", "data");
  writeText(root_ / "taken.txt", "keep");
  Answer refused = run("move", {{"from", "from.txt"}, {"to", "taken.txt"}});
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.error(), HasSubstr("already exists"));
  EXPECT_EQ(readFile(root_ / "taken.txt"), "keep");

  Answer moved = run("move", {{"from", "from.txt"}, {"to", "archive/to.txt"}});
  ASSERT_TRUE(moved.ok()) << moved.error();
  EXPECT_FALSE(fs::exists(root_ / "from.txt"));
  EXPECT_EQ(readFile(root_ / "archive/to.txt"), "data");
  EXPECT_EQ(moved.outputText("path"), fs::canonical(root_ / "archive/to.txt").string());

  Answer replaced =
      run("move", {{"from", "archive/to.txt"}, {"to", "taken.txt"}, {"overwrite", true}});
  ASSERT_TRUE(replaced.ok()) << replaced.error();
  EXPECT_EQ(readFile(root_ / "taken.txt"), "data");

  Answer missing = run("move", {{"from", "nothing"}, {"to", "x"}});
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr("expected 'nothing' to exist"));
}

TEST_F(FilePluginTest, CheckMatchesExistenceAndContent) {
  writeText(root_ / "state.txt", "role=primary\n");
  Answer exists = act("check", "check", {{"path", "state.txt"}});
  ASSERT_TRUE(exists.ok()) << exists.error();
  EXPECT_EQ(exists.output("exists"), true);
  EXPECT_EQ(exists.output("bytes"), 13);

  Answer contains = act("check", "check", {{"path", "state.txt"}, {"contains", "role=primary"}});
  EXPECT_TRUE(contains.ok()) << contains.error();

  Answer wrongContent = act("check", "check", {{"path", "state.txt"}, {"contains", "standby"}});
  EXPECT_FALSE(wrongContent.ok());
  EXPECT_EQ(wrongContent.process.exitCode, 1);
  EXPECT_THAT(wrongContent.error(), HasSubstr("expected 'state.txt'"));
  EXPECT_THAT(wrongContent.error(), HasSubstr("to contain 'standby'"));

  Answer missing = act("run", "check", {{"path", "gone.txt"}});
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(),
              HasSubstr("expected 'gone.txt' in " + fs::canonical(root_).string() + " to exist"));

  Answer absent = act("check", "check", {{"path", "gone.txt"}, {"exists", false}});
  EXPECT_TRUE(absent.ok()) << absent.error();
  EXPECT_EQ(absent.output("exists"), false);

  Answer present = act("check", "check", {{"path", "state.txt"}, {"exists", false}});
  EXPECT_FALSE(present.ok());
  EXPECT_THAT(present.error(), HasSubstr("not to exist"));

  Answer directory = act("check", "check", {{"path", "."}});
  EXPECT_FALSE(directory.ok());
  EXPECT_THAT(directory.error(), HasSubstr("names root itself"));
}

TEST_F(FilePluginTest, RemoveDeletesAndReportsWhetherItDid) {
  writeText(root_ / "doomed", "x");
  Answer removed = run("remove", {{"path", "doomed"}});
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_EQ(removed.output("removed"), true);
  EXPECT_FALSE(fs::exists(root_ / "doomed"));

  Answer again = run("remove", {{"path", "doomed"}});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.output("removed"), false);

  Answer strict = run("remove", {{"path", "doomed"}, {"missing_ok", false}});
  EXPECT_FALSE(strict.ok());
  EXPECT_THAT(strict.error(), HasSubstr("expected 'doomed'"));

  fs::create_directories(root_ / "full/inner");
  Answer notEmpty = run("remove", {{"path", "full"}});
  EXPECT_FALSE(notEmpty.ok());
  EXPECT_THAT(notEmpty.error(), HasSubstr("not empty"));
  EXPECT_TRUE(run("remove", {{"path", "full/inner"}}).ok());
  EXPECT_FALSE(fs::exists(root_ / "full/inner"));
}

TEST_F(FilePluginTest, WriteThenRemoveUndoesIt) {
  ASSERT_TRUE(run("write", {{"path", "drill/marker"}, {"content", "drill"}}).ok());
  ASSERT_TRUE(act("check", "check", {{"path", "drill/marker"}, {"contains", "drill"}}).ok());
  ASSERT_TRUE(run("remove", {{"path", "drill/marker"}}).ok());
  EXPECT_TRUE(act("check", "check", {{"path", "drill/marker"}, {"exists", false}}).ok());
}

class FilePluginEscapeTest : public FilePluginTest,
                             public ::testing::WithParamInterface<std::string_view> {};

TEST_P(FilePluginEscapeTest, PathsThatLeaveRootAreRefused) {
  const std::string path(GetParam());
  for (const Answer& answer : {run("write", {{"path", path}, {"content", "pwned"}}),
                               act("check", "check", {{"path", path}}),
                               run("remove", {{"path", path}, {"missing_ok", false}}),
                               run("move", {{"from", "x"}, {"to", path}})}) {
    EXPECT_FALSE(answer.ok()) << path << ": " << answer.process.out;
    EXPECT_EQ(answer.process.exitCode, 1) << path;
  }
  EXPECT_TRUE(fs::is_empty(outside_));
  EXPECT_TRUE(fs::exists("/etc/passwd"));
}

INSTANTIATE_TEST_SUITE_P(Paths, FilePluginEscapeTest,
                         ::testing::Values("../outside/x", "/etc/passwd", "a/../../outside/x", "..",
                                           "", "./.."));

TEST_F(FilePluginTest, ASymlinkCannotLeadOutOfRoot) {
  fs::create_directory_symlink(outside_, root_ / "door");
  writeText(outside_ / "secret.txt", "outside data");
  fs::create_symlink(outside_ / "secret.txt", root_ / "link.txt");

  Answer through = run("write", {{"path", "door/x"}, {"content", "pwned"}});
  EXPECT_FALSE(through.ok());
  EXPECT_THAT(through.error(), HasSubstr("outside root"));
  EXPECT_FALSE(fs::exists(outside_ / "x"));

  Answer deeper = run("write", {{"path", "door/new/x"}, {"content", "pwned"}});
  EXPECT_FALSE(deeper.ok());
  EXPECT_FALSE(fs::exists(outside_ / "new"));

  Answer read = act("check", "check", {{"path", "link.txt"}, {"contains", "outside"}});
  EXPECT_FALSE(read.ok());
  EXPECT_THAT(read.error(), HasSubstr("outside root"));

  Answer moveIn = run("move", {{"from", "door/secret.txt"}, {"to", "stolen.txt"}});
  EXPECT_FALSE(moveIn.ok());
  EXPECT_EQ(readFile(outside_ / "secret.txt"), "outside data");

  // Writing over the link replaces the link, not the file it points to.
  Answer replace = run("write", {{"path", "link.txt"}, {"content", "inside"}});
  ASSERT_TRUE(replace.ok()) << replace.error();
  EXPECT_FALSE(fs::is_symlink(root_ / "link.txt"));
  EXPECT_EQ(readFile(outside_ / "secret.txt"), "outside data");
}

TEST_F(FilePluginTest, ASymlinkInsideRootIsFollowed) {
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "alias");
  Answer answer = run("write", {{"path", "alias/f"}, {"content", "hello"}});
  ASSERT_TRUE(answer.ok()) << answer.error();
  EXPECT_EQ(readFile(root_ / "real/f"), "hello");
}

TEST_F(FilePluginTest, RootMustBeAnAbsoluteExistingDirectory) {
  for (std::string_view root : {"relative/dir", "/nonexistent/lifeboat-root"}) {
    json::object request{{"v", 1},
                         {"op", "run"},
                         {"action", "write"},
                         {"target", {{"root", root}}},
                         {"params", {{"path", "a"}, {"content", "b"}}}};
    Answer answer = send(json::serialize(request));
    EXPECT_FALSE(answer.ok()) << root;
    EXPECT_THAT(answer.error(), HasSubstr("target root"));
  }
}

TEST_F(FilePluginTest, UnknownParamGetsASuggestion) {
  Answer answer = run("write", {{"path", "a"}, {"contnet", "x"}});
  EXPECT_EQ(answer.process.exitCode, 2);
  EXPECT_THAT(answer.error(), HasSubstr("unknown param 'contnet' (did you mean 'content'?)"));
  EXPECT_FALSE(fs::exists(root_ / "a"));
}

TEST_F(FilePluginTest, WrongTypeAndMissingRequiredAreRefused) {
  Answer wrongType = run("write", {{"path", "a"}, {"content", "x"}, {"overwrite", "yes"}});
  EXPECT_EQ(wrongType.process.exitCode, 2);
  EXPECT_THAT(wrongType.error(),
              HasSubstr("'overwrite' must be a boolean (true or false), not a string"));

  Answer missing = run("write", {{"content", "x"}});
  EXPECT_EQ(missing.process.exitCode, 2);
  EXPECT_THAT(missing.error(), HasSubstr("missing required param 'path'"));

  Answer both = send(R"({"v":1,"op":"run","action":"remove","target":{"rot":"/tmp"},
      "params":{"pth":"a"}})");
  EXPECT_EQ(both.process.exitCode, 2);
  EXPECT_THAT(both.error(), HasSubstr("target: unknown param 'rot' (did you mean 'root'?)"));
  EXPECT_THAT(both.error(),
              HasSubstr("action 'remove': unknown param 'pth' (did you mean 'path'?)"));

  Answer noRoot = send(R"({"v":1,"op":"run","action":"remove","target":{},"params":{"path":"a"}})");
  EXPECT_EQ(noRoot.process.exitCode, 2);
  EXPECT_THAT(noRoot.error(), HasSubstr("missing required param 'root'"));
}

TEST_F(FilePluginTest, MalformedRequestsExitTwo) {
  for (std::string_view request : {std::string_view("{not json"), std::string_view(""),
                                   std::string_view(R"({"v":3,"op":"describe"})"),
                                   std::string_view(R"({"v":1,"op":"explode"})")}) {
    Answer answer = send(request);
    EXPECT_EQ(answer.process.exitCode, 2) << request;
    EXPECT_EQ(answer.final.at("ok"), false) << request;
    EXPECT_THAT(answer.error(), HasSubstr("invalid request")) << request;
    EXPECT_THAT(answer.process.err, HasSubstr("invalid request")) << request;
  }
}

TEST_F(FilePluginTest, CheckOpOnAWritingActionIsRefused) {
  Answer answer = act("check", "write", {{"path", "a"}, {"content", "x"}});
  EXPECT_EQ(answer.process.exitCode, 2);
  EXPECT_THAT(answer.error(), HasSubstr("'write' is not a probe"));
  EXPECT_FALSE(fs::exists(root_ / "a"));
}

TEST_F(FilePluginTest, AnOversizedRequestIsRefusedWithoutReadingItAll) {
  std::string huge =
      R"({"v":1,"op":"describe","pad":")" + std::string(5 * 1024 * 1024, 'x') + "\"}";
  Answer answer = send(huge);
  EXPECT_EQ(answer.process.exitCode, 2);
  EXPECT_THAT(answer.error(), HasSubstr("larger than"));
}

TEST_F(FilePluginTest, EveryStdoutLineIsProtocol) {
  Answer answer = run("write", {{"path", "p"}, {"content", "hello"}});
  ASSERT_TRUE(answer.ok());
  for (const std::string& line : answer.process.lines()) {
    EXPECT_TRUE(plugin::parseOutputLine(line).ok()) << line;
  }
}

}  // namespace
}  // namespace lifeboat
