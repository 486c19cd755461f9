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

#include "lifeboat/journal/journal.hpp"
#include "lifeboat/store/store.hpp"
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

fs::path coordinatorBinary() {
  return binaryDir() / "bin" / "lifeboat-coordinator";
}

class Coordinator {
 public:
  explicit Coordinator(const fs::path& directory) : directory_(directory) {
    const ProcessResult certs = runProcess({coordinatorBinary().string(), "certs", "init",
                                            (directory / "tls").string(), "--agent", "db-1"});
    EXPECT_EQ(certs.exitCode, 0) << certs.err;
    const int port = freePorts(2);
    agentsPort_ = port;
    std::ofstream(directory / "coordinator.toml")
        << "database = \"events.db\"\n\n[agents]\nlisten = \"127.0.0.1:" << port
        << "\"\ncert_file = \"tls/coordinator.pem\"\nkey_file = \"tls/coordinator-key.pem\"\n"
           "client_ca_file = \"tls/ca.pem\"\n\n[api]\nlisten = \"127.0.0.1:"
        << port + 1
        << "\"\ncert_file = \"tls/coordinator.pem\"\nkey_file = \"tls/coordinator-key.pem\"\n";
  }
  ~Coordinator() { stop(); }

  void start() {
    const fs::path log = directory_ / "coordinator.log";
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = startBackground({coordinatorBinary().string(), "serve", "--config",
                            (directory_ / "coordinator.toml").string()},
                           ChildStreams{kDevNull, fd, fd});
    ::close(fd);
    ASSERT_GT(pid_, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (readText(log).find("listening:") == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << fileTail(log);
      int status = 0;
      ASSERT_EQ(::waitpid(pid_, &status, WNOHANG), 0) << "coordinator exited: " << fileTail(log);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  std::string url() const {
    return "wss://127.0.0.1:" + std::to_string(agentsPort_) + "/v1/stream";
  }
  fs::path tls(const std::string& name) const { return directory_ / "tls" / name; }
  fs::path database() const { return directory_ / "events.db"; }
  std::string log() const { return fileTail(directory_ / "coordinator.log"); }

  // (run, seq) of every event the store holds for db-1.
  std::multiset<std::pair<std::string, std::uint64_t>> stored() const {
    std::multiset<std::pair<std::string, std::uint64_t>> events;
    auto store = store::Store::open(database(), store::Access::ReadOnly);
    EXPECT_TRUE(store) << store.error().message;
    if (!store)
      return events;
    store::EventFilter filter;
    filter.agent = "db-1";
    for (;;) {
      auto page = (*store)->events(filter);
      EXPECT_TRUE(page) << page.error().message;
      if (!page || page->empty())
        break;
      for (const auto& value : *page) {
        const auto& event = value.as_object();
        events.emplace(std::string(event.at("run").as_string()),
                       event.at("seq").to_number<std::uint64_t>());
        filter.afterId = event.at("id").to_number<std::int64_t>();
      }
    }
    return events;
  }

 private:
  fs::path directory_;
  int agentsPort_ = 0;
  pid_t pid_ = -1;
};

class StreamEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(coordinatorBinary())) << coordinatorBinary() << " is not built";
    coordinator_ = std::make_unique<Coordinator>(temp_.path() / "coordinator");
    runbook_ = temp_.write("rb.toml", kRunbook);
  }

  fs::path agentConfig(const std::string& extra, const fs::path& ca = {}) {
    return temp_.write("agent.toml",
                       "name = \"db-1\"\nstate_dir = \"" + state().string() +
                           "\"\nrunbooks = []\n\n[coordinator]\nurl = \"" + coordinator_->url() +
                           "\"\nca_file = \"" +
                           (ca.empty() ? coordinator_->tls("ca.pem") : ca).string() +
                           "\"\ncert_file = \"" + coordinator_->tls("agent-db-1.pem").string() +
                           "\"\nkey_file = \"" + coordinator_->tls("agent-db-1-key.pem").string() +
                           "\"\nflush_timeout = \"5s\"\n" + extra);
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
  std::unique_ptr<Coordinator> coordinator_;
  fs::path runbook_;
};

TEST_F(StreamEndToEnd, DrillStreamsEveryJournalEventOnce) {
  coordinator_->start();
  const ProcessResult result = drill(agentConfig(""));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.err.find("not yet acknowledged"), std::string::npos) << result.err;
  const auto journal = journaled();
  ASSERT_GE(journal.size(), 8u);
  EXPECT_EQ(coordinator_->stored(), journal) << coordinator_->log();
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
  EXPECT_EQ(coordinator_->stored(), all) << "each event exactly once\n" << coordinator_->log();
  EXPECT_TRUE(listSegments(state() / "spool").empty());
}

TEST_F(StreamEndToEnd, WrongCaIsRefusedAndLoggedEventsStaySpooled) {
  coordinator_->start();
  // Another CA the coordinator's certificate does not chain to.
  const fs::path other = temp_.path() / "other";
  ASSERT_EQ(runProcess({coordinatorBinary().string(), "certs", "init", other.string()}).exitCode,
            0);
  const ProcessResult result = drill(agentConfig("flush_timeout = \"1s\"\n", other / "ca.pem"));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("certificate verify failed"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("stay spooled"), std::string::npos) << result.err;
  EXPECT_TRUE(coordinator_->stored().empty());
  std::uint64_t pending = 0;
  for (const SegmentInfo& segment : listSegments(state() / "spool"))
    pending += segment.size;
  EXPECT_GT(pending, 0u);
}

TEST_F(StreamEndToEnd, WrongPinIsRefusedAndLoggedEventsStaySpooled) {
  coordinator_->start();
  const ProcessResult result =
      drill(agentConfig("pin_sha256 = \"" + std::string(64, '0') + "\"\n"));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("stay spooled"), std::string::npos) << result.err;
  EXPECT_TRUE(coordinator_->stored().empty());
}

}  // namespace
}  // namespace lifeboat::stream
