// TriggerState: thresholds, outage start, recoveries, holds (failover,
// cooldown, flapping), the anomaly signal through the state machine, and the
// errors of create(). Each test drives a fake clock; nothing sleeps.

#include "lifeboat/watch/trigger_state.hpp"

#include <gtest/gtest.h>

#include "feed.hpp"

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
using testing::count;
using testing::Feed;
using testing::find;
using testing::httpTrigger;
using testing::makeState;
using Kind = TriggerEvent::Kind;

TEST(TriggerStateTest, StartsUnknownAndTurnsHealthyOnTheFirstGoodCheck) {
  TriggerState state = makeState(httpTrigger(3, 2));
  EXPECT_EQ(state.health(), Health::unknown);
  Feed feed(state, 10s);
  EXPECT_TRUE(feed.good().empty());
  EXPECT_EQ(state.health(), Health::healthy);
}

TEST(TriggerStateTest, DeclaresAtExactlyTheNthConsecutiveFailure) {
  for (int failures : {1, 2, 3, 7}) {
    SCOPED_TRACE("failures = " + std::to_string(failures));
    TriggerState state = makeState(httpTrigger(failures, 2));
    Feed feed(state, 10s);
    feed.run(4, true);
    const int first = feed.next();
    for (int i = 1; i < failures; ++i) {
      EXPECT_EQ(count(feed.bad(), Kind::outageDeclared), 0) << "failure " << i;
      EXPECT_EQ(state.health(), Health::failing);
      EXPECT_FALSE(state.outageDeclared());
    }
    const auto events = feed.bad();
    ASSERT_EQ(count(events, Kind::outageDeclared), 1);
    const TriggerEvent* declared = find(events, Kind::outageDeclared);
    EXPECT_EQ(declared->consecutiveFailures, failures);
    EXPECT_FALSE(declared->afterFailover);
    EXPECT_EQ(state.health(), Health::outage);
    EXPECT_TRUE(state.outageDeclared());
    // RTO is measured from the first failed check, not the Nth.
    EXPECT_EQ(declared->outageStart, feed.wallOf(first));
    EXPECT_EQ(declared->wallAt, feed.wallOf(feed.next() - 1));
    EXPECT_NE(declared->reason.find("connection refused"), std::string::npos) << declared->reason;
  }
}

TEST(TriggerStateTest, DeclaresOnlyOncePerOutage) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  EXPECT_EQ(count(feed.run(3, false), Kind::outageDeclared), 1);
  EXPECT_EQ(count(feed.run(50, false), Kind::outageDeclared), 0);
  EXPECT_EQ(state.status().outageStart, feed.wallOf(0));
}

TEST(TriggerStateTest, AGoodCheckBetweenFailuresRestartsTheStreak) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  feed.good();
  EXPECT_EQ(count(feed.run(2, false), Kind::outageDeclared), 0);
  EXPECT_EQ(count(feed.good(), Kind::outageDeclared), 0);
  EXPECT_EQ(state.health(), Health::recovering);
  const int streakStart = feed.next();
  EXPECT_EQ(count(feed.run(2, false), Kind::outageDeclared), 0);
  EXPECT_EQ(state.status().consecutiveFailures, 2);
  const auto events = feed.bad();
  ASSERT_EQ(count(events, Kind::outageDeclared), 1);
  EXPECT_EQ(find(events, Kind::outageDeclared)->outageStart, feed.wallOf(streakStart));
}

TEST(TriggerStateTest, RecoveriesConsecutiveGoodChecksEndTheOutage) {
  TriggerState state = makeState(httpTrigger(2, 3));
  Feed feed(state, 10s);
  feed.good();
  feed.run(2, false);
  ASSERT_TRUE(state.outageDeclared());

  // Two good checks, then a failure: still the same outage, not declared again.
  EXPECT_TRUE(feed.run(2, true).empty());
  EXPECT_EQ(state.health(), Health::recovering);
  EXPECT_TRUE(state.outageDeclared());
  EXPECT_TRUE(feed.bad().empty());
  EXPECT_EQ(state.health(), Health::outage);
  EXPECT_TRUE(feed.bad().empty());  // a second failure in a row: no new declaration

  const int recoveryStart = feed.next();
  EXPECT_TRUE(feed.run(2, true).empty());
  const auto events = feed.good();
  ASSERT_EQ(count(events, Kind::recovered), 1);
  const TriggerEvent* recovered = find(events, Kind::recovered);
  EXPECT_TRUE(recovered->declared);
  EXPECT_EQ(recovered->outageStart, feed.wallOf(1));
  EXPECT_EQ(recovered->recoveryStart, feed.wallOf(recoveryStart));
  EXPECT_EQ(state.health(), Health::healthy);
  EXPECT_FALSE(state.outageDeclared());

  // A new outage after the recovery is declared again, with its own start.
  const int next = feed.next();
  const auto again = feed.run(2, false);
  ASSERT_EQ(count(again, Kind::outageDeclared), 1);
  EXPECT_EQ(find(again, Kind::outageDeclared)->outageStart, feed.wallOf(next));
}

TEST(TriggerStateTest, FailuresBelowTheThresholdRecoverWithoutADeclaration) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  feed.good();
  feed.run(2, false);
  EXPECT_TRUE(feed.good().empty());
  const auto events = feed.good();
  ASSERT_EQ(count(events, Kind::recovered), 1);
  EXPECT_FALSE(find(events, Kind::recovered)->declared);
  EXPECT_EQ(find(events, Kind::recovered)->outageStart, feed.wallOf(1));
  EXPECT_EQ(state.health(), Health::healthy);
}

TEST(TriggerStateTest, CooldownSuppressesOncePerStreakAndExpiresExactly) {
  TriggerState state = makeState(httpTrigger(3, 2, 10min));
  Feed feed(state, 10s);
  feed.run(3, true);
  ASSERT_EQ(count(feed.run(3, false), Kind::outageDeclared), 1);  // checks 3..5

  state.failoverStarted(feed.atOf(5) + 1s);
  EXPECT_EQ(state.currentHold(), Hold::failoverInProgress);
  auto events = feed.bad();  // check 6: the outage goes on during the failover
  ASSERT_EQ(count(events, Kind::suppressed), 1);
  EXPECT_EQ(find(events, Kind::suppressed)->hold, Hold::failoverInProgress);
  EXPECT_FALSE(find(events, Kind::suppressed)->heldUntil.has_value());
  EXPECT_TRUE(feed.bad().empty());  // check 7: reported once

  const Clock::time_point finished = feed.atOf(7) + 5s;
  state.failoverFinished(finished);
  const Clock::time_point cooldownUntil = finished + 10min;
  EXPECT_EQ(state.status().cooldownUntil, cooldownUntil);

  feed.good();
  events = feed.good();  // check 9
  ASSERT_EQ(count(events, Kind::recovered), 1);
  EXPECT_TRUE(find(events, Kind::recovered)->declared);
  EXPECT_EQ(find(events, Kind::recovered)->outageStart, feed.wallOf(3));

  feed.run(5, true);  // checks 10..14
  const int streakStart = feed.next();
  events = feed.run(3, false);  // checks 15..17: due, but in the cooldown
  ASSERT_EQ(count(events, Kind::outageDeclared), 0);
  ASSERT_EQ(count(events, Kind::suppressed), 1);
  const TriggerEvent* suppressed = find(events, Kind::suppressed);
  EXPECT_EQ(suppressed->hold, Hold::cooldown);
  EXPECT_EQ(suppressed->heldUntil, cooldownUntil);
  EXPECT_EQ(suppressed->outageStart, feed.wallOf(streakStart));
  EXPECT_NE(suppressed->reason.find("cooldown"), std::string::npos) << suppressed->reason;

  // The last check before the cooldown ends stays quiet; the first one at or
  // after it declares, with the streak's first failure as the outage start.
  while (feed.atOf(feed.next()) < cooldownUntil) {
    ASSERT_TRUE(feed.bad().empty()) << "check " << feed.next() - 1;
  }
  events = feed.bad();
  ASSERT_EQ(count(events, Kind::outageDeclared), 1);
  EXPECT_EQ(find(events, Kind::outageDeclared)->outageStart, feed.wallOf(streakStart));
  EXPECT_FALSE(find(events, Kind::outageDeclared)->afterFailover);
  EXPECT_EQ(feed.next() - 1, 68);  // 7 + (5 s + 600 s) / 10 s, rounded up
}

TEST(TriggerStateTest, EachStreakInTheCooldownIsReportedOnce) {
  TriggerState state = makeState(httpTrigger(2, 2, 10min));
  Feed feed(state, 10s);
  feed.good();
  state.failoverStarted(feed.now());
  state.failoverFinished(feed.now());
  auto events = feed.run(5, false);
  EXPECT_EQ(count(events, Kind::suppressed), 1);
  feed.good();
  events = feed.run(5, false);
  EXPECT_EQ(count(events, Kind::suppressed), 1);
  EXPECT_EQ(count(events, Kind::outageDeclared), 0);
}

TEST(TriggerStateTest, AnOutageThatOutlastsTheFailoverIsDeclaredAgainAfterTheCooldown) {
  TriggerState state = makeState(httpTrigger(3, 2, 10min));
  Feed feed(state, 10s);
  feed.good();
  ASSERT_EQ(count(feed.run(3, false), Kind::outageDeclared), 1);  // checks 1..3
  state.failoverStarted(feed.atOf(3));
  state.failoverFinished(feed.atOf(4));  // cooldown until check 64
  std::vector<TriggerEvent> all;
  for (int i = 4; i < 64; ++i) {
    auto events = feed.bad();
    all.insert(all.end(), events.begin(), events.end());
  }
  EXPECT_EQ(count(all, Kind::outageDeclared), 0);
  EXPECT_EQ(count(all, Kind::suppressed), 1);
  const auto events = feed.bad();
  ASSERT_EQ(count(events, Kind::outageDeclared), 1);
  const TriggerEvent* declared = find(events, Kind::outageDeclared);
  EXPECT_TRUE(declared->afterFailover);
  EXPECT_EQ(declared->outageStart, feed.wallOf(1));  // the same outage
  EXPECT_NE(declared->reason.find("after the failover"), std::string::npos) << declared->reason;
  EXPECT_TRUE(feed.run(20, false).empty());  // and only once
}

TEST(TriggerStateTest, AFailoverWithoutAnOutageStillStartsTheCooldown) {
  TriggerState state = makeState(httpTrigger(1, 1, 1min));
  Feed feed(state, 10s);
  feed.good();
  state.failoverFinished(feed.now());  // e.g. a manual run
  auto events = feed.bad();
  EXPECT_EQ(count(events, Kind::suppressed), 1);
  feed.run(4, false);
  events = feed.bad();  // check 6 = 60 s after check 0
  EXPECT_EQ(count(events, Kind::outageDeclared), 1);
}

TEST(TriggerStateTest, FlappingNeverDeclaresThenAStableFailureDeclaresAfterTheHold) {
  DetectorOptions options;
  options.flapWindow = 5min;
  options.flapLimit = 6;
  options.flapStable = 2min;
  TriggerState state = makeState(httpTrigger(3, 2), options);
  Feed feed(state, 10s);
  feed.good();  // check 0
  std::vector<TriggerEvent> all;
  for (int i = 1; i <= 6; ++i) {  // flips at checks 1..6
    auto events = feed.check(i % 2 == 0);
    all.insert(all.end(), events.begin(), events.end());
    EXPECT_EQ(count(events, Kind::flappingStarted), i == 6 ? 1 : 0) << "check " << i;
  }
  EXPECT_TRUE(state.status().flapping);
  EXPECT_EQ(count(all, Kind::outageDeclared), 0);

  // Check 7 fails and stays failed: due at check 9 but held for flapping
  // until no flip for 2 min, i.e. until check 7 + 12 = 19.
  const int streakStart = feed.next();
  auto events = feed.run(3, false);
  ASSERT_EQ(count(events, Kind::suppressed), 1);
  EXPECT_EQ(find(events, Kind::suppressed)->hold, Hold::flapping);
  EXPECT_EQ(find(events, Kind::suppressed)->heldUntil, feed.atOf(streakStart) + 2min);
  for (int i = 10; i < 19; ++i) {
    ASSERT_TRUE(feed.bad().empty()) << "check " << i;
  }
  events = feed.bad();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::flappingStopped);
  EXPECT_EQ(events[1].kind, Kind::outageDeclared);
  EXPECT_EQ(events[1].outageStart, feed.wallOf(streakStart));
}

TEST(TriggerStateTest, FailuresThatAreNeverConsecutiveEnoughNeverDeclare) {
  TriggerState state = makeState(httpTrigger(3, 1));
  Feed feed(state, 1s);
  std::vector<TriggerEvent> all;
  for (int round = 0; round < 200; ++round) {  // F F G, 600 checks
    for (bool healthy : {false, false, true}) {
      auto events = feed.check(healthy);
      all.insert(all.end(), events.begin(), events.end());
    }
  }
  EXPECT_EQ(count(all, Kind::outageDeclared), 0);
  EXPECT_EQ(count(all, Kind::flappingStarted), 1);
}

TEST(TriggerStateTest, AnomalyOnRisingLatencyComesBeforeTheOutageAndOnlyOnce) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  std::vector<TriggerEvent> all;
  auto add = [&](const std::vector<TriggerEvent>& events) {
    all.insert(all.end(), events.begin(), events.end());
  };
  for (int i = 0; i < 20; ++i) {
    add(feed.good(10ms));
  }
  EXPECT_TRUE(all.empty());
  int anomalyCheck = -1;
  for (auto latency : {15ms, 25ms, 40ms, 60ms, 90ms, 135ms, 200ms, 300ms, 450ms, 600ms}) {
    auto events = feed.good(latency);
    if (count(events, Kind::anomaly) > 0 && anomalyCheck < 0) {
      anomalyCheck = feed.next() - 1;
      const TriggerEvent* anomaly = find(events, Kind::anomaly);
      EXPECT_GT(anomaly->latencyEwmaMs, 3 * anomaly->latencyBaselineMs);
      EXPECT_NE(anomaly->reason.find("latency"), std::string::npos) << anomaly->reason;
    }
    add(events);
  }
  ASSERT_GE(anomalyCheck, 0) << "no anomaly on a 60x latency rise";
  EXPECT_EQ(state.health(), Health::healthy);
  add(feed.run(3, false));  // then the checks time out
  EXPECT_EQ(count(all, Kind::anomaly), 1);
  ASSERT_EQ(count(all, Kind::outageDeclared), 1);
  const auto anomalyAt = std::find_if(
      all.begin(), all.end(), [](const TriggerEvent& e) { return e.kind == Kind::anomaly; });
  const auto outageAt = std::find_if(
      all.begin(), all.end(), [](const TriggerEvent& e) { return e.kind == Kind::outageDeclared; });
  EXPECT_LT(anomalyAt - all.begin(), outageAt - all.begin());
}

TEST(TriggerStateTest, ErrorRateAnomalyWarnsBeforeTheThreshold) {
  TriggerState state = makeState(httpTrigger(5, 2));
  Feed feed(state, 10s);
  feed.run(10, true);
  EXPECT_TRUE(feed.bad().empty());  // error-rate EWMA 0.3
  auto events = feed.bad();         // 0.51 > 0.5
  ASSERT_EQ(count(events, Kind::anomaly), 1);
  EXPECT_NEAR(find(events, Kind::anomaly)->errorRateEwma, 0.51, 1e-9);
  EXPECT_NE(find(events, Kind::anomaly)->reason.find("error-rate"), std::string::npos);
  EXPECT_FALSE(state.outageDeclared());
  events = feed.run(3, false);
  EXPECT_EQ(count(events, Kind::outageDeclared), 1);
  EXPECT_EQ(count(events, Kind::anomaly), 0);
}

TEST(TriggerStateTest, IntermittentErrorsRaiseOneAnomalyAndNoOutage) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  feed.run(10, true);
  std::vector<TriggerEvent> all;
  for (int i = 0; i < 40; ++i) {
    auto events = feed.check(i % 2 == 1);
    all.insert(all.end(), events.begin(), events.end());
  }
  EXPECT_EQ(count(all, Kind::anomaly), 1);
  EXPECT_EQ(count(all, Kind::outageDeclared), 0);
  all = feed.run(20, true);
  EXPECT_EQ(count(all, Kind::anomalyCleared), 1);
}

TEST(TriggerStateTest, NoAnomalyStartsWithOrDuringADeclaredOutage) {
  TriggerState state = makeState(httpTrigger(1, 2));
  Feed feed(state, 10s);
  feed.run(10, true);
  auto events = feed.run(10, false);
  EXPECT_EQ(count(events, Kind::outageDeclared), 1);
  EXPECT_EQ(count(events, Kind::anomaly), 0);
  EXPECT_GT(state.status().errorRateEwma, 0.9);
}

TEST(TriggerStateTest, AlertmanagerTriggersDeclareOnTheFirstFiringAlert) {
  runbook::Trigger trigger = httpTrigger(3, 2);
  trigger.kind = runbook::TriggerKind::alertmanager;
  trigger.alertname = "OrdersDatabaseDown";
  TriggerState state = makeState(trigger);
  EXPECT_EQ(state.failureThreshold(), 1);
  EXPECT_EQ(state.recoveryThreshold(), 1);
  Feed feed(state, 10s);
  EXPECT_EQ(count(feed.bad(), Kind::outageDeclared), 1);
  EXPECT_EQ(count(feed.good(), Kind::recovered), 1);
}

TEST(TriggerStateTest, AResultFromThePastCountsAtTheLatestTime) {
  TriggerState state = makeState(httpTrigger(1, 1, 1min));
  Feed feed(state, 10s);
  feed.good();
  state.failoverFinished(feed.now());
  CheckResult late;
  late.at = feed.now() - 1h;
  late.wallAt = feed.wallOf(0);
  late.healthy = false;
  const auto events = state.record(late);
  ASSERT_EQ(count(events, Kind::suppressed), 1);  // judged at the latest time: in the cooldown
  EXPECT_EQ(events[0].at, feed.now());
}

TEST(TriggerStateTest, StatusReportsTheCounters) {
  TriggerState state = makeState(httpTrigger(3, 2));
  Feed feed(state, 10s);
  feed.good(20ms);
  feed.run(2, false);
  const TriggerStatus status = state.status();
  EXPECT_EQ(status.health, Health::failing);
  EXPECT_EQ(status.consecutiveFailures, 2);
  EXPECT_EQ(status.consecutiveSuccesses, 0);
  EXPECT_EQ(status.outageStart, feed.wallOf(1));
  EXPECT_EQ(status.checks, 3u);
  EXPECT_DOUBLE_EQ(status.latencyEwmaMs, 20.0);
  EXPECT_EQ(status.flipsInWindow, 1);
  EXPECT_EQ(toString(status.health), "failing");
  EXPECT_EQ(toString(Kind::outageDeclared), "outage_declared");
  EXPECT_EQ(toString(Hold::failoverInProgress), "failover_in_progress");
}

TEST(TriggerStateTest, CreateRefusesThresholdsOutOfRangeAndBadOptions) {
  runbook::Trigger trigger = httpTrigger(0, 2);
  trigger.where.line = 42;
  auto state = TriggerState::create(trigger);
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.error().message.find("line 42"), std::string::npos) << state.error().message;
  EXPECT_NE(state.error().message.find("failures"), std::string::npos) << state.error().message;

  trigger = httpTrigger(3, 1001);
  EXPECT_FALSE(TriggerState::create(trigger).ok());

  DetectorOptions options;
  options.flapLimit = 1;
  state = TriggerState::create(httpTrigger(3, 2), options);
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.error().message.find("flap_limit"), std::string::npos) << state.error().message;
}

}  // namespace
}  // namespace lifeboat::watch
