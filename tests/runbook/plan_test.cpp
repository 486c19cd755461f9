#include "lifeboat/runbook/plan.hpp"

#include <gtest/gtest.h>

#include "lifeboat/runbook/load.hpp"

namespace lifeboat::runbook {
namespace {

Runbook load(std::string_view text) {
  DiagnosticSink sink;
  std::optional<Runbook> runbook = loadRunbook(text, "plan.toml", {}, sink);
  for (const Diagnostic& diagnostic : sink.all()) {
    if (diagnostic.severity == Severity::error) {
      ADD_FAILURE() << formatDiagnostic("plan.toml", diagnostic);
    }
  }
  return runbook.value_or(Runbook{});
}

constexpr std::string_view kDiamond = R"(
[runbook]
name = "d"
service = "d"
[objectives]
rto = "10m"
[policy]
default_timeout = "1m"
[targets.prod]
production = true
[targets.copy]
[[step]]
id = "a"
target = "copy"
exec = ["/bin/true"]
timeout = "10s"
[[step]]
id = "slow"
after = ["a"]
target = "copy"
exec = ["/bin/true"]
timeout = "5m"
[[step]]
id = "fast"
after = ["a"]
target = "prod"
exec = ["/bin/true"]
timeout = "20s"
retry = { attempts = 3, backoff = "1s", multiplier = 2 }
[[step]]
id = "join"
after = ["slow", "fast"]
http = { url = "http://127.0.0.1:1/" }
wait = { within = "2m", every = "1s" }
timeout = "5s"
restores_service = true
[[step]]
id = "only-drill"
target = "copy"
exec = ["/bin/true"]
when = "drill"
[[step]]
id = "tidy"
cleanup = true
target = "copy"
exec = ["/bin/true"]
[[step]]
id = "tidy-more"
cleanup = true
after = ["tidy"]
target = "copy"
exec = ["/bin/true"]
)";

TEST(Plan, GroupsStepsIntoWavesAndCleanupLast) {
  const Runbook runbook = load(kDiamond);
  const Plan plan = makePlan(runbook);
  ASSERT_EQ(plan.waves.size(), 3U);
  EXPECT_EQ(plan.waves[0], (std::vector<std::size_t>{0, 4}));
  EXPECT_EQ(plan.waves[1], (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(plan.waves[2], (std::vector<std::size_t>{3}));
  EXPECT_EQ(plan.cleanup, (std::vector<std::size_t>{5, 6}));
  EXPECT_EQ(plan.steps[5].wave, 3U);
  EXPECT_EQ(plan.steps[6].wave, 4U);
}

TEST(Plan, CriticalPathFollowsWorstCaseTime) {
  const Runbook runbook = load(kDiamond);
  const Plan plan = makePlan(runbook);
  // fast: 3 attempts x 20s + backoffs 1s + 2s = 63s; slow: 5m. join: max(2m, 5s) = 2m.
  EXPECT_EQ(plan.steps[2].worstCase, std::chrono::seconds(63));
  EXPECT_EQ(plan.steps[3].worstCase, std::chrono::minutes(2));
  EXPECT_EQ(plan.real.steps, (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_EQ(plan.real.worstCase, std::chrono::seconds(10 + 300 + 120));
}

TEST(Plan, DrillCriticalPathLeavesOutSkippedSteps) {
  Runbook runbook = load(kDiamond);
  // Make the production branch the long one: a real run waits for it, a drill
  // skips it, so the drill's path goes through 'slow' instead.
  runbook.steps[2].timeout = std::chrono::minutes(30);
  runbook.steps[2].retry.attempts = 1;
  const Plan plan = makePlan(runbook);
  EXPECT_EQ(plan.real.steps, (std::vector<std::size_t>{0, 2, 3}));
  EXPECT_EQ(plan.real.worstCase, std::chrono::seconds(10 + 1800 + 120));
  EXPECT_EQ(plan.drill.steps, (std::vector<std::size_t>{0, 1, 3}));
  EXPECT_EQ(plan.drill.worstCase, std::chrono::seconds(10 + 300 + 120));
}

TEST(Plan, DrillSkipsRealOnlyAndProductionAndUntargetedExec) {
  const Runbook runbook = load(kDiamond);
  const Plan plan = makePlan(runbook);
  EXPECT_TRUE(plan.steps[0].drill.runs);
  EXPECT_FALSE(plan.steps[2].drill.runs);
  EXPECT_EQ(plan.steps[2].drill.reason, "target 'prod' is production");
  EXPECT_TRUE(plan.steps[2].real.runs);
  EXPECT_TRUE(plan.steps[3].drill.runs);  // GET without a target only reads
  EXPECT_FALSE(plan.steps[4].real.runs);
  EXPECT_EQ(plan.steps[4].real.reason, "when = \"drill\"");
  EXPECT_TRUE(plan.steps[4].drill.runs);
  EXPECT_TRUE(plan.steps[5].drill.runs);

  Runbook allowed = runbook;
  allowed.policy.drillMayTouchProduction = true;
  EXPECT_TRUE(decideStep(allowed, allowed.steps[2], Mode::drill).runs);

  Step untargeted = runbook.steps[0];
  untargeted.target.clear();
  EXPECT_FALSE(decideStep(runbook, untargeted, Mode::drill).runs);
  untargeted.when = When::real;
  EXPECT_EQ(decideStep(runbook, untargeted, Mode::drill).reason, "when = \"real\"");
}

TEST(Plan, TenThousandStepChainPlansLinearly) {
  std::string text = "[runbook]\nname = \"big\"\nservice = \"big\"\n";
  for (int i = 0; i < 10'000; ++i) {
    text +=
        "[[step]]\nid = \"s" + std::to_string(i) + "\"\nwhen = \"real\"\nexec = [\"/bin/true\"]\n";
    if (i > 0) {
      text += "after = [\"s" + std::to_string(i - 1) + "\"]\n";
    }
  }
  const Runbook runbook = load(text);
  const Plan plan = makePlan(runbook);
  EXPECT_EQ(plan.waves.size(), 10'000U);
  EXPECT_EQ(plan.real.steps.size(), 10'000U);
}

}  // namespace
}  // namespace lifeboat::runbook
