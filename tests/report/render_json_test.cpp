#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "journals.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {
namespace {

namespace json = boost::json;

json::object reportOf(const std::vector<Event>& events) {
  Result<RunRecord> record = buildRunRecord(events);
  EXPECT_TRUE(record.ok());
  if (!record.ok()) {
    return {};
  }
  std::string text = renderJson(*record);
  EXPECT_EQ(text.back(), '\n');
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  EXPECT_FALSE(error) << error.message() << "\n" << text;
  EXPECT_TRUE(value.is_object());
  return value.is_object() ? value.get_object() : json::object{};
}

std::vector<std::string> keysOf(const json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) {
    keys.emplace_back(member.key());
  }
  return keys;
}

const json::object& stepOf(const json::object& report, std::string_view id) {
  for (const json::value& step : report.at("steps").as_array()) {
    if (step.at("id") == json::value(id)) {
      return step.as_object();
    }
  }
  ADD_FAILURE() << "no step " << id;
  static const json::object kNone;
  return kNone;
}

// docs/reports.md lists these keys, in this order.
TEST(RenderJsonTest, HasTheDocumentedKeysInOrder) {
  json::object report = reportOf(testing::passedDrill());
  EXPECT_THAT(keysOf(report),
              ::testing::ElementsAre(
                  "report_version", "run", "agent", "runbook", "service", "mode", "drill",
                  "agent_pid", "variables", "started_at", "outage_start", "outage_start_source",
                  "finished_at", "duration_ms", "outcome", "exit_code", "error", "failed_steps",
                  "cleanup", "rolled_back", "cancellation", "last_event_at", "objectives", "steps",
                  "decisions", "notifications", "preflight", "resumes"));
  EXPECT_THAT(keysOf(report.at("runbook").as_object()),
              ::testing::ElementsAre("path", "name", "sha256"));
  EXPECT_THAT(
      keysOf(report.at("objectives").at(0).as_object()),
      ::testing::ElementsAre("objective", "target_ms", "value_ms", "verdict", "evaluated", "source",
                             "restored_at", "outage_start", "outage_start_source"));
  EXPECT_THAT(keysOf(stepOf(report, "promote")),
              ::testing::ElementsAre("id", "name", "kind", "target", "wave", "cleanup", "runs",
                                     "skip_reason", "restores_service", "measures_rpo",
                                     "idempotent", "has_rollback", "in_plan", "phase", "status",
                                     "attempts", "started_at", "finished_at", "duration_ms",
                                     "exit_code", "signal", "http_status", "error", "reason",
                                     "resolution", "outputs", "measurements", "rollback"));
}

TEST(RenderJsonTest, PassedDrillValues) {
  json::object report = reportOf(testing::passedDrill());
  EXPECT_EQ(report.at("report_version"), kReportVersion);
  EXPECT_EQ(report.at("run"), json::value(testing::kRunId));
  EXPECT_EQ(report.at("mode"), "drill");
  EXPECT_EQ(report.at("drill"), true);
  EXPECT_EQ(report.at("outcome"), "done");
  EXPECT_EQ(report.at("exit_code"), 0);
  EXPECT_EQ(report.at("started_at"), "2026-11-24T22:56:10.000Z");
  EXPECT_EQ(report.at("outage_start"), "2026-11-24T22:56:08.000Z");
  EXPECT_EQ(report.at("finished_at"), "2026-11-24T22:56:19.000Z");
  EXPECT_EQ(report.at("duration_ms"), 9000);
  EXPECT_TRUE(report.at("error").is_null());
  EXPECT_TRUE(report.at("cancellation").is_null());

  const json::object& rto = report.at("objectives").at(0).as_object();
  EXPECT_EQ(rto.at("objective"), "rto");
  EXPECT_EQ(rto.at("verdict"), "met");
  EXPECT_EQ(rto.at("target_ms"), 300000);
  EXPECT_EQ(rto.at("value_ms"), 9500);
  EXPECT_EQ(rto.at("restored_at"), "2026-11-24T22:56:17.500Z");
  const json::object& rpo = report.at("objectives").at(1).as_object();
  EXPECT_EQ(rpo.at("verdict"), "met");
  EXPECT_EQ(rpo.at("value_ms"), 2500);

  const json::object& promote = stepOf(report, "promote");
  EXPECT_EQ(promote.at("status"), "ok");
  EXPECT_EQ(promote.at("started_at"), "2026-11-24T22:56:11.200Z");
  EXPECT_EQ(promote.at("duration_ms"), 3000);
  EXPECT_EQ(promote.at("outputs").at("address"), "127.0.0.5");
  EXPECT_TRUE(promote.at("rollback").is_null());
  const json::object& fence = stepOf(report, "fence");
  EXPECT_EQ(fence.at("status"), "skipped");
  EXPECT_EQ(fence.at("runs"), false);
  EXPECT_TRUE(fence.at("started_at").is_null());
  EXPECT_EQ(stepOf(report, "lag").at("measurements").at("rpo_seconds"), 2.5);
  EXPECT_EQ(stepOf(report, "drop-copy").at("phase"), "cleanup");

  EXPECT_EQ(report.at("notifications").at(0).at("audience"), "customers");
  EXPECT_EQ(report.at("preflight").at(0).at("ok"), true);
}

TEST(RenderJsonTest, FailedRunCarriesRollbackAndDecision) {
  json::object report = reportOf(testing::failedRealRunWithRollback());
  EXPECT_EQ(report.at("mode"), "real");
  EXPECT_EQ(report.at("outcome"), "failed");
  EXPECT_EQ(report.at("exit_code"), 1);
  EXPECT_EQ(report.at("rolled_back"), true);
  EXPECT_EQ(report.at("failed_steps"), json::array{"switch"});
  EXPECT_EQ(stepOf(report, "switch").at("error"), "switch-vip exited with 3");
  EXPECT_EQ(stepOf(report, "switch").at("exit_code"), 3);
  const json::value& rollback = stepOf(report, "promote").at("rollback");
  ASSERT_TRUE(rollback.is_object());
  EXPECT_EQ(rollback.at("phase"), "rollback");
  EXPECT_EQ(rollback.at("status"), "ok");
  EXPECT_EQ(stepOf(report, "verify").at("status"), "not_run");
  EXPECT_EQ(report.at("objectives").at(0).at("verdict"), "unknown");
  EXPECT_TRUE(report.at("objectives").at(0).at("value_ms").is_null());

  const json::object& decision = report.at("decisions").at(0).as_object();
  EXPECT_EQ(decision.at("choice"), "promote");
  EXPECT_EQ(decision.at("by"), "alice");
  EXPECT_EQ(decision.at("rationale"), "primary is gone for good");
  EXPECT_EQ(decision.at("options").at(1).at("label"), "Wait for the primary");
}

TEST(RenderJsonTest, RunningRunHasNullEndAndResumes) {
  json::object report = reportOf(testing::interruptedAndResumedRun());
  EXPECT_EQ(report.at("outcome"), "running");
  EXPECT_TRUE(report.at("exit_code").is_null());
  EXPECT_TRUE(report.at("finished_at").is_null());
  EXPECT_EQ(report.at("duration_ms"), 61200);  // up to the last event
  EXPECT_EQ(stepOf(report, "c").at("status"), "interrupted");
  EXPECT_EQ(report.at("resumes").at(0).at("orphans_stopped"), json::array{4242});
  EXPECT_EQ(report.at("resumes").at(0).at("interrupted").at(0).at("resolution"), "rerun");
}

TEST(RenderJsonTest, HostileTextsSurviveExactly) {
  json::object report = reportOf(testing::hostileRun());
  EXPECT_EQ(report.at("runbook").at("name"), "odd<>&\"'name");
  EXPECT_EQ(stepOf(report, "break").at("name"), json::value(testing::kHostileName));
  EXPECT_EQ(stepOf(report, "break").at("error"), json::value(testing::kHostileError));
  EXPECT_EQ(report.at("error"), json::value(testing::kHostileError));
}

TEST(RenderJsonTest, SameRecordSameBytes) {
  Result<RunRecord> record = buildRunRecord(testing::passedDrill());
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(renderJson(*record), renderJson(*record));
}

}  // namespace
}  // namespace lifeboat::report
