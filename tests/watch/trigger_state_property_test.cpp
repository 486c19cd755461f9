// Property tests: random check sequences (fixed seeds, so failures replay),
// random thresholds and a simulated daemon that starts and finishes
// failovers. Whatever happens, the invariants of docs/watch.md hold:
// - an outage is declared only after `failures` consecutive failed checks,
//   and its start is the first failed check of that streak (or, declared
//   again after a failover, of the outage);
// - never while a failover runs or within `cooldown` after one;
// - never twice for one outage unless a failover happened in between;
// - recovered only after `recoveries` consecutive good checks;
// - anomaly and anomaly_cleared alternate, and no anomaly starts while an
//   outage is declared.

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "feed.hpp"
#include "lifeboat/watch/trigger_state.hpp"

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
using Kind = TriggerEvent::Kind;

// How often each kind of event happened over all seeds: a property test
// that never reaches a declaration would prove nothing.
struct Seen {
  int declared = 0;
  int declaredAfterFailover = 0;
  int suppressed = 0;
  int recoveredDeclared = 0;
  int anomaly = 0;
  int flapping = 0;
};

void runSeed(std::uint32_t seed, Seen& seen) {
  std::mt19937 random(seed);
  auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random);
  };
  const int failures = uniform(1, 6);
  const int recoveries = uniform(1, 4);
  const std::chrono::milliseconds cooldown{uniform(0, 120) * 1000};
  DetectorOptions options;
  options.flapWindow = std::chrono::seconds(uniform(10, 300));
  options.flapLimit = uniform(2, 8);
  options.flapStable = std::chrono::seconds(uniform(0, 120));
  TriggerState state =
      testing::makeState(testing::httpTrigger(failures, recoveries, cooldown), options);
  SCOPED_TRACE("seed " + std::to_string(seed) + ": failures " + std::to_string(failures) +
               ", recoveries " + std::to_string(recoveries));

  // The service alternates between spells of health and trouble; in trouble
  // most checks fail, in health few do.
  std::vector<CheckResult> history;
  Clock::time_point at = testing::kSteadyOrigin;
  Timestamp wall = testing::kWallOrigin;
  bool trouble = false;
  bool failoverRunning = false;
  Clock::time_point failoverEnds{};
  std::optional<Clock::time_point> cooldownUntil;
  bool declared = false;  // the test's own view of an outage in progress
  bool failoverSinceDeclared = false;
  bool anomalyActive = false;

  for (int i = 0; i < 600; ++i) {
    if (uniform(0, 99) < 5) {
      trouble = !trouble;
    }
    const auto step = std::chrono::milliseconds(uniform(100, 20'000));
    at += step;
    wall += step;
    if (failoverRunning && at >= failoverEnds) {
      state.failoverFinished(failoverEnds);
      failoverRunning = false;
      cooldownUntil = failoverEnds + cooldown;
    }

    CheckResult result;
    result.at = at;
    result.wallAt = wall;
    result.healthy = uniform(0, 99) >= (trouble ? 85 : 10);
    result.latency = std::chrono::milliseconds(uniform(1, trouble ? 2000 : 50));
    history.push_back(result);
    const auto events = state.record(result);

    // The streak of failed checks ending at this one.
    int streak = 0;
    while (streak < static_cast<int>(history.size()) &&
           !history[history.size() - 1 - streak].healthy) {
      ++streak;
    }
    int goodRun = 0;
    while (goodRun < static_cast<int>(history.size()) &&
           history[history.size() - 1 - goodRun].healthy) {
      ++goodRun;
    }

    for (const TriggerEvent& event : events) {
      EXPECT_EQ(event.at, at);
      switch (event.kind) {
        case Kind::outageDeclared: {
          ASSERT_GE(streak, failures) << "check " << i;
          EXPECT_FALSE(failoverRunning) << "check " << i;
          if (cooldownUntil.has_value()) {
            EXPECT_GE(at, *cooldownUntil) << "check " << i;
          }
          const Timestamp streakStart = history[history.size() - streak].wallAt;
          if (!declared) {
            EXPECT_EQ(event.outageStart, streakStart) << "check " << i;
          } else {
            EXPECT_TRUE(failoverSinceDeclared) << "declared twice without a failover, check " << i;
            EXPECT_TRUE(event.afterFailover);
            EXPECT_LE(event.outageStart, streakStart);
          }
          ++seen.declared;
          seen.declaredAfterFailover += event.afterFailover ? 1 : 0;
          declared = true;
          failoverSinceDeclared = false;
          EXPECT_EQ(event.consecutiveFailures, streak);
          // The daemon fails over, half of the time.
          if (uniform(0, 1) == 0) {
            state.failoverStarted(at);
            failoverRunning = true;
            failoverSinceDeclared = true;
            failoverEnds = at + std::chrono::milliseconds(uniform(0, 90'000));
          }
          break;
        }
        case Kind::recovered:
          EXPECT_GE(goodRun, recoveries) << "check " << i;
          EXPECT_EQ(event.declared, declared) << "check " << i;
          seen.recoveredDeclared += event.declared ? 1 : 0;
          declared = false;
          failoverSinceDeclared = false;
          break;
        case Kind::suppressed:
          EXPECT_GE(streak, failures) << "check " << i;
          EXPECT_NE(event.hold, Hold::none);
          ++seen.suppressed;
          break;
        case Kind::anomaly:
          EXPECT_FALSE(anomalyActive) << "check " << i;
          EXPECT_FALSE(declared) << "anomaly during a declared outage, check " << i;
          anomalyActive = true;
          ++seen.anomaly;
          break;
        case Kind::anomalyCleared:
          EXPECT_TRUE(anomalyActive) << "check " << i;
          anomalyActive = false;
          break;
        case Kind::flappingStarted:
          ++seen.flapping;
          break;
        case Kind::flappingStopped:
          break;
      }
    }
    EXPECT_EQ(state.outageDeclared(), declared) << "check " << i;
    EXPECT_EQ(state.status().consecutiveFailures, streak);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
  }
}

TEST(TriggerStatePropertyTest, RandomSequencesKeepTheInvariants) {
  Seen seen;
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    runSeed(seed, seen);
    if (::testing::Test::HasFailure()) {
      return;  // one seed's failures are enough to read
    }
  }
  EXPECT_GT(seen.declared, 300);
  EXPECT_GT(seen.declaredAfterFailover, 10);
  EXPECT_GT(seen.suppressed, 300);
  EXPECT_GT(seen.recoveredDeclared, 300);
  EXPECT_GT(seen.anomaly, 300);
  EXPECT_GT(seen.flapping, 100);
  std::printf(
      "declared %d (after a failover %d), suppressed %d, recovered %d, anomalies %d, "
      "flapping %d\n",
      seen.declared, seen.declaredAfterFailover, seen.suppressed, seen.recoveredDeclared,
      seen.anomaly, seen.flapping);
}

}  // namespace
}  // namespace lifeboat::watch
