// The built lifeboat-coordinator: serve's ready line, acknowledged events
// surviving SIGKILL, a clean exit on SIGTERM, and the token command.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <thread>

#include "lifeboat/coordinator/tokens.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "server_fixture.hpp"

namespace lifeboat::coordinator {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Running {
  pid_t pid = -1;
  int agentsPort = 0;
  int apiPort = 0;
};

// Starts `serve` and waits (up to 20 s) for its "listening:" line.
Running serve(const fs::path& config, const fs::path& out, const fs::path& err) {
  const int outFd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int errFd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  Running running;
  running.pid = test_support::startBackground(
      {LIFEBOAT_COORDINATOR_BINARY, "serve", "--config", config.string()},
      {test_support::kDevNull, outFd, errFd});
  ::close(outFd);
  ::close(errFd);
  const std::regex line(
      R"(listening: agents wss://127\.0\.0\.1:(\d+)/v1/stream, api https://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 400 && running.pid > 0; ++i) {
    std::smatch match;
    const std::string text = test_support::readText(out);
    if (std::regex_search(text, match, line)) {
      running.agentsPort = std::stoi(match[1]);
      running.apiPort = std::stoi(match[2]);
      return running;
    }
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "no listening line; stderr: " << test_support::fileTail(err);
  return running;
}

int waitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(CoordinatorBinary, AcknowledgedEventsSurviveSigkillAndSigtermExitsCleanly) {
  test_support::TempDir dir;
  const fs::path config = dir.write("coordinator.toml", testConfig(dir.path() / "events.db"));
  Running first = serve(config, dir.path() / "out-1.txt", dir.path() / "err.txt");
  ASSERT_GT(first.agentsPort, 0);
  std::string error;
  auto agent = test_support::WsClient::connect(
      first.agentsPort, testCertificates().agent("db-eu-1"), "/v1/stream", error);
  ASSERT_NE(agent, nullptr) << error << test_support::fileTail(dir.path() / "err.txt");
  ASSERT_EQ(agent->send(helloLine("db-eu-1")), "");
  for (std::uint64_t first_seq = 1; first_seq <= 400; first_seq += 100) {
    ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", first_seq, first_seq + 99)), "");
  }
  for (int ack = 100; ack <= 400; ack += 100) {
    ASSERT_EQ(agent->receive().value_or(agent->lastError()),
              "{\"ack\":" + std::to_string(ack) + "}");
  }
  ::kill(first.pid, SIGKILL);
  EXPECT_EQ(waitExit(first.pid), 128 + SIGKILL);
  agent.reset();

  Running second = serve(config, dir.path() / "out-2.txt", dir.path() / "err.txt");
  ASSERT_GT(second.apiPort, 0);
  test_support::HttpReply events =
      test_support::httpsRequest(second.apiPort, {testCertificates().ca, {}, {}}, "GET",
                                 "/api/v1/events?agent=db-eu-1&limit=1000", kViewerToken);
  ASSERT_EQ(events.status, 200) << events.body << events.error;
  const boost::json::value page = boost::json::parse(events.body);
  const auto& list = page.at("events").as_array();
  ASSERT_EQ(list.size(), 400u);
  EXPECT_EQ(list.back().at("seq"), 400);
  test_support::HttpReply agents = test_support::httpsRequest(
      second.apiPort, {testCertificates().ca, {}, {}}, "GET", "/api/v1/agents", kViewerToken);
  EXPECT_EQ(boost::json::parse(agents.body).at("agents").as_array()[0].at("online"), false)
      << "a restart marks every agent offline";

  ::kill(second.pid, SIGTERM);
  EXPECT_EQ(waitExit(second.pid), 0);
  const std::string log = test_support::readText(dir.path() / "err.txt");
  EXPECT_NE(log.find("received SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  EXPECT_EQ(log.find(kViewerToken), std::string::npos) << "a token in the log";
}

TEST(CoordinatorBinary, TokenPrintsATokenAndTheConfigLinesWithItsHash) {
  test_support::ProcessResult made =
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "token", "operator", "alice"});
  ASSERT_EQ(made.exitCode, 0) << made.err;
  const std::vector<std::string> lines = made.lines();
  ASSERT_GE(lines.size(), 6u) << made.out;
  const std::string token = lines[0];
  EXPECT_EQ(token.rfind("lbt_", 0), 0u);
  EXPECT_NE(made.out.find("[[token]]\nname = \"alice\"\nrole = \"operator\"\nsha256 = \"" +
                          sha256Hex(token) + "\"\n"),
            std::string::npos)
      << made.out;
  test_support::ProcessResult other =
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "token", "operator", "alice"});
  EXPECT_NE(other.lines().at(0), token);
  EXPECT_EQ(
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "token", "admin", "alice"}).exitCode,
      2);
}

TEST(CoordinatorBinary, CheckReportsEveryConfigProblemWithItsPlace) {
  test_support::TempDir dir;
  const fs::path config = dir.write("bad.toml",
                                    "databse = \"x.db\"\n"
                                    "[agents]\n"
                                    "listen = \"nowhere\"\n"
                                    "cert_file = \"missing.pem\"\n"
                                    "key_file = \"missing-key.pem\"\n"
                                    "client_ca_file = \"ca.pem\"\n"
                                    "[[token]]\n"
                                    "name = \"bob\"\n"
                                    "role = \"admin\"\n"
                                    "sha256 = \"abc\"\n");
  test_support::ProcessResult checked =
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "check", "--config", config.string()});
  EXPECT_EQ(checked.exitCode, 2);
  const std::string path = config.string();
  EXPECT_NE(checked.err.find(path + ":1:11: error: unknown key 'databse'"), std::string::npos)
      << checked.err;
  EXPECT_NE(checked.err.find("did you mean 'database'?"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find(path + ":3:10: error: [agents] listen 'nowhere' is not IP:PORT"),
            std::string::npos)
      << checked.err;
  EXPECT_NE(checked.err.find("missing required key 'api'"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("role"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("sha256 is not 64 hex digits"), std::string::npos) << checked.err;

  const fs::path good = dir.write("good.toml", testConfig(dir.path() / "events.db"));
  test_support::ProcessResult ok =
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "check", "--config", good.string()});
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
  EXPECT_TRUE(fs::exists(dir.path() / "events.db"));
}

TEST(CoordinatorBinary, ServeRefusesAPortInUseWithExitCode1) {
  test_support::TempDir dir;
  const fs::path config = dir.write("coordinator.toml", testConfig(dir.path() / "events.db"));
  Running first = serve(config, dir.path() / "out-1.txt", dir.path() / "err-1.txt");
  ASSERT_GT(first.agentsPort, 0);
  std::string text = test_support::readText(config);
  text.replace(text.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(first.agentsPort));
  const fs::path clash = dir.write("clash.toml", text);
  test_support::ProcessResult refused =
      test_support::runProcess({LIFEBOAT_COORDINATOR_BINARY, "serve", "--config", clash.string()});
  EXPECT_EQ(refused.exitCode, 1) << refused.err;
  EXPECT_NE(refused.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.agentsPort)),
            std::string::npos)
      << refused.err;
  ::kill(first.pid, SIGTERM);
  EXPECT_EQ(waitExit(first.pid), 0);
}

}  // namespace
}  // namespace lifeboat::coordinator
