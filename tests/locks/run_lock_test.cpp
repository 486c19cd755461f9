// A run holding the etcd lock: the fencing token reaches the steps, and when
// the lease is lost mid-run (revoked, as an operator or a partition would),
// no further step starts, cleanup included, and the run ends interrupted.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "etcd_server.hpp"
#include "lifeboat/engine/run.hpp"
#include "lifeboat/http/client.hpp"
#include "lifeboat/journal/journal.hpp"
#include "lifeboat/locks/etcd_run_lock.hpp"
#include "lifeboat/runbook/load.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::locks {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string text(const boost::json::object& data, std::string_view key) {
  const auto* value = data.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

class RunLockTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd_.running()); }

  std::optional<runbook::Runbook> load(const std::string& toml) {
    DiagnosticSink sink;
    std::optional<runbook::Runbook> book =
        runbook::loadRunbook(toml, (directory_.path() / "run.toml").string(), {}, sink);
    EXPECT_TRUE(book.has_value());
    return book;
  }

  engine::RunEnvironment environment(engine::LockProvider provider) {
    engine::RunEnvironment environment;
    environment.stateDirectory = directory_.path() / "state";
    environment.agentName = "test-agent";
    environment.catalog = &catalog_;
    environment.runner = &runner_;
    environment.lockProvider = std::move(provider);
    environment.killGrace = 1s;
    return environment;
  }

  EtcdOptions options(std::chrono::milliseconds ttl) const {
    EtcdOptions options;
    options.endpoints = {etcd_.endpoint()};
    options.leaseTtl = ttl;
    options.requestTimeout = 1s;
    return options;
  }

  std::vector<Event> journal(const std::string& runId) {
    Result<journal::JournalContents> contents =
        journal::readJournal(directory_.path() / "state" / runId / journal::kJournalFileName);
    EXPECT_TRUE(contents.ok());
    return contents.ok() ? contents->events : std::vector<Event>{};
  }

  test_support::TempDir directory_;
  fixtures::EtcdServer etcd_{directory_.path()};
  process::PosixRunner runner_;
  plugin_host::Catalog catalog_{plugin_host::SearchPath{}, runner_};
};

TEST_F(RunLockTest, FencingTokenReachesTheStepsAndTheLockIsFreedAfterTheRun) {
  const auto marker = directory_.path() / "token";
  const auto book = load(
      "[runbook]\nname = \"fenced\"\nservice = \"orders\"\n[targets.db]\nregion = \"r\"\n"
      "[[step]]\nid = \"write\"\ntarget = \"db\"\nexec = [\"/bin/sh\", \"-c\", "
      "\"echo ${lock.fencing_token} > " +
      marker.string() + "\"]\n");
  ASSERT_TRUE(book);
  engine::RunRequest request;
  request.runbook = &*book;
  Result<engine::RunResult> first =
      engine::startRun(request, environment(etcdLockProvider(options(10s))));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->exitCode, 0);
  std::ifstream in(marker);
  std::int64_t token = 0;
  in >> token;
  EXPECT_GT(token, 0);

  // The lock was released at the end: a second run takes it, with a larger token.
  Result<engine::RunResult> second =
      engine::startRun(request, environment(etcdLockProvider(options(10s))));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->exitCode, 0);
  std::ifstream again(marker);
  std::int64_t next = 0;
  again >> next;
  EXPECT_GT(next, token);
}

TEST_F(RunLockTest, HeldLockFailsPreflightAndNothingRuns) {
  const auto marker = directory_.path() / "ran";
  const auto book = load(
      "[runbook]\nname = \"blocked\"\nservice = \"orders\"\n[targets.db]\nregion = \"r\"\n"
      "[[step]]\nid = \"write\"\ntarget = \"db\"\nexec = [\"/usr/bin/touch\", \"" +
      marker.string() + "\"]\n");
  ASSERT_TRUE(book);
  EtcdOptions other = options(10s);
  other.holder = "another agent";
  Result<EtcdLock> held = EtcdLock::acquire(other, "orders", 0ms);
  ASSERT_TRUE(held.ok()) << held.error().message;

  engine::RunRequest request;
  request.runbook = &*book;
  Result<engine::RunResult> result =
      engine::startRun(request, environment(etcdLockProvider(options(10s))));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exitCode, engine::kExitFailed);
  EXPECT_FALSE(std::filesystem::exists(marker));
  const std::vector<Event> events = journal(result->runId);
  ASSERT_FALSE(events.empty());
  EXPECT_THAT(text(events.back().data, "error"), HasSubstr("another agent"));
}

TEST_F(RunLockTest, LosingTheLeaseStopsTheRunBeforeItsNextStep) {
  const auto work = directory_.path();
  const auto book = load(
      "[runbook]\nname = \"lost\"\nservice = \"orders\"\n[targets.db]\nregion = \"r\"\n"
      "[[step]]\nid = \"one\"\ntarget = \"db\"\nexec = [\"/bin/true\"]\n"
      "[[step]]\nid = \"two\"\nafter = [\"one\"]\ntarget = \"db\"\n"
      "exec = [\"/bin/sleep\", \"3\"]\n"
      "[[step]]\nid = \"three\"\nafter = [\"two\"]\ntarget = \"db\"\n"
      "exec = [\"/usr/bin/touch\", \"" +
      (work / "three").string() +
      "\"]\n"
      "[[step]]\nid = \"tidy\"\ncleanup = true\ntarget = \"db\"\n"
      "exec = [\"/usr/bin/touch\", \"" +
      (work / "tidy").string() + "\"]\n");
  ASSERT_TRUE(book);
  engine::RunRequest request;
  request.runbook = &*book;
  engine::RunEnvironment env = environment(etcdLockProvider(options(2s)));
  Result<engine::RunResult> result = Error{"not run", ""};
  std::thread runner([&] { result = engine::startRun(request, env); });

  // Once step two runs, revoke the run's lease behind its back.
  std::string lease;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (lease.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    for (const auto& entry : std::filesystem::directory_iterator(work / "state")) {
      const auto file = entry.path() / journal::kJournalFileName;
      if (!std::filesystem::exists(file)) {
        continue;
      }
      Result<journal::JournalContents> contents = journal::readJournal(file);
      if (!contents.ok()) {
        continue;
      }
      bool twoStarted = false;
      std::string described;
      for (const Event& event : contents->events) {
        twoStarted = twoStarted || (event.type == "step.started" && event.step == "two");
        if (event.type == "preflight.finished") {
          for (const auto& check : event.data.at("checks").as_array()) {
            if (text(check.as_object(), "check") == "lock") {
              described = text(check.as_object(), "detail");
            }
          }
        }
      }
      const std::size_t at = described.find("lease ");
      if (twoStarted && at != std::string::npos) {
        lease = described.substr(at + 6, described.find(',', at) - at - 6);
      }
    }
  }
  ASSERT_FALSE(lease.empty()) << "step two never started";
  http::Request revoke;
  revoke.method = "POST";
  revoke.url = etcd_.endpoint() + "/v3/lease/revoke";
  revoke.body = R"({"ID":")" + std::to_string(std::stoll(lease, nullptr, 16)) + R"("})";
  revoke.timeout = 5s;
  const http::Outcome revoked = http::perform(revoke);
  ASSERT_TRUE(revoked.result.ok());
  ASSERT_EQ(revoked.result->status, 200) << revoked.result->body;
  runner.join();

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->outcome, "interrupted");
  EXPECT_EQ(result->exitCode, engine::kExitInterrupted);
  EXPECT_FALSE(std::filesystem::exists(work / "three"));
  EXPECT_FALSE(std::filesystem::exists(work / "tidy"));
  bool lockLost = false;
  for (const Event& event : journal(result->runId)) {
    lockLost =
        lockLost || (event.type == "run.cancelling" && text(event.data, "reason") == "lock_lost");
    EXPECT_FALSE(event.type == "step.started" && (event.step == "three" || event.step == "tidy"))
        << event.step << " started without the lock";
  }
  EXPECT_TRUE(lockLost);
}

}  // namespace
}  // namespace lifeboat::locks
