// `lifeboat watch` end to end: the built binary, real exec health checks
// against files the test creates and removes, runs in the daemon's state
// directory, and the control commands (status, trigger, approve, decide).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/common/event.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "watch_agent.hpp"

namespace lifeboat::daemon {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using fixtures::eventually;
using fixtures::field;
using fixtures::lines;
using fixtures::WatchAgent;
using fixtures::writeFile;
using std::chrono::milliseconds;
using test_support::runLifeboat;
using test_support::TempDir;
using ::testing::HasSubstr;

struct RunbookSpec {
  std::string service = "orders";
  bool automatic = true;
  std::string interval = "100ms";
  int failures = 3;
  int recoveries = 1;
  std::string cooldown = "200ms";
  // The step's shell script; ${lock.fencing_token} and $DIR are expanded.
  std::string step =
      "echo \"run ${run.id} token ${lock.fencing_token}\" >> $DIR/failovers; "
      "touch $DIR/up";
  std::string extraSteps;
  // The trigger's program, instead of `test -e $DIR/up`.
  std::string checkProgram;
};

std::string runbookText(const fs::path& directory, const RunbookSpec& spec) {
  std::string step = spec.step;
  for (std::size_t at = step.find("$DIR"); at != std::string::npos; at = step.find("$DIR")) {
    step.replace(at, 4, directory.string());
  }
  std::ostringstream text;
  text << "[runbook]\nname = \"" << spec.service << "-failover\"\nservice = \"" << spec.service
       << "\"\n\n[objectives]\nrto = \"60s\"\n\n[policy]\nautomatic = "
       << (spec.automatic ? "true" : "false") << "\n\n"
       << "[[trigger]]\nkind = \"exec\"\ncommand = "
       << (spec.checkProgram.empty()
               ? "[\"/bin/sh\", \"-c\", \"test -e " + (directory / "up").string() + "\"]"
               : "[" + json::serialize(json::string(spec.checkProgram)) + "]")
       << "\ninterval = \"" << spec.interval << "\"\ntimeout = \"" << spec.interval
       << "\"\nfailures = " << spec.failures << "\nrecoveries = " << spec.recoveries
       << "\ncooldown = \"" << spec.cooldown << "\"\n\n"
       << "[[step]]\nid = \"promote\"\nexec = [\"/bin/sh\", \"-c\", "
       << json::serialize(json::string(step)) << "]\nrestores_service = true\n"
       << spec.extraSteps;
  return text.str();
}

std::string agentConfig(const fs::path& directory, const std::string& extra = "") {
  return "name = \"agent-" + directory.filename().string() + "\"\nstate_dir = \"" +
         (directory / "state").string() + "\"\nrunbooks = [\"" + (directory / "rb.toml").string() +
         "\"]\ncontrol_socket = \"" + (directory / "ctl.sock").string() + "\"\n" + extra;
}

class DaemonTest : public ::testing::Test {
 protected:
  fs::path dir() const { return temp_.path(); }
  fs::path up() const { return dir() / "up"; }

  std::unique_ptr<WatchAgent> start(const RunbookSpec& spec, const std::string& extra = "",
                                    std::vector<std::pair<std::string, std::string>> env = {}) {
    writeFile(dir() / "rb.toml", runbookText(dir(), spec));
    writeFile(up(), "");
    auto agent = std::make_unique<WatchAgent>(dir() / "agent", agentConfig(dir(), extra), true,
                                              std::move(env));
    return agent;
  }

  TempDir temp_;
};

// A check that cannot run (here: its program does not exist yet) says
// nothing about the service: it is reported once and never counted, so a
// typo cannot fail a healthy service over. Once it runs, its failures count.
TEST_F(DaemonTest, ABrokenCheckNeverFailsOverAndIsReportedOnce) {
  const fs::path check = dir() / "check.sh";
  RunbookSpec spec;
  spec.checkProgram = check.string();
  spec.failures = 2;
  auto agent = start(spec);
  ASSERT_TRUE(agent->running());
  ASSERT_TRUE(agent->waitForEvent(event_type::kCheckBroken, milliseconds(5'000))) << agent->log();
  // Twenty more broken checks: still no outage, and no second report.
  std::this_thread::sleep_for(milliseconds(2'000));
  EXPECT_TRUE(agent->events(event_type::kOutageDeclared).empty()) << agent->log();
  EXPECT_TRUE(agent->events(event_type::kFailoverStarted).empty());
  EXPECT_EQ(agent->events(event_type::kCheckBroken).size(), 1u);
  const json::object status = agent->status();
  ASSERT_TRUE(status.contains("services")) << json::serialize(status);
  EXPECT_EQ(status.at("services").at(0).at("triggers").at(0).at("broken"), true)
      << json::serialize(status);
  EXPECT_THAT(agent->log(), HasSubstr("not counted as a failure"));

  // The program appears and fails: the check works again, and now its
  // failures are an outage.
  writeFile(check, "#!/bin/sh\nexit 1\n");
  fs::permissions(check, fs::perms::owner_all);
  ASSERT_TRUE(agent->waitForEvent(event_type::kCheckRepaired, milliseconds(5'000))) << agent->log();
  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished) << agent->log();
}

TEST_F(DaemonTest, OutageStartsTheRunbookWithTheFirstFailedCheckAsOutageStart) {
  auto agent = start({});
  ASSERT_TRUE(agent->running());
  ASSERT_TRUE(eventually([&] { return agent->status().size() > 0; }, milliseconds(5'000)));
  fs::remove(up());

  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished) << agent->log();
  EXPECT_EQ(field(*finished, "outcome"), "done") << agent->log();
  EXPECT_EQ(lines(dir() / "failovers").size(), 1u);
  EXPECT_TRUE(fs::exists(up())) << "the runbook's step restores the service";

  std::optional<Event> declared = agent->waitForEvent(event_type::kOutageDeclared, milliseconds(0));
  ASSERT_TRUE(declared);
  const std::string runId = field(*finished, "run_id");
  const std::vector<Event> run = fixtures::runEvents(agent->statePath(), runId);
  ASSERT_FALSE(run.empty());
  ASSERT_EQ(run.front().type, event_type::kRunStarted);
  const Event& started = run.front();
  // The RTO clock starts at the first failed check, not at the declaration:
  // three failed checks 100 ms apart put it ~200 ms earlier. Checks keep a
  // fixed rate, so a first check that started late (a loaded machine: 198 ms
  // seen under ASan) brings them closer; 150 ms still tells the two apart.
  EXPECT_EQ(field(started, "outage_start"), field(*declared, "outage_start"));
  EXPECT_EQ(field(started, "outage_start_source"), "trigger");
  Result<Timestamp> outageStart = parseTimestamp(field(*declared, "outage_start"));
  ASSERT_TRUE(outageStart);
  EXPECT_GE(declared->time - *outageStart, milliseconds(150));
  const json::object& origin = started.data.at("origin").get_object();
  EXPECT_EQ(origin.at("kind").get_string(), "trigger");
  EXPECT_EQ(origin.at("trigger").get_string(), "trigger #1 (exec)");
  EXPECT_EQ(origin.at("detail").get_string(), "exit 1");
  // One sequence for the agent: the run's numbers fall between the daemon's
  // declaration and its failover.finished.
  EXPECT_GT(started.seq, declared->seq);
  EXPECT_LT(run.back().seq, finished->seq);
  // The fencing token reached the step.
  EXPECT_NE(lines(dir() / "failovers").front().find("token 1"), std::string::npos);
  // And the daemon saw the service come back.
  EXPECT_TRUE(agent->waitForEvent(event_type::kOutageRecovered, milliseconds(5'000)));
  EXPECT_EQ(agent->stop(), 0) << agent->log();
  EXPECT_EQ(agent->events(event_type::kWatchStopped).size(), 1u);
}

TEST_F(DaemonTest, ARunbookThatIsNotAutomaticWaitsForANamedApprover) {
  RunbookSpec spec;
  spec.automatic = false;
  auto agent = start(spec);
  ASSERT_TRUE(agent->running());
  const std::string config = agent->configPath().string();

  test_support::ProcessResult early = runLifeboat(
      {"approve", "orders", "--approver", "alice", "--rationale", "why", "--config", config});
  EXPECT_EQ(early.exitCode, 6) << early.err;
  EXPECT_NE(early.err.find("no failover waiting for approval"), std::string::npos) << early.err;

  fs::remove(up());
  std::optional<Event> pending =
      agent->waitForEvent(event_type::kFailoverPending, milliseconds(10'000));
  ASSERT_TRUE(pending) << agent->log();
  EXPECT_EQ(field(*pending, "waiting_for"), "approval");
  // Waiting: nothing ran, however long the outage lasts.
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_FALSE(fs::exists(dir() / "failovers"));
  EXPECT_EQ(agent->phase("orders"), "pending");

  test_support::ProcessResult approved =
      runLifeboat({"approve", "orders", "--approver", "alice", "--rationale",
                   "primary gone for good", "--config", config});
  ASSERT_EQ(approved.exitCode, 0) << approved.err << agent->log();
  EXPECT_NE(approved.out.find("approved: failover of orders started, run "), std::string::npos);

  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished);
  const std::vector<Event> run =
      fixtures::runEvents(agent->statePath(), field(*finished, "run_id"));
  ASSERT_FALSE(run.empty());
  const json::object& origin = run.front().data.at("origin").get_object();
  EXPECT_EQ(origin.at("approved_by").get_string(), "alice");
  EXPECT_EQ(origin.at("rationale").get_string(), "primary gone for good");
  // The approval does not move the outage start: it was the first failed check.
  EXPECT_EQ(field(run.front(), "outage_start"), field(*pending, "outage_start"));
}

TEST_F(DaemonTest, AFlappingCheckDoesNotCauseRepeatedFailovers) {
  // Two failed checks, one good one, again and again: every pair reaches the
  // threshold. The step does not fix anything. Cooldown and budget are set so
  // that only flap damping can hold the second failover back.
  RunbookSpec spec;
  spec.failures = 2;
  spec.cooldown = "100ms";
  spec.step = "echo \"run ${run.id}\" >> $DIR/failovers";
  const fs::path counter = dir() / "count";
  writeFile(dir() / "flap.sh", "n=$(cat " + counter.string() +
                                   " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " +
                                   counter.string() + "; [ $((n % 3)) -eq 0 ]\n");
  writeFile(dir() / "rb.toml", "");
  auto agent = start(spec,
                     "[failover_budget]\nmax_failovers = 1000\nwindow = \"1s\"\n"
                     "[detector]\nflap_window = \"10s\"\nflap_limit = 2\nflap_stable = \"10s\"\n");
  ASSERT_TRUE(agent->running());
  // Switch the check to the flapping script.
  std::string text = runbookText(dir(), spec);
  const std::string check = "test -e " + up().string();
  text.replace(text.find(check), check.size(), "sh " + (dir() / "flap.sh").string());
  writeFile(dir() / "rb.toml", text);
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->waitForEvent(event_type::kWatchReloaded, milliseconds(5'000)));

  ASSERT_TRUE(agent->waitForEvent(event_type::kFlappingStarted, milliseconds(10'000)))
      << agent->log();
  // 30 more checks: 10 more threshold crossings.
  std::this_thread::sleep_for(milliseconds(3'000));
  const std::size_t failovers = agent->events(event_type::kFailoverStarted).size();
  EXPECT_LE(failovers, 1u) << agent->log();
  EXPECT_LE(lines(dir() / "failovers").size(), 1u);
  bool heldForFlapping = false;
  for (const Event& event : agent->events(event_type::kOutageSuppressed)) {
    heldForFlapping = heldForFlapping || field(event, "hold") == "flapping";
  }
  EXPECT_TRUE(heldForFlapping) << agent->log();
}

TEST_F(DaemonTest, TheFailoverBudgetTurnsASecondAutomaticFailoverIntoAnApproval) {
  RunbookSpec spec;
  spec.failures = 2;
  spec.cooldown = "100ms";
  spec.step = "echo \"run ${run.id}\" >> $DIR/failovers";  // does not help
  auto agent = start(spec);
  ASSERT_TRUE(agent->running());
  fs::remove(up());
  ASSERT_TRUE(agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000)));
  std::optional<Event> pending = agent->waitForEvent(
      event_type::kFailoverPending, milliseconds(10'000), [](const Event& event) {
        return field(event, "reason").find("budget") != std::string::npos;
      });
  ASSERT_TRUE(pending) << agent->log();
  EXPECT_EQ(field(*pending, "waiting_for"), "approval");
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(lines(dir() / "failovers").size(), 1u);
  // The outage was declared again after the failover, with the same start.
  std::vector<Event> declared = agent->events(event_type::kOutageDeclared);
  ASSERT_GE(declared.size(), 2u);
  EXPECT_EQ(field(declared[1], "after_failover"), "true");
  EXPECT_EQ(field(declared[1], "outage_start"), field(declared[0], "outage_start"));
}

TEST_F(DaemonTest, AManualTriggerStartsTheFailoverAndRecordsWhoAsked) {
  auto agent = start({});
  ASSERT_TRUE(agent->running());
  test_support::ProcessResult unknown =
      runLifeboat({"trigger", "billing", "--by", "bob", "--config", agent->configPath().string()});
  EXPECT_EQ(unknown.exitCode, 6);
  EXPECT_NE(unknown.err.find("no watched runbook fails over service billing"), std::string::npos);

  test_support::ProcessResult triggered =
      runLifeboat({"trigger", "orders", "--by", "bob", "--reason", "planned move", "--config",
                   agent->configPath().string()});
  ASSERT_EQ(triggered.exitCode, 0) << triggered.err << agent->log();
  EXPECT_NE(triggered.out.find("failover of orders started: run "), std::string::npos);
  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished);
  const std::vector<Event> run =
      fixtures::runEvents(agent->statePath(), field(*finished, "run_id"));
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(field(run.front(), "outage_start_source"), "manual");
  const json::object& origin = run.front().data.at("origin").get_object();
  EXPECT_EQ(origin.at("kind").get_string(), "manual");
  EXPECT_EQ(origin.at("approved_by").get_string(), "bob");
}

TEST_F(DaemonTest, SighupWithAnInvalidConfigKeepsTheRunningOne) {
  auto agent = start({});
  ASSERT_TRUE(agent->running());
  writeFile(agent->configPath(), agentConfig(dir(), "flap_windw = \"1m\"\n"));
  agent->signal(SIGHUP);
  std::optional<Event> refused =
      agent->waitForEvent(event_type::kWatchReloaded, milliseconds(5'000));
  ASSERT_TRUE(refused);
  EXPECT_EQ(field(*refused, "ok"), "false");
  EXPECT_NE(field(*refused, "error").find("agent.toml:5:14: error: unknown key 'flap_windw'"),
            std::string::npos)
      << field(*refused, "error");
  EXPECT_NE(agent->log().find("reload refused, keeping the running configuration"),
            std::string::npos);
  // Still watching, still failing over.
  EXPECT_EQ(agent->phase("orders"), "idle");
  fs::remove(up());
  EXPECT_TRUE(agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000)));

  // A valid new config with a second runbook is applied.
  RunbookSpec billing;
  billing.service = "billing";
  fs::create_directories(dir() / "billing");
  writeFile(dir() / "billing" / "rb.toml", runbookText(dir() / "billing", billing));
  writeFile(dir() / "billing" / "up", "");
  std::string config = agentConfig(dir());
  config.replace(config.find("\"]\n"), 3,
                 "\", \"" + (dir() / "billing" / "rb.toml").string() + "\"]\n");
  writeFile(agent->configPath(), config);
  agent->signal(SIGHUP);
  std::optional<Event> applied =
      agent->waitForEvent(event_type::kWatchReloaded, milliseconds(5'000),
                          [](const Event& event) { return field(event, "ok") == "true"; });
  ASSERT_TRUE(applied) << agent->log();
  EXPECT_EQ(field(*applied, "services"), "2");
  EXPECT_EQ(agent->phase("billing"), "idle");
}

TEST_F(DaemonTest, SigtermDuringAFailoverInterruptsTheRunAndJournalsIt) {
  RunbookSpec spec;
  spec.step = "echo started >> $DIR/failovers; sleep 30";
  spec.extraSteps =
      "\n[[step]]\nid = \"after\"\nafter = [\"promote\"]\nexec = [\"/bin/sh\", \"-c\", \"echo "
      "after >> " +
      (dir() / "failovers").string() + "\"]\n";
  auto agent = start(spec);
  ASSERT_TRUE(agent->running());
  fs::remove(up());
  std::optional<Event> started =
      agent->waitForEvent(event_type::kFailoverStarted, milliseconds(15'000));
  ASSERT_TRUE(started) << agent->log();
  ASSERT_TRUE(
      eventually([&] { return lines(dir() / "failovers").size() == 1; }, milliseconds(10'000)));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(agent->stop(SIGTERM, milliseconds(20'000)), 0) << agent->log();
  EXPECT_LT(std::chrono::steady_clock::now() - before, milliseconds(15'000));
  const std::vector<Event> run = fixtures::runEvents(agent->statePath(), field(*started, "run_id"));
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(run.back().type, event_type::kRunFinished);
  EXPECT_EQ(field(run.back(), "outcome"), "interrupted");
  EXPECT_EQ(lines(dir() / "failovers"), std::vector<std::string>{"started"});
}

TEST_F(DaemonTest, TellsSystemdItIsReadyReloadingAndStoppingAndFeedsTheWatchdog) {
  const fs::path socketPath = dir() / "notify.sock";
  const int socket = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(socket, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socketPath.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(socket, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{5, 0};
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::vector<std::string> received;
  auto receiveUntil = [&](const std::string& wanted) {
    for (int tries = 0; tries < 200; ++tries) {
      char buffer[512];
      const ssize_t size = ::recv(socket, buffer, sizeof(buffer), 0);
      if (size <= 0) {
        return false;
      }
      received.emplace_back(buffer, static_cast<std::size_t>(size));
      if (received.back().find(wanted) != std::string::npos) {
        return true;
      }
    }
    return false;
  };

  auto agent = start({}, "", {{"NOTIFY_SOCKET", socketPath.string()}, {"WATCHDOG_USEC", "200000"}});
  ASSERT_TRUE(agent->running());
  EXPECT_TRUE(receiveUntil("READY=1"));
  EXPECT_NE(received.back().find("STATUS=watching 1 triggers"), std::string::npos);
  EXPECT_TRUE(receiveUntil("WATCHDOG=1"));
  EXPECT_TRUE(receiveUntil("WATCHDOG=1"));
  agent->signal(SIGHUP);
  EXPECT_TRUE(receiveUntil("RELOADING=1"));
  EXPECT_TRUE(receiveUntil("READY=1"));
  agent->signal(SIGTERM);
  EXPECT_TRUE(receiveUntil("STOPPING=1"));
  EXPECT_EQ(agent->stop(), 0);
  ::close(socket);
}

TEST_F(DaemonTest, ADecisionStepOfADaemonRunIsAnsweredThroughTheControlSocket) {
  RunbookSpec spec;
  spec.extraSteps =
      "\n[[step]]\nid = \"choose\"\nafter = [\"promote\"]\n[step.decision]\nquestion = "
      "\"Promote?\"\napprovers = [\"alice\"]\ndeadline = \"60s\"\ndefault = \"wait\"\n"
      "[[step.decision.options]]\nid = \"go\"\nimpact = \"some orders lost\"\n"
      "[[step.decision.options]]\nid = \"wait\"\nimpact = \"down longer\"\n";
  auto agent = start(spec);
  ASSERT_TRUE(agent->running());
  fs::remove(up());
  ASSERT_TRUE(agent->waitForEvent(event_type::kFailoverStarted, milliseconds(15'000)));
  ASSERT_TRUE(eventually(
      [&] {
        return boost::json::serialize(agent->status()).find("\"step\":\"choose\"") !=
               std::string::npos;
      },
      milliseconds(10'000)))
      << agent->log();
  const std::string config = agent->configPath().string();
  test_support::ProcessResult wrong =
      runLifeboat({"decide", "orders", "choose", "go", "--approver", "mallory", "--rationale", "x",
                   "--config", config});
  EXPECT_EQ(wrong.exitCode, 6);
  EXPECT_NE(wrong.err.find("mallory may not decide step choose"), std::string::npos) << wrong.err;
  test_support::ProcessResult right =
      runLifeboat({"decide", "orders", "choose", "go", "--approver", "alice", "--rationale",
                   "standby is current", "--config", config});
  ASSERT_EQ(right.exitCode, 0) << right.err;
  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished);
  bool decided = false;
  for (const Event& event : fixtures::runEvents(agent->statePath(), field(*finished, "run_id"))) {
    if (event.type == event_type::kDecisionMade) {
      decided = true;
      EXPECT_EQ(field(event, "choice"), "go");
      EXPECT_EQ(field(event, "by"), "alice");
    }
  }
  EXPECT_TRUE(decided);
}

TEST_F(DaemonTest, ASecondObserverThatSeesTheServiceHealthyHoldsTheFailover) {
  // Agent B watches the same service from "elsewhere": its own check file.
  const fs::path other = dir() / "b";
  fs::create_directories(other);
  RunbookSpec spec;
  writeFile(other / "rb.toml", runbookText(other, spec));
  writeFile(other / "up", "");
  WatchAgent observer(other / "agent",
                      agentConfig(other, "[listen]\naddress = \"127.0.0.1:0\"\ntls = false\n"));
  ASSERT_TRUE(observer.running());
  const json::object status = observer.status();
  ASSERT_TRUE(status.contains("listen_port")) << json::serialize(status);
  const std::string peer = "http://127.0.0.1:" + json::serialize(status.at("listen_port"));

  auto agent = start(spec, "[confirm]\npeers = [\"" + peer + "\"]\ntimeout = \"2s\"\n");
  ASSERT_TRUE(agent->running());
  fs::remove(up());  // only A's view of the service fails
  std::optional<Event> skipped =
      agent->waitForEvent(event_type::kFailoverSkipped, milliseconds(10'000));
  ASSERT_TRUE(skipped) << agent->log();
  EXPECT_EQ(field(*skipped, "reason"), "not_confirmed");
  EXPECT_NE(field(*skipped, "detail").find("healthy"), std::string::npos);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_FALSE(fs::exists(dir() / "failovers"));

  fs::remove(other / "up");  // now B sees it down too
  std::optional<Event> finished =
      agent->waitForEvent(event_type::kFailoverFinished, milliseconds(15'000));
  ASSERT_TRUE(finished) << agent->log();
  EXPECT_EQ(lines(dir() / "failovers").size(), 1u);
}

// A second observer whose own check is broken cannot judge: it answers 503,
// which counts as no answer (when_unreachable = "hold"), never as "I see the
// outage too".
TEST_F(DaemonTest, ASecondObserverWithABrokenCheckDoesNotConfirm) {
  const fs::path other = dir() / "b";
  fs::create_directories(other);
  RunbookSpec broken;
  broken.checkProgram = (other / "missing-check").string();
  writeFile(other / "rb.toml", runbookText(other, broken));
  WatchAgent observer(other / "agent",
                      agentConfig(other, "[listen]\naddress = \"127.0.0.1:0\"\ntls = false\n"));
  ASSERT_TRUE(observer.running());
  const json::object status = observer.status();
  ASSERT_TRUE(status.contains("listen_port")) << json::serialize(status);
  const std::string peer = "http://127.0.0.1:" + json::serialize(status.at("listen_port"));

  auto agent = start({}, "[confirm]\npeers = [\"" + peer + "\"]\ntimeout = \"2s\"\n");
  ASSERT_TRUE(agent->running());
  fs::remove(up());
  std::optional<Event> skipped =
      agent->waitForEvent(event_type::kFailoverSkipped, milliseconds(10'000));
  ASSERT_TRUE(skipped) << agent->log();
  EXPECT_EQ(field(*skipped, "reason"), "not_confirmed");
  EXPECT_NE(field(*skipped, "detail").find("broken"), std::string::npos)
      << field(*skipped, "detail");
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_FALSE(fs::exists(dir() / "failovers"));
}

}  // namespace
}  // namespace lifeboat::daemon
