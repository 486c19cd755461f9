// The scheduler: DAG order, max_parallel, on_failure, retry, wait, timeouts,
// the run timeout and cancellation by signal. Steps are /bin/sh scripts that
// leave their traces in the test's work directory.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <thread>

#include "engine_fixture.hpp"
#include "lifeboat/journal/journal.hpp"

namespace lifeboat::engine_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

// A step that appends "start ID <ns>" and "end ID <ns>" to @W@/log around a
// sleep of `seconds`.
std::string timedStep(std::string_view id, std::string_view seconds, std::string_view extra = {}) {
  const std::string name(id);
  return shellStep(id,
                   "echo \"start " + name + " $(date +%s%N)\" >> @W@/log; sleep " +
                       std::string(seconds) + "; echo \"end " + name +
                       " $(date +%s%N)\" >> @W@/log",
                   extra);
}

struct Interval {
  long long start = -1;
  long long end = -1;
};

std::map<std::string, Interval> intervals(const std::vector<std::string>& lines) {
  std::map<std::string, Interval> found;
  for (const std::string& line : lines) {
    std::istringstream fields(line);
    std::string what;
    std::string id;
    long long at = 0;
    fields >> what >> id >> at;
    (what == "start" ? found[id].start : found[id].end) = at;
  }
  return found;
}

// The most intervals open at one moment.
int maxOverlap(const std::map<std::string, Interval>& all) {
  std::vector<std::pair<long long, int>> edges;
  for (const auto& [id, interval] : all) {
    edges.emplace_back(interval.start, +1);
    edges.emplace_back(interval.end, -1);
  }
  std::sort(edges.begin(), edges.end());  // an end sorts before a start at the same time
  int open = 0;
  int most = 0;
  for (const auto& edge : edges) {
    open += edge.second;
    most = std::max(most, open);
  }
  return most;
}

constexpr std::string_view kHeader = R"(
[runbook]
name = "scheduling"
service = "sched"
)";

TEST_F(EngineTest, StepsStartOnlyAfterTheirAfterStepsAndNeverMoreThanMaxParallel) {
  const auto book = load(std::string(kHeader) + "[policy]\nmax_parallel = 2\n" +
                         timedStep("a", "0.2") + timedStep("b", "0.2") + timedStep("c", "0.2") +
                         timedStep("d", "0.2") + timedStep("e", "0.05", "after = [\"a\", \"b\"]") +
                         timedStep("f", "0.05", "after = [\"e\", \"c\", \"d\"]"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitMet);

  const auto times = intervals(workLines("log"));
  ASSERT_EQ(times.size(), 6u) << readWork("log");
  for (const auto& [id, interval] : times) {
    ASSERT_GT(interval.start, 0) << id;
    ASSERT_GE(interval.end, interval.start) << id;
  }
  EXPECT_GE(times.at("e").start, std::max(times.at("a").end, times.at("b").end));
  EXPECT_GE(times.at("f").start,
            std::max({times.at("e").end, times.at("c").end, times.at("d").end}));
  // Independent steps did run side by side, but never three at once.
  EXPECT_EQ(maxOverlap(times), 2) << readWork("log");

  // The journal tells the same story: e starts after a and b finished.
  const std::vector<Event> events = journal(result.runId);
  const auto e = startedEvents(events, "e");
  ASSERT_EQ(e.size(), 1u);
  for (const char* dependency : {"a", "b"}) {
    const auto finished = finishedEvent(events, dependency);
    ASSERT_TRUE(finished);
    EXPECT_LT(finished->seq, e.front().seq) << dependency;
    EXPECT_EQ(text(finished->data, "status"), "ok");
  }
  int running = 0;
  int most = 0;
  for (const Event& event : events) {
    if (event.type == event_type::kStepStarted) {
      most = std::max(most, ++running);
    } else if (event.type == event_type::kStepFinished) {
      --running;
    }
  }
  EXPECT_EQ(most, 2);
}

TEST_F(EngineTest, AbortStopsTheRunAndSkipsWhatDidNotStart) {
  const auto book = load(std::string(kHeader) + "[policy]\nmax_parallel = 1\n" +
                         shellStep("fail", "echo broken >&2; exit 3") +
                         shellStep("independent", "touch @W@/independent") +
                         shellStep("later", "touch @W@/later", "after = [\"fail\"]"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_FALSE(fs::exists(work() / "independent"));
  EXPECT_FALSE(fs::exists(work() / "later"));

  const std::vector<Event> events = journal(result.runId);
  const auto failed = finishedEvent(events, "fail");
  ASSERT_TRUE(failed);
  EXPECT_EQ(text(failed->data, "status"), "failed");
  EXPECT_EQ(integer(failed->data, "exit_code"), 3);
  EXPECT_THAT(text(failed->data, "error"), HasSubstr("exited with status 3"));
  EXPECT_THAT(text(failed->data, "error"), HasSubstr("broken"));  // stderr's last line
  for (const char* id : {"independent", "later"}) {
    EXPECT_THAT(startedEvents(events, id), IsEmpty()) << id;
    const auto skipped = finishedEvent(events, id);
    ASSERT_TRUE(skipped);
    EXPECT_EQ(text(skipped->data, "status"), "skipped") << id;
    EXPECT_THAT(text(skipped->data, "reason"), HasSubstr("fail")) << id;
    EXPECT_EQ(integer(skipped->data, "duration_ms"), 0) << id;
  }
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "failed");
  EXPECT_EQ(integer(finished->data, "exit_code"), 1);
  EXPECT_EQ(json::serialize(finished->data.at("failed_steps")), R"(["fail"])");
  EXPECT_FALSE(flag(finished->data, "rolled_back"));
}

TEST_F(EngineTest, ContinueSkipsDependentsAndRunsTheRest) {
  const auto book =
      load(std::string(kHeader) + shellStep("a", "exit 1", "on_failure = \"continue\"") +
           shellStep("b", "touch @W@/b", "after = [\"a\"]") + shellStep("c", "touch @W@/c") +
           shellStep("d", "touch @W@/d", "after = [\"c\"]"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitMet);
  EXPECT_FALSE(fs::exists(work() / "b"));
  EXPECT_TRUE(fs::exists(work() / "c"));
  EXPECT_TRUE(fs::exists(work() / "d"));

  const std::vector<Event> events = journal(result.runId);
  const auto b = finishedEvent(events, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(text(b->data, "status"), "skipped");
  EXPECT_THAT(text(b->data, "reason"), HasSubstr("after step a, which failed"));
  EXPECT_THAT(startedEvents(events, "b"), IsEmpty());
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "done");
  EXPECT_EQ(json::serialize(finished->data.at("failed_steps")), R"(["a"])");
}

TEST_F(EngineTest, RollbackUndoesCompletedStepsInReverseCompletionOrder) {
  // b finishes before a, so the rollbacks run a first, then b (reverse file
  // order would be b, a). c fails and was never completed: its rollback
  // must not run. Cleanup comes after the rollbacks.
  const auto undo = [](std::string_view id) {
    return "rollback = { exec = [\"/bin/sh\", \"-c\", 'echo undo-" + std::string(id) +
           " >> @W@/order'] }";
  };
  const auto book = load(
      std::string(kHeader) + "[policy]\nmax_parallel = 2\n" +
      shellStep("a", "sleep 0.3; echo a >> @W@/order", undo("a")) +
      shellStep("b", "echo b >> @W@/order", undo("b")) +
      shellStep("c", "exit 1", "after = [\"a\", \"b\"]\non_failure = \"rollback\"\n" + undo("c")) +
      shellStep("d", "echo d >> @W@/order", "after = [\"c\"]\n" + undo("d")) +
      shellStep("tidy", "echo tidy >> @W@/order", "cleanup = true"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_THAT(workLines("order"), ElementsAre("b", "a", "undo-a", "undo-b", "tidy"));

  const std::vector<Event> events = journal(result.runId);
  std::vector<std::string> rolledBack;
  for (const Event& event : eventsOf(events, event_type::kStepStarted)) {
    if (text(event.data, "phase") == "rollback") {
      rolledBack.push_back(event.step);
    }
  }
  EXPECT_THAT(rolledBack, ElementsAre("a", "b"));
  for (const char* id : {"a", "b"}) {
    const auto finished = finishedEvent(events, id, "rollback");
    ASSERT_TRUE(finished);
    EXPECT_EQ(text(finished->data, "status"), "ok");
  }
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "failed");
  EXPECT_TRUE(flag(finished->data, "rolled_back"));
  EXPECT_EQ(text(finished->data, "cleanup"), "ok");
}

constexpr std::string_view kThirdTimeLucky =
    "n=$(cat @W@/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > @W@/count; "
    "echo \"try $n\"; [ $n -ge 3 ]";

TEST_F(EngineTest, RetryCountsAttemptsAndHonoursTheBackoff) {
  const auto book = load(
      std::string(kHeader) +
      shellStep("flaky", kThirdTimeLucky,
                "retry = { attempts = 5, backoff = \"100ms\", multiplier = 2, jitter = false }"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(readWork("count"), "3\n");

  const std::vector<Event> events = journal(result.runId);
  const auto started = startedEvents(events, "flaky");
  ASSERT_EQ(started.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(integer(started[i].data, "attempt"), i + 1);
  }
  // Each gap is the attempt's own run time plus the pause: 100ms, then 200ms.
  EXPECT_GE(millisecondsBetween(started[0], started[1]), 100);
  EXPECT_GE(millisecondsBetween(started[1], started[2]), 200);
  EXPECT_LT(millisecondsBetween(started[0], started[2]), 2'000);
  const auto finished = finishedEvent(events, "flaky");
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "status"), "ok");
  EXPECT_EQ(integer(finished->data, "attempts"), 3);

  std::string progress;
  for (const Event& event : eventsOf(events, event_type::kStepOutput, "flaky")) {
    if (text(event.data, "stream") == "progress") {
      progress += text(event.data, "text") + "\n";
    }
  }
  EXPECT_THAT(progress, HasSubstr("attempt 1 of 5 failed"));
  EXPECT_THAT(progress, HasSubstr("retrying in 100ms"));
  EXPECT_THAT(progress, HasSubstr("retrying in 200ms"));
}

TEST_F(EngineTest, RetryGivesUpAfterTheLastAttempt) {
  const auto book =
      load(std::string(kHeader) +
           shellStep("hopeless", "exit 7", "retry = { attempts = 2, backoff = \"10ms\" }"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  const std::vector<Event> events = journal(result.runId);
  EXPECT_EQ(startedEvents(events, "hopeless").size(), 2u);
  const auto finished = finishedEvent(events, "hopeless");
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "status"), "failed");
  EXPECT_EQ(integer(finished->data, "attempts"), 2);
  EXPECT_EQ(integer(finished->data, "exit_code"), 7);
}

// The progress line of the first retry pause of `book`'s step `hopeless`,
// e.g. "... retrying in 41m7s312ms".
std::string firstRetryNote(const std::vector<Event>& events) {
  for (const Event& event : eventsOf(events, event_type::kStepOutput, "hopeless")) {
    if (text(event.data, "text").find("retrying in") != std::string::npos) {
      return text(event.data, "text");
    }
  }
  ADD_FAILURE() << "no retry note";
  return {};
}

// RunEnvironment::seed 0 means "from std::random_device" for retry jitter
// too: two runs draw different pauses, so agents do not retry in step (runbook
// reference 9.8). The run timeout ends each run during its hour-long pause.
TEST_F(EngineTest, RetryJitterDiffersBetweenRunsWithoutASeed) {
  const auto book = load(
      std::string(kHeader) + "[policy]\nrun_timeout = \"300ms\"\n" +
      shellStep("hopeless", "exit 1", "retry = { attempts = 2, backoff = \"1h\", jitter = true }"));
  ASSERT_TRUE(book);
  const engine::RunResult first = run(*book);
  const engine::RunResult second = run(*book);
  ASSERT_NE(first.runId, second.runId);
  const std::string firstNote = firstRetryNote(journal(first.runId));
  const std::string secondNote = firstRetryNote(journal(second.runId));
  EXPECT_THAT(firstNote, HasSubstr("retrying in"));
  EXPECT_NE(firstNote, secondNote);
}

TEST_F(EngineTest, WaitRepeatsTheCheckUntilItPasses) {
  // Passes from 300 ms after its first check on.
  const auto book = load(std::string(kHeader) +
                         shellStep("ready",
                                   "now=$(date +%s%N); [ -e @W@/t0 ] || echo $now > @W@/t0; "
                                   "[ $((now - $(cat @W@/t0))) -ge 300000000 ]",
                                   "wait = { within = \"5s\", every = \"50ms\" }"));
  ASSERT_TRUE(book);
  const Clock::time_point begin = Clock::now();
  const engine::RunResult result = run(*book);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_LT(took.count(), 3'000);

  const std::vector<Event> events = journal(result.runId);
  EXPECT_EQ(startedEvents(events, "ready").size(), 1u);  // one attempt of many checks
  const auto finished = finishedEvent(events, "ready");
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "status"), "ok");
  EXPECT_GE(integer(finished->data, "duration_ms"), 300);
  int failedChecks = 0;
  for (const Event& event : eventsOf(events, event_type::kStepOutput, "ready")) {
    failedChecks += text(event.data, "text").find("did not pass") != std::string::npos;
  }
  EXPECT_GE(failedChecks, 3);
}

TEST_F(EngineTest, WaitFailsAfterWithinAndCountsTheChecks) {
  const auto book =
      load(std::string(kHeader) + shellStep("never", "echo not yet >&2; exit 1",
                                            "wait = { within = \"400ms\", every = \"50ms\" }"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");

  const std::vector<Event> events = journal(result.runId);
  const auto finished = finishedEvent(events, "never");
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "status"), "failed");
  const std::string error = text(finished->data, "error");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(error, match, std::regex(R"(within 400ms \((\d+) checks\))")))
      << error;
  const int checks = std::stoi(match[1]);
  EXPECT_GE(checks, 2);
  EXPECT_LE(checks, 9);
  // The last check may get only what is left of `within` and time out
  // instead (see steps_test, TheLastCheckKeepsItsOwnReason).
  EXPECT_THAT(error, testing::AnyOf(HasSubstr("last: /bin/sh exited with status 1: not yet"),
                                    HasSubstr("last: /bin/sh timed out after")));
  EXPECT_GE(integer(finished->data, "duration_ms"), 350);
  EXPECT_LT(integer(finished->data, "duration_ms"), 2'000);
}

TEST_F(EngineTest, TimeoutKillsTheWholeProcessGroup) {
  const auto book =
      load(std::string(kHeader) + shellStep("slow", "sleep 10 & sleep 10", "timeout = \"200ms\""));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");

  const std::vector<Event> events = journal(result.runId);
  const auto finished = finishedEvent(events, "slow");
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "status"), "timed_out");
  EXPECT_THAT(text(finished->data, "error"), HasSubstr("timed out after 200ms"));
  EXPECT_LT(integer(finished->data, "duration_ms"), 2'000);
  const auto process = eventsOf(events, event_type::kStepProcess, "slow");
  ASSERT_EQ(process.size(), 1u);
  const auto group = static_cast<pid_t>(integer(process.front().data, "process_group"));
  ASSERT_GT(group, 1);
  EXPECT_TRUE(pollUntil([&] { return livingMembers(group).empty(); }, std::chrono::seconds(2)))
      << "process group " << group << " still has living members";
}

TEST_F(EngineTest, RunTimeoutCancelsTheStepAndCleanupStillRuns) {
  const auto book = load(std::string(kHeader) + "[policy]\nrun_timeout = \"300ms\"\n" +
                         shellStep("long", "sleep 10") +
                         shellStep("next", "touch @W@/next", "after = [\"long\"]") +
                         shellStep("tidy", "touch @W@/tidy", "cleanup = true"));
  ASSERT_TRUE(book);
  const Clock::time_point begin = Clock::now();
  const engine::RunResult result = run(*book);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count(),
            3'000);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_TRUE(fs::exists(work() / "tidy"));
  EXPECT_FALSE(fs::exists(work() / "next"));

  const std::vector<Event> events = journal(result.runId);
  const auto long_ = finishedEvent(events, "long");
  ASSERT_TRUE(long_);
  EXPECT_EQ(text(long_->data, "status"), "cancelled");
  const auto cancelling = eventsOf(events, event_type::kRunCancelling);
  ASSERT_EQ(cancelling.size(), 1u);
  EXPECT_EQ(text(cancelling.front().data, "reason"), "run_timeout");
  const auto tidy = finishedEvent(events, "tidy", "cleanup");
  ASSERT_TRUE(tidy);
  EXPECT_EQ(text(tidy->data, "status"), "ok");
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "failed");
  EXPECT_THAT(text(finished->data, "error"), HasSubstr("run timeout"));
}

// Runs `book` on another thread; the engine's signal handling is only in
// place while the run is in progress, so signals are raised only after the
// journal shows the run is well under way.
class BackgroundRun {
 public:
  BackgroundRun(const runbook::Runbook& book, const engine::RunEnvironment& environment)
      : thread_([this, &book, environment] {
          engine::RunRequest request;
          request.runbook = &book;
          request.mode = runbook::Mode::real;
          Result<engine::RunResult> outcome = engine::startRun(request, environment);
          if (outcome) {
            result_ = *outcome;
          } else {
            ADD_FAILURE() << outcome.error().message;
          }
          done_ = true;
        }) {}
  ~BackgroundRun() { join(); }

  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool done() const { return done_; }
  const engine::RunResult& result() const { return result_; }

 private:
  engine::RunResult result_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Whether the only run in `state` has journaled a step.process for `step`.
bool processStarted(const fs::path& state, std::string_view step) {
  if (!fs::exists(state)) {
    return false;
  }
  for (const auto& entry : fs::directory_iterator(state)) {
    const fs::path file = entry.path() / "journal.jsonl";
    if (!fs::exists(file)) {
      continue;
    }
    Result<journal::JournalContents> contents = journal::readJournal(file);
    if (contents && !eventsOf(contents->events, event_type::kStepProcess, step).empty()) {
      return true;
    }
  }
  return false;
}

TEST_F(EngineTest, SigtermInterruptsTheRunAndCleanupStillRuns) {
  const auto book = load(std::string(kHeader) + shellStep("long", "sleep 10") +
                         shellStep("tidy", "touch @W@/tidy", "cleanup = true"));
  ASSERT_TRUE(book);
  BackgroundRun background(*book, environment());
  ASSERT_TRUE(pollUntil([&] { return processStarted(state(), "long") || background.done(); }));
  ASSERT_FALSE(background.done());
  const Clock::time_point signalled = Clock::now();
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  background.join();
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled).count(),
            3'000);

  const engine::RunResult& result = background.result();
  EXPECT_EQ(result.outcome, "interrupted");
  EXPECT_EQ(result.exitCode, engine::kExitInterrupted);
  EXPECT_TRUE(fs::exists(work() / "tidy"));
  const std::vector<Event> events = journal(result.runId);
  const auto long_ = finishedEvent(events, "long");
  ASSERT_TRUE(long_);
  EXPECT_EQ(text(long_->data, "status"), "cancelled");
  const auto cancelling = eventsOf(events, event_type::kRunCancelling);
  ASSERT_EQ(cancelling.size(), 1u);
  EXPECT_EQ(text(cancelling.front().data, "reason"), "signal");
  EXPECT_EQ(integer(cancelling.front().data, "signal"), SIGTERM);
  const auto tidy = finishedEvent(events, "tidy", "cleanup");
  ASSERT_TRUE(tidy);
  EXPECT_EQ(text(tidy->data, "status"), "ok");
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(integer(finished->data, "exit_code"), engine::kExitInterrupted);
}

TEST_F(EngineTest, SecondSigtermStopsCleanupToo) {
  const auto book = load(std::string(kHeader) + shellStep("long", "sleep 10") +
                         shellStep("tidy", "sleep 10", "cleanup = true"));
  ASSERT_TRUE(book);
  BackgroundRun background(*book, environment());
  ASSERT_TRUE(pollUntil([&] { return processStarted(state(), "long") || background.done(); }));
  ASSERT_FALSE(background.done());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(pollUntil([&] { return processStarted(state(), "tidy") || background.done(); }));
  ASSERT_FALSE(background.done());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  background.join();

  const engine::RunResult& result = background.result();
  EXPECT_EQ(result.outcome, "interrupted");
  EXPECT_EQ(result.exitCode, engine::kExitInterrupted);
  const std::vector<Event> events = journal(result.runId);
  const auto tidy = finishedEvent(events, "tidy", "cleanup");
  ASSERT_TRUE(tidy);
  EXPECT_EQ(text(tidy->data, "status"), "cancelled");
  EXPECT_LT(integer(tidy->data, "duration_ms"), 3'000);
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "cleanup"), "failed");
}

}  // namespace
}  // namespace lifeboat::engine_test
