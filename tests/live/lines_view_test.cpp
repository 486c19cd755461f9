#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "lifeboat/live/view.hpp"
#include "scripted_events.hpp"

namespace lifeboat::live {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Script;

std::string runLines(const std::vector<Event>& events) {
  std::ostringstream out;
  std::unique_ptr<View> view = View::make(ViewOptions{Style::lines, true, 80, 24}, out);
  for (const Event& event : events) {
    view->onEvent(event);
    view->tick(event.time + milliseconds(100));
  }
  view->finish();
  return out.str();
}

std::vector<Event> scriptedDrill() {
  Script script;
  return {
      script.runStarted({{"lag"},
                         {"fence", false, "when = \"real\" (drill)"},
                         {"promote", true, "", "Promote standby", 3},
                         {"verify"}}),
      script.preflight(milliseconds(20), true, {"drill touches a production target"}),
      script.stepStarted(milliseconds(30), "lag"),
      script.stepOutput(milliseconds(200), "lag", "progress", "measuring lag"),
      script.stepFinished(milliseconds(1'230), "lag", "ok", 1'200),
      script.stepStarted(milliseconds(1'500), "promote"),
      script.decisionRequested(milliseconds(1'600), "promote"),
      script.decisionMade(milliseconds(9'000), "promote"),
      script.stepStarted(milliseconds(12'000), "promote", 2),
      script.stepFinished(milliseconds(15'000), "promote", "ok", 13'500, "", 2),
      script.stepStarted(milliseconds(15'100), "verify"),
      script.stepFinished(milliseconds(16'000), "verify", "failed", 900, "HTTP 503 from /health"),
      script.notify(milliseconds(16'100), "verify"),
      script.objectiveMeasured(milliseconds(16'200), "rto", 63'000, "promote"),
      script.objectiveEvaluated(milliseconds(16'300), "rto", 300'000, 63'000, "met", "promote"),
      script.objectiveEvaluated(milliseconds(16'300), "rpo", 30'000, std::nullopt, "unknown", ""),
      script.runFinished(milliseconds(17'000), "failed", 1, {"verify"}),
  };
}

TEST(LinesView, ShowsEveryMeaningfulEventOnItsOwnLine) {
  const std::string out = runLines(scriptedDrill());
  EXPECT_THAT(out, HasSubstr("[   0.000s] run started: orders-db-failover (runbooks/orders.toml), "
                             "service orders, DRILL, run 20261124T225610Z-k3f9\n"));
  EXPECT_THAT(out, HasSubstr("outage start 2026-11-24T22:55:10.000Z (flag); objectives RTO 5m, "
                             "RPO 30s\n"));
  EXPECT_THAT(out, HasSubstr("4 steps, 3 run in this drill; skipped: fence (when = \"real\" "
                             "(drill))\n"));
  EXPECT_THAT(out, HasSubstr("[   0.020s] preflight ok (passed: plugins, secrets, lock)\n"));
  EXPECT_THAT(out, HasSubstr("[   0.020s] preflight warning: drill touches a production target\n"));
  EXPECT_THAT(out, HasSubstr("[   0.030s] step lag started (exec)\n"));
  EXPECT_THAT(out, HasSubstr("[   0.200s] lag progress: measuring lag\n"));
  EXPECT_THAT(out, HasSubstr("[   1.230s] step lag ok in 1.2s, exit code 0\n"));
  EXPECT_THAT(out, HasSubstr("[   1.500s] step promote started (exec, attempt 1/3)\n"));
  EXPECT_THAT(out, HasSubstr("[  12.000s] step promote started (exec, attempt 2/3)\n"));
  EXPECT_THAT(out, HasSubstr("[  15.000s] step promote ok in 13.5s after 2 attempts"));
  EXPECT_THAT(out, HasSubstr("[  16.000s] step verify failed in 900ms, exit code 1: "
                             "HTTP 503 from /health\n"));
  EXPECT_THAT(out, HasSubstr("[  17.000s] run finished: failed in 17.0s, exit code 1; "
                             "failed steps: verify; cleanup ok\n"));
}

TEST(LinesView, ShowsDecisionsNotificationsAndVerdicts) {
  const std::string out = runLines(scriptedDrill());
  EXPECT_THAT(out, HasSubstr("[   1.600s] decision promote requested: Promote the standby now?\n"));
  EXPECT_THAT(out, HasSubstr("[   1.600s]   option promote: Promote now (impact: up to 30s of "
                             "orders lost)\n"));
  EXPECT_THAT(out, HasSubstr("[   1.600s]   option wait: Wait for the primary (impact: outage "
                             "continues)\n"));
  EXPECT_THAT(out, HasSubstr("[   1.600s]   approvers: alice, bob; deadline 2m; default wait\n"));
  EXPECT_THAT(out, HasSubstr("[   9.000s] decision promote made: promote by alice via terminal: "
                             "\"primary disk is gone\"\n"));
  EXPECT_THAT(out, HasSubstr("[  16.100s] notify customers (restored): Orders are back.\n"));
  EXPECT_THAT(out, HasSubstr("[  16.200s] objective RTO measured: 1m03s (from step promote)\n"));
  EXPECT_THAT(out, HasSubstr("[  16.300s] objective RTO met: 1m03s against target 5m (from step "
                             "promote)\n"));
  EXPECT_THAT(out, HasSubstr("[  16.300s] objective RPO unknown: not measured, target 30s\n"));
}

TEST(LinesView, NeverWritesEscapesEvenWhenChildOutputHasThem) {
  Script script;
  const std::string out = runLines({
      script.runStarted({{"lag"}}),
      script.stepStarted(milliseconds(10), "lag"),
      script.stepOutput(milliseconds(20), "lag", "stdout", "\x1b[31mred\x1b[0m\nsecond line\n"),
      script.stepFinished(milliseconds(30), "lag", "failed", 20, "boom\x1b]0;title\x07"),
  });
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_THAT(out, HasSubstr("[   0.020s] lag stdout: ?[31mred?[0m\n"));
  EXPECT_THAT(out, HasSubstr("[   0.020s] lag stdout: second line\n"));
  EXPECT_THAT(out, HasSubstr("step lag failed in 20ms, exit code 1: boom?]0;title?\n"));
}

TEST(LinesView, IgnoresUnknownTypesAgentEventsAndProcessStarts) {
  Script script;
  Event unknown = script.at(milliseconds(5), "step.teleported", "lag", {{"to", "mars"}});
  Event process = script.at(milliseconds(6), "step.process", "lag",
                            {{"process_group", 77}, {"phase", "main"}, {"attempt", 1}});
  Event heartbeat = script.at(milliseconds(7), "heartbeat", "", {});
  heartbeat.run.clear();
  const std::string out = runLines({script.runStarted({{"lag"}}), unknown, process, heartbeat});
  EXPECT_THAT(out, Not(HasSubstr("teleported")));
  EXPECT_THAT(out, Not(HasSubstr("mars")));
  EXPECT_THAT(out, Not(HasSubstr("77")));
  EXPECT_THAT(out, Not(HasSubstr("heartbeat")));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;  // run.started only
}

TEST(LinesView, SurvivesMembersOfTheWrongType) {
  Script script;
  const std::string out = runLines({
      script.at(milliseconds(0), "run.started", "",
                {{"runbook_name", 7}, {"drill", "yes"}, {"steps", "none"}, {"objectives", 1}}),
      script.at(milliseconds(5), "step.started", "lag", {{"attempt", "two"}}),
      script.at(milliseconds(9), "step.finished", "lag",
                {{"status", 3}, {"duration_ms", "long"}, {"attempts", -1}}),
      script.at(milliseconds(10), "objective.evaluated", "", {{"objective", "rto"}}),
      script.at(milliseconds(11), "decision.requested", "d", {{"options", {1, "x", nullptr}}}),
      script.at(milliseconds(12), "run.finished", "", {}),
  });
  EXPECT_THAT(out, HasSubstr("[   0.005s] step lag started\n"));
  EXPECT_THAT(out, HasSubstr("[   0.009s] step lag finished in 0ms"));
  EXPECT_THAT(out, HasSubstr("[   0.012s] run finished: ?\n"));
}

TEST(LinesView, ReportsAFailedPreflightCheck) {
  Script script;
  const std::string out =
      runLines({script.runStarted({{"lag"}}), script.preflight(milliseconds(40), false)});
  EXPECT_THAT(out, HasSubstr("[   0.040s] preflight FAILED (passed: plugins, secrets)\n"));
  EXPECT_THAT(out, HasSubstr("[   0.040s] preflight check lock failed: held by pid 7\n"));
}

}  // namespace
}  // namespace lifeboat::live
