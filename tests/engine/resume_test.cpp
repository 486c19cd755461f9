// resumeRun and inspectRun on journals an agent left behind when it died:
// a finished run's journal cut right after a step.started.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_fixture.hpp"
#include "lifeboat/engine/file_lock.hpp"

namespace lifeboat::engine_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Each step appends a line to a file named like it: the line count is how
// often it ran.
std::string countingRunbook(bool bIdempotent, std::string_view extra = {}) {
  return R"(
[runbook]
name = "resume"
service = "resume"
)" + shellStep("a", "echo ran >> @W@/a") +
         shellStep(
             "b", "echo ran >> @W@/b",
             std::string("after = [\"a\"]\nidempotent = ") + (bIdempotent ? "true" : "false")) +
         shellStep("c", "echo ran >> @W@/c", "after = [\"b\"]") +
         shellStep("tidy", "echo ran >> @W@/tidy", "cleanup = true") + std::string(extra);
}

class ResumeTest : public EngineTest {
 protected:
  // Runs `book` to the end, then cuts its journal after the step.started of
  // `step` in the main phase, as if the agent had died right then.
  std::string crashedRun(const runbook::Runbook& book, std::string_view step) {
    const engine::RunResult result = run(book);
    EXPECT_EQ(result.outcome, "done");
    truncateJournalAfter(journalPath(result.runId), [&](const Event& event) {
      return event.type == event_type::kStepStarted && event.step == step &&
             text(event.data, "phase") == "main";
    });
    return result.runId;
  }

  Result<engine::RunResult> resume(const runbook::Runbook& book, const std::string& runId,
                                   std::map<std::string, engine::Resolution> resolutions = {}) {
    engine::ResumeRequest request;
    request.runbook = &book;
    request.runId = runId;
    request.resolutions = std::move(resolutions);
    return engine::resumeRun(request, environment());
  }

  std::size_t timesRan(std::string_view step) const { return workLines(step).size(); }
};

TEST_F(ResumeTest, InspectListsTheInterruptedStep) {
  const auto book = load(countingRunbook(true));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::RunInspection> inspection = engine::inspectRun(state(), runId);
  ASSERT_TRUE(inspection) << inspection.error().message;
  EXPECT_EQ(inspection->runId, runId);
  EXPECT_FALSE(inspection->finished);
  EXPECT_FALSE(inspection->liveAgent.has_value());
  EXPECT_FALSE(inspection->drill);
  EXPECT_EQ(inspection->runbookSha256, book->sha256);
  EXPECT_EQ(inspection->runbookPath, book->path);
  EXPECT_THAT(inspection->interrupted, ElementsAre("b"));
}

TEST_F(ResumeTest, FinishedStepsAreNotRerunAndAnIdempotentInterruptedStepIs) {
  const auto book = load(countingRunbook(true));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::RunResult> result = resume(*book, runId);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->runId, runId);
  EXPECT_EQ(result->outcome, "done");
  EXPECT_EQ(result->exitCode, engine::kExitMet);
  EXPECT_EQ(timesRan("a"), 1u);
  EXPECT_EQ(timesRan("b"), 2u);
  EXPECT_EQ(timesRan("c"), 2u);  // its first run's record was lost with the crash
  EXPECT_EQ(timesRan("tidy"), 2u);

  const std::vector<Event> events = journal(runId);
  EXPECT_EQ(startedEvents(events, "a").size(), 1u);
  const auto resumed = eventsOf(events, event_type::kRunResumed);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(json::serialize(resumed.front().data.at("interrupted")),
            R"([{"step":"b","phase":"main","resolution":"rerun"}])");
  EXPECT_EQ(eventsOf(events, event_type::kRunFinished).size(), 1u);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].seq, events[i - 1].seq) << "event " << i;
  }
  Result<engine::RunInspection> inspection = engine::inspectRun(state(), runId);
  ASSERT_TRUE(inspection);
  EXPECT_TRUE(inspection->finished);
  EXPECT_THAT(inspection->interrupted, IsEmpty());
}

TEST_F(ResumeTest, ANonIdempotentInterruptedStepNeedsAResolution) {
  const auto book = load(countingRunbook(false));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::RunResult> refused = resume(*book, runId);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("step b"));
  EXPECT_THAT(refused.error().hint, HasSubstr("--resolve b="));
  EXPECT_EQ(timesRan("b"), 1u);
  EXPECT_EQ(timesRan("c"), 1u);

  Result<engine::RunResult> result = resume(*book, runId, {{"b", engine::Resolution::markDone}});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->outcome, "done");
  EXPECT_EQ(timesRan("b"), 1u);
  EXPECT_EQ(timesRan("c"), 2u);
  const std::vector<Event> events = journal(runId);
  EXPECT_EQ(startedEvents(events, "b").size(), 1u);
  std::optional<Event> resolved;
  for (const Event& event : eventsOf(events, event_type::kStepFinished, "b")) {
    resolved = event;
  }
  ASSERT_TRUE(resolved);
  EXPECT_EQ(text(resolved->data, "resolution"), "mark_done");
  EXPECT_EQ(text(resolved->data, "status"), "ok");
}

TEST_F(ResumeTest, MarkFailedStopsTheDependents) {
  const auto book = load(countingRunbook(false));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::RunResult> result = resume(*book, runId, {{"b", engine::Resolution::markFailed}});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->outcome, "failed");
  EXPECT_EQ(result->exitCode, engine::kExitFailed);
  EXPECT_EQ(timesRan("b"), 1u);
  EXPECT_EQ(timesRan("c"), 1u);
  EXPECT_EQ(timesRan("tidy"), 2u);
  const std::vector<Event> events = journal(runId);
  const auto c = eventsOf(events, event_type::kStepFinished, "c");
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(text(c.back().data, "status"), "skipped");
}

TEST_F(ResumeTest, AnEditedRunbookIsRefused) {
  const auto book = load(countingRunbook(true));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  const auto edited = load(countingRunbook(true, "\n# edited after the crash\n"));
  ASSERT_TRUE(edited);
  ASSERT_NE(edited->sha256, book->sha256);
  Result<engine::RunResult> refused = resume(*edited, runId);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("edited"));
  EXPECT_EQ(timesRan("b"), 1u);
}

TEST_F(ResumeTest, AFinishedRunIsNotResumed) {
  const auto book = load(countingRunbook(true));
  ASSERT_TRUE(book);
  const engine::RunResult finished = run(*book);
  Result<engine::RunResult> refused = resume(*book, finished.runId);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("nothing to resume"));
}

TEST_F(ResumeTest, ARunAnAgentStillHoldsIsNotResumed) {
  const auto book = load(countingRunbook(true));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::FileLock> agent =
      engine::FileLock::acquire(state() / runId / "agent.lock", "run " + runId, "pid 4242");
  ASSERT_TRUE(agent) << agent.error().message;
  Result<engine::RunInspection> inspection = engine::inspectRun(state(), runId);
  ASSERT_TRUE(inspection);
  ASSERT_TRUE(inspection->liveAgent.has_value());
  EXPECT_THAT(*inspection->liveAgent, HasSubstr("4242"));
  Result<engine::RunResult> refused = resume(*book, runId);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("still being executed"));
  EXPECT_EQ(timesRan("b"), 1u);
}

// An RPO measured before the crash is read back from the journal: the resumed
// run judges it rather than calling the RPO unknown.
TEST_F(ResumeTest, AnRpoMeasuredBeforeTheCrashStillCounts) {
  const auto book =
      load(R"(
[runbook]
name = "resume"
service = "resume"
[objectives]
rpo = "5s"
)" + shellStep("lag", "printf \"{\\\"rpo_seconds\\\": 2}\\n\"", "measures = \"rpo\"") +
           shellStep("b", "echo ran >> @W@/b", "after = [\"lag\"]\nidempotent = true"));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "b");
  Result<engine::RunResult> result = resume(*book, runId);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->exitCode, engine::kExitMet);
  std::optional<Event> rpo;
  for (const Event& event : eventsOf(journal(runId), event_type::kObjectiveEvaluated)) {
    rpo = event;
  }
  ASSERT_TRUE(rpo);
  EXPECT_EQ(text(rpo->data, "verdict"), "met");
  EXPECT_EQ(integer(rpo->data, "value_ms"), 2'000);
}

// A step that failed with on_failure = "continue" before the agent died is
// still listed in the resumed run's failed_steps.
TEST_F(ResumeTest, StepsThatFailedBeforeTheCrashStayInFailedSteps) {
  const auto book = load(R"(
[runbook]
name = "resume"
service = "resume"
[policy]
max_parallel = 1
)" + shellStep("x", "exit 1", "on_failure = \"continue\"") +
                         shellStep("b", "echo ran >> @W@/b", "after = [\"x\"]\nidempotent = true") +
                         shellStep("c", "echo ran >> @W@/c", "idempotent = true"));
  ASSERT_TRUE(book);
  const std::string runId = crashedRun(*book, "c");
  Result<engine::RunResult> result = resume(*book, runId);
  ASSERT_TRUE(result) << result.error().message;
  std::optional<Event> finished;
  for (const Event& event : eventsOf(journal(runId), event_type::kRunFinished)) {
    finished = event;
  }
  ASSERT_TRUE(finished);
  EXPECT_EQ(json::serialize(finished->data.at("failed_steps")), R"(["x"])");
}

}  // namespace
}  // namespace lifeboat::engine_test
