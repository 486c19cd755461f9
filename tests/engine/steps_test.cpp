// The steps library on its own: retry pauses, the retry and wait loop around
// a fake attempt, exec outputs, and exec steps through the real runner.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t millisecondsSince(Clock::time_point start) {
  return std::chrono::duration_cast<Milliseconds>(Clock::now() - start).count();
}

StepOutcome outcomeOf(Status status, std::string error = {}) {
  StepOutcome outcome;
  outcome.status = status;
  outcome.error = std::move(error);
  return outcome;
}

TEST(RetryPause, GrowsByTheMultiplierUpToTheMaximum) {
  runbook::RetryPolicy policy;
  policy.backoff = 100ms;
  policy.multiplier = 2.0;
  policy.maxBackoff = 300ms;
  policy.jitter = false;
  std::mt19937_64 random(1);
  EXPECT_EQ(retryPause(policy, 1, random), 100ms);
  EXPECT_EQ(retryPause(policy, 2, random), 200ms);
  EXPECT_EQ(retryPause(policy, 3, random), 300ms);
  EXPECT_EQ(retryPause(policy, 10, random), 300ms);
}

TEST(RetryPause, JitterStaysWithinTheUpperHalf) {
  runbook::RetryPolicy policy;
  policy.backoff = 1'000ms;
  policy.jitter = true;
  std::mt19937_64 random(7);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const Milliseconds pause = retryPause(policy, 1, random);
    EXPECT_GE(pause, 500ms);
    EXPECT_LE(pause, 1'000ms);
    seen.insert(pause.count());
  }
  EXPECT_GT(seen.size(), 50u);  // it does vary
}

TEST(OutputsFromLastLine, TakesTheLastNonEmptyLineWhenItIsAnObject) {
  EXPECT_EQ(boost::json::serialize(outputsFromLastLine("progress\n{\"a\": 1}\n\n  \n")),
            R"({"a":1})");
  EXPECT_EQ(boost::json::serialize(outputsFromLastLine("{\"a\": \"x\"}\r\n")), R"({"a":"x"})");
  EXPECT_EQ(boost::json::serialize(outputsFromLastLine("{\"a\": 1}")), R"({"a":1})");
}

TEST(OutputsFromLastLine, IsEmptyWhenTheLastLineIsNotAnObject) {
  EXPECT_TRUE(outputsFromLastLine("{\"a\": 1}\ndone\n").empty());
  EXPECT_TRUE(outputsFromLastLine("[1, 2]\n").empty());
  EXPECT_TRUE(outputsFromLastLine("{\"a\": \n").empty());
  EXPECT_TRUE(outputsFromLastLine("").empty());
  EXPECT_TRUE(outputsFromLastLine("\n\n").empty());
}

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    services_.cancel = &cancel_;
    services_.redactor = &redactor_;
    services_.onOutput = [this](std::string_view stream, std::string_view text) {
      std::lock_guard lock(mutex_);
      output_.push_back(std::string(stream) + ": " + std::string(text));
    };
    policy_.retry.jitter = false;
    policy_.retry.backoff = 10ms;
    policy_.timeout = 5'000ms;
  }

  StepOutcome runPolicy(const std::function<StepOutcome(Milliseconds)>& once) {
    return runWithPolicy(
        policy_, services_, random_,
        [this](int attempt) {
          attempts_.push_back(attempt);
          return refuseAt_ == attempt ? std::string("journal is gone") : std::string();
        },
        once);
  }

  process::CancelSignal cancel_;
  Redactor redactor_;
  Services services_;
  AttemptPolicy policy_;
  std::mt19937_64 random_{3};
  std::vector<int> attempts_;
  int refuseAt_ = 0;
  std::mutex mutex_;
  std::vector<std::string> output_;
};

TEST_F(PolicyTest, RetriesUntilAnAttemptSucceeds) {
  policy_.retry.attempts = 5;
  int calls = 0;
  const StepOutcome outcome = runPolicy(
      [&](Milliseconds) { return outcomeOf(++calls < 3 ? Status::failed : Status::ok, "nope"); });
  EXPECT_EQ(outcome.status, Status::ok);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_THAT(attempts_, ElementsAre(1, 2, 3));
  ASSERT_EQ(output_.size(), 2u);
  EXPECT_THAT(output_[0], HasSubstr("attempt 1 of 5 failed: nope; retrying in 10ms"));
  EXPECT_THAT(output_[1], HasSubstr("retrying in 20ms"));
}

TEST_F(PolicyTest, ReturnsTheLastFailureWhenAttemptsRunOut) {
  policy_.retry.attempts = 2;
  int calls = 0;
  const StepOutcome outcome = runPolicy(
      [&](Milliseconds) { return outcomeOf(Status::timedOut, "try " + std::to_string(++calls)); });
  EXPECT_EQ(outcome.status, Status::timedOut);
  EXPECT_EQ(outcome.attempts, 2);
  EXPECT_EQ(outcome.error, "try 2");
}

TEST_F(PolicyTest, ARefusedAttemptDoesNotBegin) {
  policy_.retry.attempts = 3;
  refuseAt_ = 2;
  int calls = 0;
  const StepOutcome outcome = runPolicy([&](Milliseconds) {
    ++calls;
    return outcomeOf(Status::failed, "nope");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome.status, Status::failed);
  EXPECT_EQ(outcome.error, "journal is gone");
  EXPECT_EQ(outcome.attempts, 1);
}

TEST_F(PolicyTest, ACancelEndsThePauseBetweenAttempts) {
  policy_.retry.attempts = 3;
  policy_.retry.backoff = 10'000ms;
  policy_.retry.maxBackoff = 10'000ms;
  std::thread canceller([this] {
    std::this_thread::sleep_for(50ms);
    cancel_.trigger();
  });
  const Clock::time_point start = Clock::now();
  const StepOutcome outcome =
      runPolicy([&](Milliseconds) { return outcomeOf(Status::failed, "nope"); });
  canceller.join();
  EXPECT_LT(millisecondsSince(start), 2'000);
  EXPECT_EQ(outcome.status, Status::cancelled);
  EXPECT_EQ(outcome.attempts, 1);
}

TEST_F(PolicyTest, NothingBeginsOnceCancelled) {
  cancel_.trigger();
  int calls = 0;
  const StepOutcome outcome = runPolicy([&](Milliseconds) {
    ++calls;
    return outcomeOf(Status::ok);
  });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(outcome.status, Status::cancelled);
  EXPECT_EQ(outcome.attempts, 0);
}

TEST_F(PolicyTest, WaitChecksUntilOnePasses) {
  policy_.wait = runbook::WaitModifier{2'000ms, 20ms};
  int calls = 0;
  const StepOutcome outcome = runPolicy([&](Milliseconds) {
    return outcomeOf(++calls < 4 ? Status::failed : Status::ok, "not yet");
  });
  EXPECT_EQ(outcome.status, Status::ok);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(calls, 4);
  EXPECT_THAT(attempts_, ElementsAre(1));
  ASSERT_EQ(output_.size(), 3u);
  EXPECT_THAT(output_[2], HasSubstr("check 3 did not pass: not yet"));
}

TEST_F(PolicyTest, WaitGivesUpAfterWithinAndCapsEachCheckByWhatIsLeft) {
  policy_.wait = runbook::WaitModifier{200ms, 50ms};
  std::vector<Milliseconds> timeouts;
  const Clock::time_point start = Clock::now();
  const StepOutcome outcome = runPolicy([&](Milliseconds timeout) {
    timeouts.push_back(timeout);
    return outcomeOf(Status::failed, "down");
  });
  EXPECT_GE(millisecondsSince(start), 140);
  EXPECT_LT(millisecondsSince(start), 1'000);
  EXPECT_EQ(outcome.status, Status::failed);
  ASSERT_GE(timeouts.size(), 2u);
  for (Milliseconds timeout : timeouts) {
    EXPECT_LE(timeout, 200ms);
  }
  EXPECT_THAT(outcome.error, HasSubstr("not passed within 200ms (" +
                                       std::to_string(timeouts.size()) + " checks); last: down"));
}

// The last check of a `wait` may get only what is left of `within` (here
// `within` 110ms is not a multiple of `every` 50ms: the third check gets about
// 10ms). If it times out for that reason, the step's error keeps the reason
// the checks before it reported, not "timed out after 10ms".
TEST_F(PolicyTest, TheLastCheckKeepsItsOwnReason) {
  policy_.wait = runbook::WaitModifier{110ms, 50ms};
  const StepOutcome outcome = runPolicy([&](Milliseconds timeout) {
    return timeout < 20ms ? outcomeOf(Status::timedOut,
                                      "timed out after " + std::to_string(timeout.count()) + "ms")
                          : outcomeOf(Status::failed, "connection refused");
  });
  EXPECT_EQ(outcome.status, Status::failed);
  EXPECT_THAT(outcome.error, HasSubstr("last: connection refused"));
}

class ExecTest : public PolicyTest {
 protected:
  ExecTest() { services_.runner = &runner_; }
  process::PosixRunner runner_;
};

runbook::ExecSpec shell(std::string script) {
  runbook::ExecSpec spec;
  spec.argv = {std::move(script)};
  spec.shell = true;
  return spec;
}

TEST_F(ExecTest, OutputsAndRpoComeFromTheLastStdoutLine) {
  const StepOutcome outcome = runExec(
      shell("echo working; echo '{\"rpo_seconds\": 1.5, \"host\": \"b\"}'"), 5'000ms, services_);
  EXPECT_EQ(outcome.status, Status::ok);
  EXPECT_EQ(outcome.exitCode, 0);
  ASSERT_EQ(outcome.outputs.size(), 2u);
  EXPECT_EQ(outcome.outputs.at("host"), "b");
  EXPECT_EQ(outcome.outputs.at("rpo_seconds").to_number<double>(), 1.5);
  ASSERT_EQ(outcome.measurements.size(), 1u);
  EXPECT_EQ(outcome.measurements.at("rpo_seconds").to_number<double>(), 1.5);
  EXPECT_THAT(output_,
              ElementsAre("stdout: working", "stdout: {\"rpo_seconds\": 1.5, \"host\": \"b\"}"));
}

TEST_F(ExecTest, AFailureNamesTheStatusAndTheLastStderrLineRedacted) {
  redactor_.add("sesame-open");
  runbook::ExecSpec spec = shell("echo \"password $PASS rejected\" >&2; exit 4");
  spec.environment = {{"PASS", "sesame-open"}};
  const StepOutcome outcome = runExec(spec, 5'000ms, services_);
  EXPECT_EQ(outcome.status, Status::failed);
  EXPECT_EQ(outcome.exitCode, 4);
  EXPECT_THAT(outcome.error, HasSubstr("exited with status 4"));
  EXPECT_THAT(outcome.error, HasSubstr("password [redacted] rejected"));
  EXPECT_EQ(outcome.error.find("sesame-open"), std::string::npos);
  EXPECT_TRUE(outcome.outputs.empty());
}

// A long stderr line is cut for the error message only after redaction: a
// secret that straddles the cut does not show in part.
TEST_F(ExecTest, ASecretAcrossTheCutOfALongErrorLineStaysHidden) {
  redactor_.add("abcdefghij-secret");
  runbook::ExecSpec spec = shell("printf '%0295d' 0 >&2; echo \"$PASS tail\" >&2; exit 2");
  spec.environment = {{"PASS", "abcdefghij-secret"}};
  const StepOutcome outcome = runExec(spec, 5'000ms, services_);
  EXPECT_EQ(outcome.status, Status::failed);
  EXPECT_EQ(outcome.error.find("abcde"), std::string::npos) << outcome.error;
  EXPECT_THAT(outcome.error, HasSubstr("[red"));
}

TEST_F(ExecTest, ATimeoutIsTimedOut) {
  const Clock::time_point start = Clock::now();
  const StepOutcome outcome = runExec(shell("sleep 10"), 100ms, services_);
  EXPECT_LT(millisecondsSince(start), 3'000);
  EXPECT_EQ(outcome.status, Status::timedOut);
  EXPECT_THAT(outcome.error, HasSubstr("timed out after 100ms"));
}

TEST_F(ExecTest, AProgramThatCannotStartFails) {
  runbook::ExecSpec spec;
  spec.argv = {"/nonexistent/program"};
  const StepOutcome outcome = runExec(spec, 1'000ms, services_);
  EXPECT_EQ(outcome.status, Status::failed);
  EXPECT_FALSE(outcome.error.empty());
}

}  // namespace
}  // namespace lifeboat::steps
