#include "lifeboat/report/run_record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "journals.hpp"

namespace lifeboat::report {
namespace {

using testing::at;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::JournalBuilder;

RunRecord build(const std::vector<Event>& events) {
  Result<RunRecord> record = buildRunRecord(events);
  EXPECT_TRUE(record.ok()) << record.error().message;
  return record.ok() ? *record : RunRecord{};
}

const StepRecord& step(const RunRecord& record, std::string_view id) {
  const StepRecord* found = record.findStep(id);
  EXPECT_NE(found, nullptr) << id;
  static const StepRecord kMissing;
  return found != nullptr ? *found : kMissing;
}

TEST(RunRecordTest, PassedDrillHasTheRunTheStepsInPlanOrderAndMetObjectives) {
  RunRecord record = build(testing::passedDrill());
  EXPECT_EQ(record.runId, testing::kRunId);
  EXPECT_EQ(record.agent, testing::kAgent);
  EXPECT_EQ(record.runbookName, "orders-db-failover");
  EXPECT_EQ(record.runbookPath, "runbooks/orders-db-failover.toml");
  EXPECT_EQ(record.runbookSha256, std::string(64, 'a'));
  EXPECT_EQ(record.service, "orders");
  EXPECT_TRUE(record.drill);
  EXPECT_EQ(record.agentPid, 31337);
  EXPECT_EQ(record.startedAt, at(0));
  EXPECT_EQ(record.outageStart, at(-2000));
  EXPECT_EQ(record.outageStartSource, "trigger");
  EXPECT_EQ(record.finishedAt, at(9000));
  EXPECT_EQ(record.outcome, Outcome::done);
  EXPECT_EQ(record.exitCode, 0);
  EXPECT_EQ(record.cleanup, "ok");
  EXPECT_EQ(record.variables.at("region"), "eu-central-1");

  std::vector<std::string> ids;
  for (const StepRecord& step : record.steps) {
    ids.push_back(step.id);
  }
  EXPECT_THAT(ids, ElementsAre("lag", "fence", "promote", "verify", "tell-customers", "drop-copy"));

  const StepRecord& promote = step(record, "promote");
  EXPECT_EQ(promote.name, "Promote the standby");
  EXPECT_EQ(promote.kind, "plugin");
  EXPECT_EQ(promote.target, "standby");
  EXPECT_EQ(promote.wave, 2);
  EXPECT_TRUE(promote.hasRollback);
  EXPECT_EQ(promote.execution.status, StepStatus::ok);
  EXPECT_EQ(promote.execution.startedAt, at(1200));
  EXPECT_EQ(promote.execution.finishedAt, at(4200));
  EXPECT_EQ(promote.execution.durationMs, 3000);
  EXPECT_EQ(promote.execution.outputs.at("address"), "127.0.0.5");
  EXPECT_FALSE(promote.rollback.has_value());

  const StepRecord& fence = step(record, "fence");
  EXPECT_FALSE(fence.runs);
  EXPECT_EQ(fence.execution.status, StepStatus::skipped);
  EXPECT_THAT(fence.execution.reason, HasSubstr("real failovers only"));
  EXPECT_FALSE(fence.execution.started());

  EXPECT_EQ(step(record, "lag").execution.measurements.at("rpo_seconds"), 2.5);
  EXPECT_EQ(step(record, "verify").execution.attempts, 2);
  EXPECT_EQ(step(record, "verify").execution.httpStatus, 200);
  const StepRecord& dropCopy = step(record, "drop-copy");
  EXPECT_TRUE(dropCopy.cleanup);
  EXPECT_EQ(dropCopy.execution.phase, Phase::cleanup);
  EXPECT_EQ(dropCopy.execution.status, StepStatus::ok);

  ASSERT_EQ(record.objectives.size(), 2u);
  const ObjectiveRecord* rto = record.findObjective("rto");
  ASSERT_NE(rto, nullptr);
  EXPECT_EQ(rto->verdict, Verdict::met);
  EXPECT_EQ(rto->targetMs, 300000);
  EXPECT_EQ(rto->valueMs, 9500);
  EXPECT_EQ(rto->source, "verify");
  EXPECT_EQ(rto->restoredAt, at(7500));
  const ObjectiveRecord* rpo = record.findObjective("rpo");
  ASSERT_NE(rpo, nullptr);
  EXPECT_EQ(rpo->verdict, Verdict::met);
  EXPECT_EQ(rpo->valueMs, 2500);

  ASSERT_EQ(record.notifications.size(), 1u);
  EXPECT_EQ(record.notifications[0].audience, "customers");
  EXPECT_EQ(record.notifications[0].message, "Orders are back.");
  ASSERT_EQ(record.preflights.size(), 1u);
  EXPECT_TRUE(record.preflights[0].ok);
  EXPECT_EQ(record.preflights[0].checks.size(), 3u);
  EXPECT_THAT(record.preflights[0].warnings, ElementsAre("rpo is measured by one step only"));
}

TEST(RunRecordTest, FailedRealRunKeepsTheFailureTheRollbackAndTheDecision) {
  RunRecord record = build(testing::failedRealRunWithRollback());
  EXPECT_FALSE(record.drill);
  EXPECT_EQ(record.outcome, Outcome::failed);
  EXPECT_EQ(record.exitCode, 1);
  EXPECT_TRUE(record.rolledBack);
  EXPECT_THAT(record.failedSteps, ElementsAre("switch"));
  EXPECT_EQ(record.outageStartSource, "run_start");

  const StepRecord& sw = step(record, "switch");
  EXPECT_EQ(sw.execution.status, StepStatus::failed);
  EXPECT_EQ(sw.execution.attempts, 2);
  EXPECT_EQ(sw.execution.startedAt, at(22900));  // the first attempt's start
  EXPECT_EQ(sw.execution.exitCode, 3);
  EXPECT_EQ(sw.execution.error, "switch-vip exited with 3");

  const StepRecord& promote = step(record, "promote");
  EXPECT_EQ(promote.execution.status, StepStatus::ok);
  ASSERT_TRUE(promote.rollback.has_value());
  EXPECT_EQ(promote.rollback->phase, Phase::rollback);
  EXPECT_EQ(promote.rollback->status, StepStatus::ok);
  EXPECT_EQ(promote.rollback->startedAt, at(25000));

  EXPECT_EQ(step(record, "verify").execution.status, StepStatus::notRun);

  const ObjectiveRecord* rto = record.findObjective("rto");
  ASSERT_NE(rto, nullptr);
  EXPECT_EQ(rto->verdict, Verdict::unknown);
  EXPECT_FALSE(rto->valueMs.has_value());

  ASSERT_EQ(record.decisions.size(), 1u);
  const DecisionRecord& decision = record.decisions[0];
  EXPECT_EQ(decision.step, "approve");
  EXPECT_EQ(decision.question, "Promote the standby now?");
  ASSERT_EQ(decision.options.size(), 2u);
  EXPECT_EQ(decision.options[0].id, "promote");
  EXPECT_EQ(decision.options[0].impact, "30s of writes refused");
  EXPECT_THAT(decision.approvers, ElementsAre("dba-oncall"));
  EXPECT_EQ(decision.deadlineMs, 600000);
  EXPECT_EQ(decision.defaultOption, "wait");
  EXPECT_TRUE(decision.made);
  EXPECT_EQ(decision.choice, "promote");
  EXPECT_EQ(decision.by, "alice");
  EXPECT_EQ(decision.rationale, "primary is gone for good");
  EXPECT_EQ(decision.via, "cli");
  EXPECT_EQ(decision.madeAt, at(20700));
}

TEST(RunRecordTest, UnmeasuredRpoIsUnknown) {
  RunRecord record = build(testing::runWithUnknownRpo());
  EXPECT_EQ(record.outcome, Outcome::done);
  EXPECT_EQ(record.exitCode, 3);
  EXPECT_EQ(record.findObjective("rto")->verdict, Verdict::met);
  const ObjectiveRecord* rpo = record.findObjective("rpo");
  ASSERT_NE(rpo, nullptr);
  EXPECT_EQ(rpo->verdict, Verdict::unknown);
  EXPECT_TRUE(rpo->evaluated);
  EXPECT_FALSE(rpo->valueMs.has_value());
}

TEST(RunRecordTest, InterruptedAndResumedRunIsRunningWithTheResumeRecorded) {
  RunRecord record = build(testing::interruptedAndResumedRun());
  EXPECT_EQ(record.outcome, Outcome::running);
  EXPECT_FALSE(record.exitCode.has_value());
  EXPECT_FALSE(record.finishedAt.has_value());
  EXPECT_EQ(record.lastEventAt, at(61200));

  const StepRecord& b = step(record, "b");
  EXPECT_EQ(b.execution.status, StepStatus::ok);
  EXPECT_EQ(b.execution.startedAt, at(700));  // first step.started, before the crash
  EXPECT_EQ(b.execution.finishedAt, at(61100));
  EXPECT_EQ(b.execution.resolution, "rerun");
  EXPECT_EQ(step(record, "c").execution.status, StepStatus::interrupted);

  ASSERT_EQ(record.resumes.size(), 1u);
  EXPECT_EQ(record.resumes[0].at, at(60000));
  EXPECT_EQ(record.resumes[0].agentPid, 4000);
  ASSERT_EQ(record.resumes[0].interrupted.size(), 1u);
  EXPECT_EQ(record.resumes[0].interrupted[0].step, "b");
  EXPECT_EQ(record.resumes[0].interrupted[0].resolution, "rerun");
  EXPECT_THAT(record.resumes[0].orphansStopped, ElementsAre(4242));

  // Objectives never evaluated: not measured is not met.
  EXPECT_EQ(record.findObjective("rto")->verdict, Verdict::unknown);
}

TEST(RunRecordTest, AStepStartedInAFinishedRunWithoutItsEndIsInterrupted) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}, testing::PlanStep{.id = "b"}}, {});
  journal.stepStarted(10, "a");
  journal.runCancelling(20, "signal", 15);
  journal.runFinished(30, "interrupted", 4);
  RunRecord record = build(journal.events());
  EXPECT_EQ(record.outcome, Outcome::interrupted);
  EXPECT_EQ(record.exitCode, 4);
  EXPECT_EQ(step(record, "a").execution.status, StepStatus::interrupted);
  EXPECT_EQ(step(record, "b").execution.status, StepStatus::notRun);
  ASSERT_TRUE(record.cancellation.has_value());
  EXPECT_EQ(record.cancellation->reason, "signal");
  EXPECT_EQ(record.cancellation->signal, "15");
}

TEST(RunRecordTest, ResumeResolutionsMarkInterruptedSteps) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}, testing::PlanStep{.id = "b"}}, {});
  journal.stepStarted(10, "a");
  journal.stepStarted(10, "b");
  journal.runResumed(
      1000,
      boost::json::array{
          boost::json::object{{"step", "a"}, {"phase", "main"}, {"resolution", "mark_done"}},
          boost::json::object{{"step", "b"}, {"phase", "main"}, {"resolution", "mark_failed"}},
      });
  journal.runFinished(2000, "failed", 1, {"b"});
  RunRecord record = build(journal.events());
  EXPECT_EQ(step(record, "a").execution.status, StepStatus::ok);
  EXPECT_EQ(step(record, "a").execution.resolution, "mark_done");
  EXPECT_EQ(step(record, "b").execution.status, StepStatus::failed);
  EXPECT_THAT(step(record, "b").execution.error, HasSubstr("marked failed"));
  EXPECT_EQ(record.outcome, Outcome::failed);
}

TEST(RunRecordTest, ARunFinishedBeforeAResumeIsRunningAgain) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}}, {});
  journal.stepStarted(10, "a");
  journal.runFinished(20, "interrupted", 4);
  journal.runResumed(1000, boost::json::array{});
  RunRecord record = build(journal.events());
  EXPECT_EQ(record.outcome, Outcome::running);
  EXPECT_FALSE(record.exitCode.has_value());
}

TEST(RunRecordTest, IgnoresUnknownTypesMembersAndAgentLevelEvents) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}}, {});
  journal.events()[0].data["from_the_future"] = boost::json::array{1, 2};
  journal.add(5, "step.teleported", "a", boost::json::object{{"status", "failed"}});
  journal.add(6, event_type::kHeartbeat, "", {}).run = "";
  journal.stepStarted(10, "a");
  journal.stepFinished(20, "a", "ok", 10, boost::json::object{{"novel", true}, {"exit_code", "0"}});
  journal.runFinished(30, "done", 0);
  RunRecord record = build(journal.events());
  EXPECT_EQ(step(record, "a").execution.status, StepStatus::ok);
  EXPECT_FALSE(step(record, "a").execution.exitCode.has_value());  // a string is not a code
  EXPECT_EQ(record.outcome, Outcome::done);
}

TEST(RunRecordTest, StepsTheJournalNamesButThePlanDoesNotAreKept) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}}, {});
  journal.stepStarted(10, "ghost", "exec");
  journal.stepFinished(20, "ghost", "timed_out", 10);
  journal.stepFinished(30, "late", "ok", 5);  // finished without a start
  RunRecord record = build(journal.events());
  ASSERT_EQ(record.steps.size(), 3u);
  EXPECT_FALSE(step(record, "ghost").inPlan);
  EXPECT_EQ(step(record, "ghost").execution.status, StepStatus::timedOut);
  EXPECT_EQ(step(record, "late").execution.startedAt, at(25));
  EXPECT_EQ(step(record, "a").execution.status, StepStatus::notRun);
}

TEST(RunRecordTest, UnknownStatusesNeverLookGood) {
  JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}}, boost::json::object{{"rto_ms", 1000}});
  journal.stepStarted(10, "a");
  journal.stepFinished(20, "a", "vaporised", 10);
  // "met" without a value: not measured is not met, whatever the writer said.
  journal.add(25, event_type::kObjectiveEvaluated, "",
              boost::json::object{{"objective", "rto"}, {"target_ms", 1000}, {"verdict", "met"}});
  journal.runFinished(30, "triumphant", 0);
  RunRecord record = build(journal.events());
  EXPECT_EQ(step(record, "a").execution.status, StepStatus::failed);
  EXPECT_EQ(record.findObjective("rto")->verdict, Verdict::unknown);
  EXPECT_EQ(record.outcome, Outcome::failed);
}

TEST(RunRecordTest, RefusesWhatIsNotOneRunsJournal) {
  std::vector<Event> none;
  Result<RunRecord> empty = buildRunRecord(none);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("no events"));

  std::vector<Event> events = testing::passedDrill();
  std::vector<Event> headless(events.begin() + 1, events.end());
  Result<RunRecord> noStart = buildRunRecord(headless);
  ASSERT_FALSE(noStart.ok());
  EXPECT_THAT(noStart.error().message, HasSubstr("'preflight.finished'"));
  EXPECT_THAT(noStart.error().message, HasSubstr("not 'run.started'"));

  events[3].run = "20261124T230000Z-zzzz";
  Result<RunRecord> mixed = buildRunRecord(events);
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.error().message, HasSubstr("20261124T230000Z-zzzz"));
  EXPECT_THAT(mixed.error().message, HasSubstr(std::string(testing::kRunId)));
}

}  // namespace
}  // namespace lifeboat::report
