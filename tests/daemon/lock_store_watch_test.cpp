// The named mode for an unreachable lock store (docs/watch.md section 12):
// with etcd down the agent is `isolated` and starts no automatic failover;
// when etcd answers again (here: a reload pointing at a live one) the waiting
// failover goes on. A run that already holds its lock finishes when etcd goes
// away for less than the lease's TTL.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <thread>

#include "etcd_server.hpp"
#include "lifeboat/common/event.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "watch_agent.hpp"

namespace lifeboat::daemon {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using fixtures::field;
using fixtures::lines;
using fixtures::WatchAgent;
using fixtures::writeFile;
using std::chrono::milliseconds;

std::string runbook(const fs::path& dir, const std::string& step) {
  return "[runbook]\nname = \"orders-failover\"\nservice = \"orders\"\n[policy]\nautomatic = "
         "true\n[[trigger]]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", \"test -e " +
         (dir / "up").string() +
         "\"]\ninterval = \"100ms\"\ntimeout = \"100ms\"\nfailures = 2\nrecoveries = 1\n"
         "cooldown = \"200ms\"\n[[step]]\nid = \"promote\"\nexec = [\"/bin/sh\", \"-c\", " +
         json::serialize(json::string(step)) + "]\n";
}

std::string config(const fs::path& dir, const std::string& endpoint) {
  return "name = \"agent-a\"\nstate_dir = \"" + (dir / "state").string() + "\"\nrunbooks = [\"" +
         (dir / "rb.toml").string() + "\"]\ncontrol_socket = \"" + (dir / "ctl.sock").string() +
         "\"\n[lock]\nbackend = \"etcd\"\nendpoints = [\"" + endpoint + "\"]\nttl = \"5s\"\n";
}

TEST(LockStoreWatchTest, IsolatedWithoutTheLockStoreThenFailsOverWhenItAnswers) {
  test_support::TempDir temp;
  const fs::path dir = temp.path();
  std::string deadEndpoint;
  {
    locks::fixtures::EtcdServer gone(dir / "etcd-gone");
    ASSERT_TRUE(gone.running());
    deadEndpoint = gone.endpoint();
    gone.stop();  // nothing answers there now
  }
  std::ofstream(dir / "rb.toml") << runbook(
      dir, "echo ran >> " + (dir / "ran").string() + "; touch " + (dir / "up").string());
  std::ofstream(dir / "up") << "";
  WatchAgent agent(dir / "agent", config(dir, deadEndpoint));
  ASSERT_TRUE(agent.running());
  fs::remove(dir / "up");

  std::optional<Event> mode = agent.waitForEvent(event_type::kAgentMode, milliseconds(15'000));
  ASSERT_TRUE(mode) << agent.log();
  EXPECT_EQ(field(*mode, "mode"), "isolated");
  std::optional<Event> pending = agent.waitForEvent(
      event_type::kFailoverPending, milliseconds(5'000),
      [](const Event& event) { return field(event, "waiting_for") == "lock_store"; });
  ASSERT_TRUE(pending) << agent.log();
  // Never an automatic failover without the lock, however long it lasts.
  std::this_thread::sleep_for(milliseconds(1'500));
  EXPECT_FALSE(fs::exists(dir / "ran"));
  EXPECT_TRUE(agent.events(event_type::kFailoverStarted).empty());
  EXPECT_NE(agent.log().find("mode isolated"), std::string::npos);

  locks::fixtures::EtcdServer etcd(dir / "etcd");
  ASSERT_TRUE(etcd.running());
  std::ofstream(agent.configPath()) << config(dir, etcd.endpoint());
  agent.signal(SIGHUP);
  std::optional<Event> finished =
      agent.waitForEvent(event_type::kFailoverFinished, milliseconds(20'000));
  ASSERT_TRUE(finished) << agent.log();
  EXPECT_EQ(field(*finished, "outcome"), "done");
  std::optional<Event> normal =
      agent.waitForEvent(event_type::kAgentMode, milliseconds(1'000),
                         [](const Event& event) { return field(event, "mode") == "normal"; });
  EXPECT_TRUE(normal);
  // The run's RTO still starts at the first failed check, before the wait.
  const std::vector<Event> run = fixtures::runEvents(agent.statePath(), field(*finished, "run_id"));
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(field(run.front(), "outage_start"), field(*pending, "outage_start"));
}

TEST(LockStoreWatchTest, ARunThatHoldsItsLockFinishesWhenTheLockStoreGoesAwayBriefly) {
  test_support::TempDir temp;
  const fs::path dir = temp.path();
  locks::fixtures::EtcdServer etcd(dir / "etcd");
  ASSERT_TRUE(etcd.running());
  std::ofstream(dir / "rb.toml") << runbook(
      dir, "echo start >> " + (dir / "ran").string() + "; sleep 2; echo end >> " +
               (dir / "ran").string() + "; touch " + (dir / "up").string());
  std::ofstream(dir / "up") << "";
  WatchAgent agent(dir / "agent", config(dir, etcd.endpoint()));
  ASSERT_TRUE(agent.running());
  fs::remove(dir / "up");
  ASSERT_TRUE(agent.waitForEvent(event_type::kFailoverStarted, milliseconds(15'000)))
      << agent.log();
  ASSERT_TRUE(fixtures::eventually([&] { return fs::exists(dir / "ran"); }, milliseconds(10'000)));
  etcd.stop();  // 2 s of the step left, the lease has 5 s
  std::optional<Event> finished =
      agent.waitForEvent(event_type::kFailoverFinished, milliseconds(20'000));
  ASSERT_TRUE(finished) << agent.log();
  EXPECT_EQ(field(*finished, "outcome"), "done") << agent.log();
}

}  // namespace
}  // namespace lifeboat::daemon
