// What a person at a terminal meets: the confirmation of a real failover, a
// decision asked on the terminal, the live view drawing in place. Driven on a
// pseudo-terminal by tests/cli/pty_drive.py.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <fstream>
#include <string>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

std::string readText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs `lifeboat ARGS` on a terminal, answering each expected text with its
// reply. Returns the transcript; `exitCode` gets the agent's status.
std::string onTerminal(const std::vector<std::string>& arguments,
                       const std::vector<std::pair<std::string, std::string>>& script,
                       int& exitCode) {
  std::vector<std::string> argv{(binaryDir() / "bin" / "lifeboat").string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  boost::json::array steps;
  for (const auto& [expected, reply] : script) {
    steps.push_back(boost::json::array{boost::json::string(expected), boost::json::string(reply)});
  }
  const boost::json::object spec{
      {"argv", boost::json::value_from(argv)}, {"script", steps}, {"timeout", 30}};
  const ProcessResult result =
      runProcess({"/usr/bin/python3", (sourceDir() / "tests/cli/pty_drive.py").string(),
                  boost::json::serialize(spec)});
  EXPECT_EQ(result.exitCode, 0) << result.out << result.err;
  const std::size_t exitLine = result.out.rfind("\nEXIT ");
  exitCode = exitLine == std::string::npos ? -1 : std::stoi(result.out.substr(exitLine + 6));
  return result.out;
}

std::string decisionRunbook(const std::filesystem::path& marker) {
  return "[runbook]\nname = \"tty\"\nservice = \"tty\"\n[objectives]\nrto = \"1m\"\n"
         "[targets.local]\nregion = \"local\"\n"
         "[[step]]\nid = \"choose\"\n[step.decision]\nquestion = \"Promote the standby?\"\n"
         "approvers = [\"alice\", \"bob\"]\n"
         "[[step.decision.options]]\nid = \"promote\"\nimpact = \"lose 12s of orders\"\n"
         "[[step.decision.options]]\nid = \"wait\"\nimpact = \"stay down\"\n"
         "[[step]]\nid = \"act\"\nafter = [\"choose\"]\ntarget = \"local\"\n"
         "restores_service = true\n"
         "exec = [\"/bin/sh\", \"-c\", \"echo ${steps.choose.outputs.choice} > " +
         marker.string() + "\"]\n";
}

TEST(Terminal, DecisionIsAskedOnTheTerminalWithImpactsAndRecorded) {
  TempDir dir;
  const auto marker = dir.path() / "chosen";
  const auto file = dir.write("tty.toml", decisionRunbook(marker));
  int exitCode = -1;
  const std::string transcript =
      onTerminal({"drill", file.string(), "--state-dir", (dir.path() / "state").string()},
                 {{"Choice (number or id):", "2"},
                  {"Your name", "mallory"},
                  {"not an approver", "bob"},
                  {"Rationale", "the primary may come back"}},
                 exitCode);
  EXPECT_EQ(exitCode, 0) << transcript;
  EXPECT_NE(transcript.find("impact: lose 12s of orders"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("Approvers: alice, bob"), std::string::npos) << transcript;
  EXPECT_EQ(readText(marker), "wait\n");
}

TEST(Terminal, RealRunAsksForTheServiceNameAndDoesNothingOnAWrongOne) {
  TempDir dir;
  const auto marker = dir.path() / "chosen";
  const auto file = dir.write("tty.toml", decisionRunbook(marker));
  const std::string state = (dir.path() / "state").string();
  int exitCode = -1;
  std::string transcript =
      onTerminal({"run", file.string(), "--state-dir", state, "--decide", "choose=promote",
                  "--approver", "alice", "--rationale", "r"},
                 {{"Type the service name (tty) to go ahead:", "not-tty"}}, exitCode);
  EXPECT_EQ(exitCode, 2) << transcript;
  EXPECT_NE(transcript.find("REAL failover of service tty"), std::string::npos) << transcript;
  EXPECT_FALSE(std::filesystem::exists(marker));

  transcript = onTerminal({"run", file.string(), "--state-dir", state, "--decide", "choose=promote",
                           "--approver", "alice", "--rationale", "r"},
                          {{"Type the service name (tty) to go ahead:", "tty"}}, exitCode);
  EXPECT_EQ(exitCode, 0) << transcript;
  EXPECT_EQ(readText(marker), "promote\n");
  // The live view drew in place on the terminal: cursor movement escapes.
  EXPECT_NE(transcript.find("\x1b["), std::string::npos);
}

}  // namespace
}  // namespace lifeboat::test_support
