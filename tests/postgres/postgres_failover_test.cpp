// A whole failover against real servers, in the order a runbook takes it:
// the canary writer runs against the primary, replication stalls (the
// walsender is stopped) while canaries keep being acknowledged, the primary
// crashes, it is fenced, the standby is promoted, the data loss is measured
// from the canaries, and the old primary rejoins as a standby (pg_rewind).

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "lifeboat/test_support/temp_dir.hpp"
#include "plugin_runner.hpp"

namespace lifeboat::test_servers {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::string readAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The number of canaries the writer has had acknowledged by `origin`, from
// its state file (0 while it has none).
std::int64_t acknowledgedId(const fs::path& state, const std::string& origin) {
  boost::system::error_code code;
  const json::value value = json::parse(readAll(state), code);
  if (code || !value.is_object()) {
    return 0;
  }
  const json::value* entry = value.at("origins").as_object().if_contains(origin);
  return entry != nullptr ? entry->at("id").as_int64() : 0;
}

class CanaryWriterProcess {
 public:
  CanaryWriterProcess(const std::string& dsn, const fs::path& state, const fs::path& log,
                      const fs::path& passwordFile) {
    const std::string writer = (test_support::binaryDir() / "bin/lifeboat-pg-canary").string();
    const int logFd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = test_support::startBackground(
        {writer, "--dsn", dsn, "--state", state.string(), "--interval", "100ms", "--writer",
         "test-canary", "--password-file", passwordFile.string()},
        {test_support::kDevNull, logFd, logFd});
    ::close(logFd);
    EXPECT_GT(pid_, 0) << "cannot start " << writer;
  }
  ~CanaryWriterProcess() { stop(); }

  // SIGTERM and reap; the exit status (-1 when it was not running).
  int stop() {
    if (pid_ <= 0) {
      return -1;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

TEST(PostgresFailoverTest, CanariesMeasureTheRealDataLossAndTheOldPrimaryRejoins) {
  test_support::TempDir temp;
  auto primary = PostgresServer::primary(temp.path() / "primary");
  ASSERT_NE(primary, nullptr);
  auto standby = PostgresServer::standbyOf(*primary, temp.path() / "standby");
  ASSERT_NE(standby, nullptr);
  const std::string oldOrigin = primary->address() + ":" + std::to_string(primary->port());
  const std::string newOrigin = standby->address() + ":" + std::to_string(standby->port());

  const fs::path state = temp.path() / "canary-state.json";
  const fs::path writerLog = temp.path() / "canary.log";
  const fs::path passwordFile = temp.write("canary-password", std::string(kTestPassword) + "\n");
  CanaryWriterProcess writer(primary->dsn(), state, writerLog, passwordFile);

  // Canaries flow and reach the standby.
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (acknowledgedId(state, oldOrigin) < 5 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(acknowledgedId(state, oldOrigin), 5) << readAll(writerLog);
  ASSERT_TRUE(standby->waitFor("SELECT count(*) >= 5 FROM lifeboat.canary"));

  // Replication stalls while the primary keeps acknowledging writes, then
  // the primary crashes: everything acknowledged in that window is lost.
  const pid_t walSender = primary->walSenderPid("standby1");
  ASSERT_GT(walSender, 0);
  ASSERT_EQ(::kill(walSender, SIGSTOP), 0);
  const auto stalled = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  primary->kill9();  // the stopped walsender dies with it
  const double stallSeconds = std::chrono::duration<double>(Clock::now() - stalled).count();
  const std::int64_t lastAcknowledged = acknowledgedId(state, oldOrigin);

  // Fence the dead primary: with data_dir, fence writes standby.signal.
  auto fenced = runPlugin("run", "fence", targetOf(*primary, true), {}, "r-failover");
  ASSERT_TRUE(fenced.ok()) << fenced.dump();
  EXPECT_EQ(fenced.outputText("method"), "signal_only");
  EXPECT_EQ(fenced.output("was_running"), false);
  EXPECT_THAT(readAll(primary->dataDir() / "standby.signal"),
              HasSubstr("lifeboat fence: run r-failover, fencing token 7"));

  auto promoted = runPlugin("run", "promote", targetOf(*standby), {{"wait", "20s"}});
  ASSERT_TRUE(promoted.ok()) << promoted.dump();
  EXPECT_EQ(promoted.output("already_primary"), false);
  EXPECT_EQ(promoted.output("timeline"), 2);
  auto again = runPlugin("run", "promote", targetOf(*standby));
  ASSERT_TRUE(again.ok()) << again.dump();
  EXPECT_EQ(again.output("already_primary"), true);

  // The canary writer keeps failing against the dead primary and says so
  // once; it stops cleanly on SIGTERM.
  EXPECT_EQ(writer.stop(), 0);
  const std::string log = readAll(writerLog);
  EXPECT_THAT(log, HasSubstr("failing"));
  EXPECT_EQ(log.find(kTestPassword), std::string::npos);

  auto loss =
      runPlugin("check", "data_loss", targetOf(*standby), {{"canary_state", state.string()}});
  ASSERT_TRUE(loss.ok()) << loss.dump();
  EXPECT_EQ(loss.outputText("origin"), oldOrigin);
  EXPECT_EQ(loss.output("last_acknowledged_id"), lastAcknowledged);
  EXPECT_EQ(loss.output("canary_interval_ms"), 100);
  // The canaries acknowledged while replication stalled are the data lost:
  // the window the test measured on its own clock, within two intervals
  // plus replication and scheduling slack.
  const double rpo = loss.rpoSeconds();
  std::cout << "[ measured ] stall " << stallSeconds << " s, data_loss rpo_seconds " << rpo
            << " s, lost_canaries " << loss.outputText("lost_canaries") << "\n";
  EXPECT_GE(rpo, stallSeconds - 0.5) << loss.dump();
  EXPECT_LE(rpo, stallSeconds + 0.5) << loss.dump();
  EXPECT_GE(loss.output("lost_canaries").as_int64(), 8) << loss.dump();
  // Cross-check with the table itself: the newest surviving canary of the
  // old primary on the new one.
  EXPECT_EQ(loss.outputText("newest_surviving_id"),
            standby->queryValue("SELECT max(id) FROM lifeboat.canary WHERE origin = '" + oldOrigin +
                                "'"));
  auto newPrimaryWrites = runPlugin("check", "verify_writes", targetOf(*standby));
  ASSERT_TRUE(newPrimaryWrites.ok()) << newPrimaryWrites.dump();
  EXPECT_EQ(newPrimaryWrites.outputText("origin"), newOrigin);

  // Failback groundwork: the old primary rewinds and follows the new one.
  auto rejoined = runPlugin("run", "rejoin", targetOf(*primary, true),
                            {{"primary_dsn", standby->dsn()}}, "r-failover");
  ASSERT_TRUE(rejoined.ok()) << rejoined.dump()
                             << readAll(primary->dataDir() / "lifeboat-rejoin.log");
  EXPECT_EQ(rejoined.outputText("method"), "rewind");
  EXPECT_TRUE(standby->waitForStreaming("primary"))
      << readAll(primary->dataDir() / "lifeboat-rejoin.log");
  auto status = runPlugin("check", "status", targetOf(*primary), {{"expect_role", "standby"}});
  ASSERT_TRUE(status.ok()) << status.dump();
  // It kept its own address and port (pg_rewind copied the new primary's
  // configuration; rejoin put the node's own back).
  EXPECT_EQ(primary->queryValue("SELECT current_setting('port')"), std::to_string(primary->port()));
  // The lost canaries are gone from it too: it now has the new history.
  EXPECT_TRUE(primary->waitFor("SELECT count(*) = 0 FROM lifeboat.canary WHERE origin = '" +
                               oldOrigin + "' AND id > " + loss.outputText("newest_surviving_id")));
}

}  // namespace
}  // namespace lifeboat::test_servers
