// What drills run and skip, cleanup outcomes, and how RTO and RPO are
// measured and judged (runbook reference sections 4 and 10.1).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_fixture.hpp"

namespace lifeboat::engine_test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kDrillRunbook = R"(
[runbook]
name = "drill"
service = "drill"

[targets.prod]
production = true

[targets.stage]
description = "a copy to practise on"
)";

std::string touchStep(std::string_view id, std::string_view extra) {
  return shellStep(id, "touch @W@/" + std::string(id), extra);
}

const json::object* planEntry(const Event& started, std::string_view id) {
  for (const json::value& step : started.data.at("steps").as_array()) {
    if (text(step.as_object(), "id") == id) {
      return &step.as_object();
    }
  }
  ADD_FAILURE() << "run.started lists no step " << id;
  return nullptr;
}

TEST_F(EngineTest, DrillSkipsProductionAndRealOnlyStepsAndRunsCleanupAfterAFailure) {
  const auto book =
      load(std::string(kDrillRunbook) + touchStep("on_prod", "target = \"prod\"") +
           touchStep("real_only", "target = \"stage\"\nwhen = \"real\"") +
           touchStep("drill_only", "target = \"stage\"\nwhen = \"drill\"") +
           touchStep("untargeted", "") +
           shellStep("main", "exit 1", "target = \"stage\"\nafter = [\"drill_only\"]") +
           touchStep("tidy", "target = \"stage\"\ncleanup = true") +
           touchStep("tidy_prod", "target = \"prod\"\ncleanup = true"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book, runbook::Mode::drill);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);

  for (const char* skipped : {"on_prod", "real_only", "untargeted", "tidy_prod"}) {
    EXPECT_FALSE(fs::exists(work() / skipped)) << skipped;
  }
  EXPECT_TRUE(fs::exists(work() / "drill_only"));
  EXPECT_TRUE(fs::exists(work() / "tidy"));

  const std::vector<Event> events = journal(result.runId);
  ASSERT_FALSE(events.empty());
  const Event& started = events.front();
  ASSERT_EQ(started.type, event_type::kRunStarted);
  EXPECT_TRUE(flag(started.data, "drill"));
  for (const char* skipped : {"on_prod", "real_only", "untargeted", "tidy_prod"}) {
    EXPECT_THAT(eventsOf(events, event_type::kStepStarted, skipped), IsEmpty()) << skipped;
    const json::object* entry = planEntry(started, skipped);
    ASSERT_NE(entry, nullptr);
    EXPECT_FALSE(flag(*entry, "runs")) << skipped;
    EXPECT_FALSE(text(*entry, "skip_reason").empty()) << skipped;
  }
  for (const char* runs : {"drill_only", "main", "tidy"}) {
    const json::object* entry = planEntry(started, runs);
    ASSERT_NE(entry, nullptr);
    EXPECT_TRUE(flag(*entry, "runs")) << runs;
  }
  // The cleanup step ran after the main step failed.
  const auto main = finishedEvent(events, "main");
  const auto tidy = startedEvents(events, "tidy", "cleanup");
  ASSERT_TRUE(main);
  ASSERT_EQ(tidy.size(), 1u);
  EXPECT_LT(main->seq, tidy.front().seq);
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "cleanup"), "ok");
}

TEST_F(EngineTest, RealRunSkipsDrillOnlyStepsAndTouchesProduction) {
  const auto book = load(std::string(kDrillRunbook) + touchStep("on_prod", "target = \"prod\"") +
                         touchStep("drill_only", "target = \"stage\"\nwhen = \"drill\""));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book, runbook::Mode::real);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_TRUE(fs::exists(work() / "on_prod"));
  EXPECT_FALSE(fs::exists(work() / "drill_only"));
  const std::vector<Event> events = journal(result.runId);
  EXPECT_FALSE(flag(events.front().data, "drill"));
  EXPECT_THAT(eventsOf(events, event_type::kStepStarted, "drill_only"), IsEmpty());
}

TEST_F(EngineTest, FailingCleanupMakesTheRunIncomplete) {
  const auto book = load(std::string(kDrillRunbook) + touchStep("work", "target = \"stage\"") +
                         shellStep("tidy", "exit 2", "target = \"stage\"\ncleanup = true") +
                         touchStep("tidy_more", "target = \"stage\"\ncleanup = true"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book, runbook::Mode::drill);
  EXPECT_EQ(result.outcome, "incomplete");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_TRUE(fs::exists(work() / "tidy_more"));  // one failed cleanup does not stop the others
  const std::vector<Event> events = journal(result.runId);
  const auto tidy = finishedEvent(events, "tidy", "cleanup");
  ASSERT_TRUE(tidy);
  EXPECT_EQ(text(tidy->data, "status"), "failed");
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "incomplete");
  EXPECT_EQ(text(finished->data, "cleanup"), "failed");
  EXPECT_EQ(integer(finished->data, "exit_code"), 1);
}

// ----- objectives -----

std::string objectivesRunbook(std::string_view objectives, std::string_view steps) {
  return "[runbook]\nname = \"objectives\"\nservice = \"objectives\"\n[objectives]\n" +
         std::string(objectives) + "\n" + std::string(steps);
}

TEST_F(EngineTest, RtoMetWhenTheRestoringStepFinishesInTime) {
  const auto book = load(objectivesRunbook(
      "rto = \"10s\"",
      shellStep("prepare", "true") +
          shellStep("restore", "true", "after = [\"prepare\"]\nrestores_service = true")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitMet);
  const std::vector<Event> events = journal(result.runId);
  const auto measured = eventsOf(events, event_type::kObjectiveMeasured, "restore");
  ASSERT_EQ(measured.size(), 1u);
  EXPECT_EQ(text(measured.front().data, "objective"), "rto");
  const auto rto = evaluation(events, "rto");
  ASSERT_TRUE(rto);
  EXPECT_EQ(text(rto->data, "verdict"), "met");
  EXPECT_EQ(integer(rto->data, "target_ms"), 10'000);
  EXPECT_GE(integer(rto->data, "value_ms"), 0);
  EXPECT_LT(integer(rto->data, "value_ms"), 10'000);
  EXPECT_EQ(text(rto->data, "source"), "restore");
  EXPECT_FALSE(text(rto->data, "restored_at").empty());
  EXPECT_EQ(text(rto->data, "outage_start"), text(events.front().data, "started_at"));
}

TEST_F(EngineTest, RtoBreachedExitsWithThree) {
  const auto book = load(objectivesRunbook(
      "rto = \"100ms\"", shellStep("restore", "sleep 0.3", "restores_service = true")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitObjectiveNotMet);
  const std::vector<Event> events = journal(result.runId);
  const auto rto = evaluation(events, "rto");
  ASSERT_TRUE(rto);
  EXPECT_EQ(text(rto->data, "verdict"), "breached");
  EXPECT_GE(integer(rto->data, "value_ms"), 300);
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(integer(finished->data, "exit_code"), engine::kExitObjectiveNotMet);
}

TEST_F(EngineTest, RtoUnknownWhenTheRestoringStepFailed) {
  // With on_failure = "continue" the run is done, but nothing restored the
  // service: not measured is not met.
  const auto book = load(objectivesRunbook(
      "rto = \"10s\"",
      shellStep("restore", "exit 1", "restores_service = true\non_failure = \"continue\"")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitObjectiveNotMet);
  const std::vector<Event> events = journal(result.runId);
  const auto rto = evaluation(events, "rto");
  ASSERT_TRUE(rto);
  EXPECT_EQ(text(rto->data, "verdict"), "unknown");
  EXPECT_FALSE(rto->data.contains("value_ms"));
  EXPECT_THAT(eventsOf(events, event_type::kObjectiveMeasured), IsEmpty());

  // A failed run exits 1 even with an objective unknown (1 wins over 3).
  const auto aborting = load(objectivesRunbook(
      "rto = \"10s\"", shellStep("restore", "exit 1", "restores_service = true")));
  ASSERT_TRUE(aborting);
  const engine::RunResult failed = run(*aborting);
  EXPECT_EQ(failed.outcome, "failed");
  EXPECT_EQ(failed.exitCode, engine::kExitFailed);
}

TEST_F(EngineTest, RtoCountsFromTheOutageStartGiven) {
  const auto book = load(
      objectivesRunbook("rto = \"1m\"", shellStep("restore", "true", "restores_service = true")));
  ASSERT_TRUE(book);
  const Timestamp outageStart =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
      std::chrono::seconds(10);
  const engine::RunResult result = run(*book, runbook::Mode::real, outageStart);
  EXPECT_EQ(result.exitCode, engine::kExitMet);
  const std::vector<Event> events = journal(result.runId);
  EXPECT_EQ(text(events.front().data, "outage_start"), formatTimestamp(outageStart));
  EXPECT_EQ(text(events.front().data, "outage_start_source"), "flag");
  const auto rto = evaluation(events, "rto");
  ASSERT_TRUE(rto);
  EXPECT_EQ(text(rto->data, "verdict"), "met");
  EXPECT_GE(integer(rto->data, "value_ms"), 10'000);
  EXPECT_LT(integer(rto->data, "value_ms"), 20'000);
  EXPECT_EQ(text(rto->data, "outage_start"), formatTimestamp(outageStart));
}

// docs/protocol.md: objective.evaluated for `rto` carries `outage_start`,
// `outage_start_source` and `restored_at`, so a report can say where the
// outage start came from without going back to run.started.
TEST_F(EngineTest, RtoEvaluationSaysWhereTheOutageStartCameFrom) {
  const auto book = load(
      objectivesRunbook("rto = \"1m\"", shellStep("restore", "true", "restores_service = true")));
  ASSERT_TRUE(book);
  const Timestamp outageStart =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
      std::chrono::seconds(1);
  const engine::RunResult result = run(*book, runbook::Mode::real, outageStart);
  const auto rto = evaluation(journal(result.runId), "rto");
  ASSERT_TRUE(rto);
  EXPECT_EQ(text(rto->data, "outage_start_source"), "flag");
}

TEST_F(EngineTest, RpoComesFromTheLastStdoutLineOfAMeasuringStep) {
  const auto book = load(objectivesRunbook(
      "rpo = \"5s\"", shellStep("lag", "echo checking; printf \"{\\\"rpo_seconds\\\": 2}\\n\"",
                                "measures = \"rpo\"")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.exitCode, engine::kExitMet);
  const std::vector<Event> events = journal(result.runId);
  const auto lag = finishedEvent(events, "lag");
  ASSERT_TRUE(lag);
  ASSERT_TRUE(lag->data.contains("measurements")) << json::serialize(lag->data);
  EXPECT_EQ(lag->data.at("measurements").at("rpo_seconds").to_number<double>(), 2.0);
  const auto rpo = evaluation(events, "rpo");
  ASSERT_TRUE(rpo);
  EXPECT_EQ(text(rpo->data, "verdict"), "met");
  EXPECT_EQ(integer(rpo->data, "value_ms"), 2'000);
  EXPECT_EQ(integer(rpo->data, "target_ms"), 5'000);
  EXPECT_EQ(text(rpo->data, "source"), "lag");
}

TEST_F(EngineTest, TheWorstOfSeveralRpoMeasurementsCounts) {
  const auto lagStep = [](std::string_view id, std::string_view seconds) {
    return shellStep(id, "printf \"{\\\"rpo_seconds\\\": " + std::string(seconds) + "}\\n\"",
                     "measures = \"rpo\"");
  };
  const auto book = load(objectivesRunbook(
      "rpo = \"3s\"", lagStep("lag1", "1") + lagStep("lag2", "3.5") + lagStep("lag3", "2")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(result.exitCode, engine::kExitObjectiveNotMet);
  const std::vector<Event> events = journal(result.runId);
  EXPECT_EQ(eventsOf(events, event_type::kObjectiveMeasured).size(), 3u);
  const auto rpo = evaluation(events, "rpo");
  ASSERT_TRUE(rpo);
  EXPECT_EQ(text(rpo->data, "verdict"), "breached");
  EXPECT_EQ(integer(rpo->data, "value_ms"), 3'500);
  EXPECT_EQ(text(rpo->data, "source"), "lag2");
}

TEST_F(EngineTest, RpoUnknownWithoutAMeasurement) {
  // The step measures, but its last line is not JSON: nothing was measured.
  const auto book = load(objectivesRunbook(
      "rpo = \"5s\"", shellStep("lag", "echo lag is fine", "measures = \"rpo\"")));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.exitCode, engine::kExitObjectiveNotMet);
  const auto rpo = evaluation(journal(result.runId), "rpo");
  ASSERT_TRUE(rpo);
  EXPECT_EQ(text(rpo->data, "verdict"), "unknown");
  EXPECT_FALSE(rpo->data.contains("value_ms"));
}

}  // namespace
}  // namespace lifeboat::engine_test
