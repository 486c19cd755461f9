// `lifeboat drill` streaming to the real `lifeboat-coordinator` over mutual
// TLS on loopback: every journal event reaches the store once; a coordinator
// that is down, a wrong CA or a wrong pin leave the run's exit code alone and
// the events spooled for a later process.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "coordinator_process.hpp"
#include "lifeboat/journal/journal.hpp"
#include "lifeboat/stream/spool.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::stream {
namespace {

namespace fs = std::filesystem;
using namespace test_support;

const char* kRunbook = R"([runbook]
name = "stream-e2e"
service = "stream-e2e"

[objectives]
rto = "1m"

[targets.local]
region = "local"

[[step]]
id = "s1"
target = "local"
exec = ["/bin/sh", "-c", "echo one; echo two >&2"]

[[step]]
id = "s2"
target = "local"
after = ["s1"]
restores_service = true
exec = ["/bin/sh", "-c", "echo three"]
)";

class StreamEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(coordinatorBinary())) << coordinatorBinary() << " is not built";
    coordinator_ = std::make_unique<CoordinatorProcess>(temp_.path() / "coordinator",
                                                        std::vector<std::string>{"db-1"});
    runbook_ = temp_.write("rb.toml", kRunbook);
  }

  fs::path agentConfig(const std::string& extra, const fs::path& ca = {},
                       const std::string& flushTimeout = "5s") {
    return temp_.write("agent.toml",
                       "name = \"db-1\"\nstate_dir = \"" + state().string() +
                           "\"\nrunbooks = []\n\n[coordinator]\nurl = \"" + coordinator_->url() +
                           "\"\nca_file = \"" +
                           (ca.empty() ? coordinator_->tls("ca.pem") : ca).string() +
                           "\"\ncert_file = \"" + coordinator_->tls("agent-db-1.pem").string() +
                           "\"\nkey_file = \"" + coordinator_->tls("agent-db-1-key.pem").string() +
                           "\"\nflush_timeout = \"" + flushTimeout + "\"\n" + extra);
  }
  fs::path state() const { return temp_.path() / "state"; }

  ProcessResult drill(const fs::path& config) {
    return runLifeboat(
        {"drill", runbook_.string(), "--config", config.string(), "--output", "json"}, {},
        {{"LIFEBOAT_STATE_DIR", ""}, {"LIFEBOAT_CONFIG", ""}});
  }

  // (run, seq) of every event in the state directory's run journals.
  std::multiset<std::pair<std::string, std::uint64_t>> journaled() const {
    std::multiset<std::pair<std::string, std::uint64_t>> events;
    for (const auto& entry : fs::directory_iterator(state())) {
      const fs::path file = entry.path() / journal::kJournalFileName;
      if (!fs::exists(file))
        continue;
      auto contents = journal::readJournal(file);
      EXPECT_TRUE(contents) << contents.error().message;
      for (const Event& event : contents->events)
        events.emplace(event.run, event.seq);
    }
    return events;
  }

  TempDir temp_;
  std::unique_ptr<CoordinatorProcess> coordinator_;
  fs::path runbook_;
};

TEST_F(StreamEndToEnd, DrillStreamsEveryJournalEventOnce) {
  coordinator_->start();
  const ProcessResult result = drill(agentConfig(""));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.err.find("not yet acknowledged"), std::string::npos) << result.err;
  const auto journal = journaled();
  ASSERT_GE(journal.size(), 8u);
  EXPECT_EQ(coordinator_->stored("db-1"), journal) << coordinator_->log();
  EXPECT_TRUE(listSegments(state() / "spool").empty()) << "acknowledged segments are deleted";
}

TEST_F(StreamEndToEnd, CoordinatorDownRunExitsNormallyAndALaterProcessDelivers) {
  const fs::path config = agentConfig("");
  const ProcessResult down = drill(config);
  ASSERT_EQ(down.exitCode, 0) << down.err;
  EXPECT_NE(down.err.find("unreachable, retrying"), std::string::npos) << down.err;
  EXPECT_NE(down.err.find("events not yet acknowledged by the coordinator; they stay spooled in " +
                          (state() / "spool").string()),
            std::string::npos)
      << down.err;
  EXPECT_EQ(down.err.find("agent-db-1-key.pem\n"), std::string::npos);
  const auto first = journaled();
  EXPECT_FALSE(listSegments(state() / "spool").empty());

  coordinator_->start();
  const ProcessResult later = drill(config);
  ASSERT_EQ(later.exitCode, 0) << later.err;
  const auto all = journaled();
  EXPECT_GT(all.size(), first.size());
  EXPECT_EQ(coordinator_->stored("db-1"), all) << "each event exactly once\n"
                                               << coordinator_->log();
  EXPECT_TRUE(listSegments(state() / "spool").empty());
}

TEST_F(StreamEndToEnd, WrongCaIsRefusedAndLoggedEventsStaySpooled) {
  coordinator_->start();
  // Another CA the coordinator's certificate does not chain to.
  const fs::path other = temp_.path() / "other";
  ASSERT_EQ(runProcess({coordinatorBinary().string(), "certs", "init", other.string()}).exitCode,
            0);
  const ProcessResult result = drill(agentConfig("", other / "ca.pem", "1s"));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("certificate verify failed"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("stay spooled"), std::string::npos) << result.err;
  EXPECT_TRUE(coordinator_->stored("db-1").empty());
  std::uint64_t pending = 0;
  for (const SegmentInfo& segment : listSegments(state() / "spool"))
    pending += segment.size;
  EXPECT_GT(pending, 0u);
}

TEST_F(StreamEndToEnd, WrongPinIsRefusedAndLoggedEventsStaySpooled) {
  coordinator_->start();
  const ProcessResult result =
      drill(agentConfig("pin_sha256 = \"" + std::string(64, '0') + "\"\n", {}, "1s"));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("stay spooled"), std::string::npos) << result.err;
  EXPECT_TRUE(coordinator_->stored("db-1").empty());
}

}  // namespace
}  // namespace lifeboat::stream
