// The whole product on a real workload (tests/failover/site.hpp): the
// PostgreSQL primary dies with SIGKILL while a client writes through HAProxy,
// `lifeboat watch` fails the database over, and what the run measured is
// checked against what the client saw. Then the failback runbook switches
// back without losing a write. A drill of the same runbook proves that
// production is untouched and that cleanup leaves nothing behind.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "lifeboat/common/event.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "site.hpp"
#include "watch_agent.hpp"
#include "write_client.hpp"

namespace lifeboat::failover_test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using daemon::fixtures::eventually;
using daemon::fixtures::field;
using daemon::fixtures::runEvents;
using daemon::fixtures::WatchAgent;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds kClientPause{20};

// The agent config of the site's agent: the site's values for the runbook
// in [vars], as an operator sets them on a host.
std::string agentConfig(const Site& site) {
  const fs::path directory = site.directory() / "agent";
  std::string text = "name = \"failover-test\"\nstate_dir = \"" + (directory / "state").string() +
                     "\"\nrunbooks = [\"" + site.failoverRunbook().string() +
                     "\"]\ncontrol_socket = \"" + (directory / "control.sock").string() +
                     "\"\n\n[vars]\n";
  for (const auto& [name, value] : site.failoverVariables()) {
    text += name + " = " + json::serialize(json::string(value)) + "\n";
  }
  return text;
}

std::vector<std::string> withArguments(std::vector<std::string> arguments,
                                       const std::vector<std::string>& more) {
  arguments.insert(arguments.end(), more.begin(), more.end());
  return arguments;
}

// The value of objective `name` (rto/rpo) in a run's journal: its verdict and
// measured milliseconds.
struct Objective {
  std::string verdict;
  std::optional<std::int64_t> valueMs;
};

Objective objective(const std::vector<Event>& run, std::string_view name) {
  for (const Event& event : run) {
    if (event.type == event_type::kObjectiveEvaluated && field(event, "objective") == name) {
      Objective result{field(event, "verdict"), std::nullopt};
      if (const json::value* value = event.data.if_contains("value_ms")) {
        result.valueMs = value->to_number<std::int64_t>();
      }
      return result;
    }
  }
  return {};
}

const Event* stepFinished(const std::vector<Event>& run, std::string_view step) {
  for (const Event& event : run) {
    if (event.type == event_type::kStepFinished && event.step == step) {
      return &event;
    }
  }
  return nullptr;
}

std::string runFinishedOutcome(const std::vector<Event>& run) {
  for (const Event& event : run) {
    if (event.type == event_type::kRunFinished) {
      return field(event, "outcome") + " (cleanup " + field(event, "cleanup") + ")";
    }
  }
  return "not finished";
}

std::string describe(const std::vector<Event>& run) {
  std::string text;
  for (const Event& event : run) {
    if (event.type == event_type::kStepFinished || event.type == event_type::kRunFinished) {
      text += event.type + " " + event.step + " " + json::serialize(event.data) + "\n";
    }
  }
  return text;
}

// The newest run in a state directory (`lifeboat runs --output json`).
std::string lastRun(const fs::path& state) {
  test_support::ProcessResult runs =
      test_support::runLifeboat({"runs", "--state-dir", state.string(), "--output", "json"});
  const json::value parsed = json::parse(runs.out);
  const json::array& list = parsed.as_array();
  return list.empty() ? "" : std::string(list.back().at("run").as_string());
}

// Every file under `directory` that holds `secret`: journals, reports,
// logs, state files.
std::vector<std::string> filesHolding(const fs::path& directory, const std::string& secret) {
  std::vector<std::string> found;
  for (const auto& entry :
       fs::recursive_directory_iterator(directory, fs::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file() || entry.file_size() > 64 * 1024 * 1024) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(secret) != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

bool inRecovery(const test_servers::PostgresServer& server) {
  return server.queryValue("SELECT pg_is_in_recovery()") == "t";
}

// A real failover, measured against the client, then the failback.
TEST(FailoverTest, KilledPrimaryFailsOverWithTheRtoAndRpoTheClientSaw) {
  Site site(/*withDrillReplica=*/false, "200ms");
  ASSERT_TRUE(site.ready());
  WriteClient client(site.serviceDsn(), kClientPause);
  site.startCanaryWriter();
  WatchAgent agent(site.directory() / "agent", agentConfig(site), true, site.agentEnvironment());
  ASSERT_TRUE(agent.running()) << agent.log();
  ASSERT_TRUE(eventually([&] { return client.acknowledged().size() >= 20; }, milliseconds(10'000)));

  // Real replication lag: the primary's walsender for the standby stops, so
  // for two seconds the primary acknowledges writes the standby never gets.
  // (Stopping the standby's walreceiver instead would not do: the kernel
  // keeps receiving into its socket buffer, and that WAL is replayed later.)
  ASSERT_TRUE(agent.events(event_type::kOutageDeclared).empty())
      << "an outage was declared while the primary was healthy:\n"
      << agent.log();
  const pid_t sender = site.primary().walSenderPid("standby1");
  ASSERT_GT(sender, 0);
  ASSERT_EQ(::kill(sender, SIGSTOP), 0);
  const auto stoppedAt = std::chrono::system_clock::now();
  std::this_thread::sleep_for(milliseconds(2'000));
  std::size_t acknowledgedWhileStopped = 0;
  for (const Acknowledged& write : client.acknowledged()) {
    acknowledgedWhileStopped += write.at > stoppedAt ? 1u : 0u;
  }
  ASSERT_GE(acknowledgedWhileStopped, 20u) << "the primary stopped taking writes";
  site.primary().kill9();  // the stopped walsender dies with it
  // Taken once every process of the primary is gone: a write acknowledged
  // later can only come from the new primary.
  const auto killedAt = std::chrono::system_clock::now();

  std::optional<Event> finished =
      agent.waitForEvent(event_type::kFailoverFinished, milliseconds(60'000));
  ASSERT_TRUE(finished) << agent.log();
  const std::string runId = field(*finished, "run_id");
  const std::vector<Event> run = runEvents(agent.statePath(), runId);
  EXPECT_EQ(field(*finished, "outcome"), "done") << describe(run) << agent.log();
  // The agent's [vars] are recorded with the run, for resume and audit.
  ASSERT_FALSE(run.empty());
  const json::value& variables = run.front().data.at("variables");
  ASSERT_TRUE(variables.is_object()) << json::serialize(variables);
  EXPECT_EQ(json::value_to<std::string>(variables.at("primary_dsn")), site.primary().dsn());

  ASSERT_TRUE(client.waitForWriteAfter(killedAt, milliseconds(20'000)))
      << "no write through HAProxy succeeded after the failover";
  std::this_thread::sleep_for(milliseconds(500));
  client.stop();
  site.stopCanaryWriter();

  // Writes through HAProxy land on the new primary.
  EXPECT_FALSE(inRecovery(site.standby()));
  const std::optional<Acknowledged> firstAfter = client.firstAfter(killedAt);
  ASSERT_TRUE(firstAfter);
  EXPECT_EQ(site.standby().queryValue("SELECT count(*) FROM client_writes WHERE number = " +
                                      std::to_string(firstAfter->number)),
            "1");
  // HAProxy sends clients to the standby only; DNS names the new primary.
  // (`show servers state` rows: be_id be_name srv_id srv_name srv_addr
  // srv_op_state srv_admin_state ...; op 2 = running; admin 0 = ready, and 4
  // (maintenance set by the config's `disabled`) stays set once the runtime
  // API made the server ready; 1, 2 or 0x20 = maintenance.)
  EXPECT_EQ(site.dns().query("orders", "A"), std::vector<std::string>{"127.0.0.2"});
  const std::string servers = site.haproxy().runtime("show servers state orders_db");
  EXPECT_TRUE(
      std::regex_search(servers, std::regex(R"(\d+ orders_db 2 standby 127\.0\.0\.2 2 [04] )")))
      << servers;
  // The old primary is fenced: were it restarted, it would come up a standby.
  EXPECT_TRUE(fs::exists(site.primary().dataDir() / "standby.signal"));

  // RPO: the canaries' data-loss window equals the window of acknowledged
  // writes the client lost, within one canary interval.
  const std::optional<Acknowledged> lastBefore = client.lastBefore(killedAt);
  ASSERT_TRUE(lastBefore);
  const std::optional<std::int64_t> survived =
      newestSurvivingWrite(site.standby().dsn(), lastBefore->number);
  ASSERT_TRUE(survived);
  ASSERT_LT(*survived, lastBefore->number)
      << "no acknowledged write was lost: the test did not create replication lag";
  SystemTime survivedAt{};
  for (const Acknowledged& write : client.acknowledged()) {
    if (write.number == *survived) {
      survivedAt = write.at;
    }
  }
  const auto lostWindow = duration_cast<milliseconds>(lastBefore->at - survivedAt).count();
  const Objective rpo = objective(run, "rpo");
  ASSERT_TRUE(rpo.valueMs) << describe(run);
  EXPECT_NEAR(static_cast<double>(*rpo.valueMs), static_cast<double>(lostWindow),
              kCanaryIntervalMs + 50.0)
      << "client lost writes " << *survived + 1 << ".." << lastBefore->number;
  EXPECT_GE(lostWindow, 1'500);
  EXPECT_EQ(rpo.verdict, "met");

  // RTO: the run's measurement matches the outage the client saw, within a
  // second.
  const auto clientOutage = duration_cast<milliseconds>(firstAfter->at - lastBefore->at).count();
  const Objective rto = objective(run, "rto");
  ASSERT_TRUE(rto.valueMs) << describe(run);
  EXPECT_NEAR(static_cast<double>(*rto.valueMs), static_cast<double>(clientOutage), 1'000.0);
  EXPECT_EQ(rto.verdict, "met");
  const Event* fence = stepFinished(run, "fence");
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(field(*fence, "status"), "ok") << describe(run);
  agent.stop();
  // The DNS key reached the dns plugin on every update, and appears in no
  // journal, report, log or state file of the agent.
  EXPECT_EQ(filesHolding(agent.directory(), site.dns().keySecret()), std::vector<std::string>{});

  // Failback: the old primary rejoins, catches up and takes over again, and
  // not one acknowledged write is lost.
  WriteClient again(site.serviceDsn(), kClientPause);
  site.startCanaryWriter();
  ASSERT_TRUE(eventually([&] { return again.acknowledged().size() >= 20; }, milliseconds(10'000)));
  const fs::path state = site.directory() / "failback-state";
  test_support::ProcessResult failback = test_support::runLifeboat(
      withArguments(
          {"run", site.failbackRunbook().string(), "--yes", "--state-dir", state.string()},
          varArguments(site.failbackVariables())),
      {}, site.agentEnvironment());
  const std::vector<Event> back = runEvents(state, lastRun(state));
  EXPECT_EQ(failback.exitCode, 0) << failback.out << failback.err << describe(back);
  std::this_thread::sleep_for(milliseconds(500));
  again.stop();
  site.stopCanaryWriter();

  EXPECT_FALSE(inRecovery(site.primary()));
  EXPECT_TRUE(inRecovery(site.standby()));
  EXPECT_TRUE(site.primary().waitForStreaming("standby1"))
      << describe(back)
      << site.primary().queryValue(
             "SELECT string_agg(application_name || ' ' || state, ', ') FROM pg_stat_replication")
      << [&] {
           std::string all;
           for (const auto& entry : fs::directory_iterator(site.standby().dataDir()))
             if (entry.path().extension() == ".log") {
               std::ifstream in(entry.path());
               std::stringstream t;
               t << in.rdbuf();
               all += entry.path().string() + ":\n" + t.str();
             }
           return all;
         }();
  EXPECT_EQ(site.dns().query("orders", "A"), std::vector<std::string>{"127.0.0.1"});
  const Objective noLoss = objective(back, "rpo");
  ASSERT_TRUE(noLoss.valueMs) << describe(back);
  EXPECT_EQ(*noLoss.valueMs, 0);
  const std::vector<Acknowledged> written = again.acknowledged();
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(site.primary().queryValue("SELECT count(*) FROM client_writes WHERE number IN (" +
                                      [&] {
                                        std::string list;
                                        for (const Acknowledged& write : written) {
                                          list += (list.empty() ? "" : ",") +
                                                  std::to_string(write.number);
                                        }
                                        return list;
                                      }() +
                                      ")"),
            std::to_string(written.size()))
      << "an acknowledged write was lost in the failback";
}

// A drill rehearses the same runbook on a copy: production keeps taking
// writes throughout, and nothing the drill made is left behind.
TEST(FailoverTest, DrillPromotesAnIsolatedCopyAndCleansUp) {
  Site site(/*withDrillReplica=*/true);
  ASSERT_TRUE(site.ready());
  WriteClient client(site.serviceDsn(), kClientPause);
  site.startCanaryWriter();
  ASSERT_TRUE(eventually([&] { return client.acknowledged().size() >= 10; }, milliseconds(10'000)));
  const std::size_t failuresBefore = client.failures();

  const fs::path state = site.directory() / "drill-state";
  test_support::ProcessResult drill = test_support::runLifeboat(
      withArguments({"drill", site.failoverRunbook().string(), "--state-dir", state.string()},
                    varArguments(site.failoverVariables())),
      {}, site.agentEnvironment());
  const std::string runId = lastRun(state);
  const std::vector<Event> run = runEvents(state, runId);
  EXPECT_EQ(drill.exitCode, 0) << drill.out << drill.err << describe(run);
  EXPECT_EQ(runFinishedOutcome(run), "done (cleanup ok)") << describe(run);
  EXPECT_EQ(filesHolding(state, site.dns().keySecret()), std::vector<std::string>{});
  const std::size_t acknowledgedAtEnd = client.acknowledged().size();
  ASSERT_TRUE(eventually([&] { return client.acknowledged().size() > acknowledgedAtEnd; },
                         milliseconds(2'000)));
  client.stop();
  site.stopCanaryWriter();

  // Production untouched: the client never failed, the primary is still the
  // primary, HAProxy and DNS still point at it.
  EXPECT_EQ(client.failures(), failuresBefore);
  EXPECT_FALSE(inRecovery(site.primary()));
  EXPECT_TRUE(inRecovery(site.standby()));
  EXPECT_EQ(site.dns().query("orders", "A"), std::vector<std::string>{"127.0.0.1"});
  const std::string servers = site.haproxy().runtime("show servers state orders_db");
  EXPECT_TRUE(
      std::regex_search(servers, std::regex(R"(\d+ orders_db 1 primary 127\.0\.0\.1 2 0 )")))
      << servers;
  EXPECT_TRUE(
      std::regex_search(servers, std::regex(R"(\d+ orders_db 2 standby 127\.0\.0\.2 \d+ [1-7] )")))
      << servers;

  // The copy really was promoted and took writes through the drill backend.
  const Event* verified = stepFinished(run, "verify-copy-writes");
  ASSERT_NE(verified, nullptr);
  EXPECT_EQ(field(*verified, "status"), "ok");
  const Event* cloned = stepFinished(run, "clone");
  ASSERT_NE(cloned, nullptr);
  const json::object& outputs = cloned->data.at("outputs").as_object();
  const std::string copyDirectory(outputs.at("data_dir").as_string());
  EXPECT_NE(copyDirectory.find(runId), std::string::npos)
      << "the copy is tagged with the run id: " << copyDirectory;
  const Objective rpo = objective(run, "rpo");
  EXPECT_TRUE(rpo.valueMs) << describe(run);

  // Nothing left behind: no copy on disk, nothing on its port, no drill DNS
  // name, the drill backend out of service.
  EXPECT_FALSE(fs::exists(copyDirectory));
  EXPECT_TRUE(fs::is_empty(site.drillParentDirectory()));
  EXPECT_FALSE(test_support::acceptsConnections("127.0.0.1", site.drillPort()))
      << "something still listens on the copy's port";
  EXPECT_TRUE(site.dns().query("drill-" + runId, "A").empty());
  const std::string drillServers = site.haproxy().runtime("show servers state orders_db_drill");
  EXPECT_TRUE(
      std::regex_search(drillServers, std::regex(R"(\d+ orders_db_drill 1 copy \S+ \d+ [1-7] )")))
      << drillServers;
  // The report lists what the drill created, with its tag: in the summary
  // and in the HTML an auditor reads.
  test_support::ProcessResult summary =
      test_support::runLifeboat({"show", runId, "--state-dir", state.string()});
  EXPECT_TRUE(std::regex_search(summary.out, std::regex("clone +data_dir +" + copyDirectory)))
      << summary.out;
  EXPECT_TRUE(std::regex_search(summary.out, std::regex("drop-copy +removed +true")))
      << summary.out;
  const fs::path html = site.directory() / "drill.html";
  test_support::ProcessResult report = test_support::runLifeboat(
      {"report", runId, "--state-dir", state.string(), "--format", "html", "--out", html.string()});
  ASSERT_EQ(report.exitCode, 0) << report.err;
  std::ifstream in(html);
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_NE(page.str().find("<td>clone</td><td>tag</td><td>" + runId + "</td>"), std::string::npos);
}

}  // namespace
}  // namespace lifeboat::failover_test
