// AnomalyDetector and DetectorOptions: the EWMA formulas with exact numbers,
// warm-up, the minimum increase, hysteresis (one start and one clear per
// episode), and the option checks.

#include "lifeboat/watch/anomaly.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
using ChangeKind = AnomalyDetector::Change::Kind;

TEST(AnomalyDetectorTest, FollowsTheDocumentedFormulas) {
  AnomalyDetector detector{DetectorOptions{}};
  detector.observe(true, 10ms, true);
  EXPECT_DOUBLE_EQ(detector.latencyEwmaMs(), 10.0);
  EXPECT_DOUBLE_EQ(detector.latencyBaselineMs(), 10.0);
  EXPECT_DOUBLE_EQ(detector.errorRateEwma(), 0.0);

  detector.observe(true, 20ms, true);
  EXPECT_DOUBLE_EQ(detector.latencyEwmaMs(), 0.3 * 20 + 0.7 * 10);        // 13
  EXPECT_DOUBLE_EQ(detector.latencyBaselineMs(), 0.05 * 20 + 0.95 * 10);  // 10.5

  // A failed check moves the error rate, not the latency.
  detector.observe(false, 5000ms, true);
  EXPECT_DOUBLE_EQ(detector.latencyEwmaMs(), 13.0);
  EXPECT_DOUBLE_EQ(detector.errorRateEwma(), 0.3);
  detector.observe(false, 5000ms, true);
  EXPECT_DOUBLE_EQ(detector.errorRateEwma(), 0.3 + 0.7 * 0.3);
  detector.observe(true, 13ms, true);
  EXPECT_DOUBLE_EQ(detector.errorRateEwma(), 0.7 * 0.51);
}

TEST(AnomalyDetectorTest, LatencyIsNotJudgedBeforeTheWarmUp) {
  DetectorOptions options;
  options.warmupChecks = 5;
  AnomalyDetector detector{options};
  detector.observe(true, 10ms, true);
  // The next four checks are judged when the baseline has seen 1..4 checks.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(detector.observe(true, 1000ms, true).kind, ChangeKind::none) << i;
  }
  // The fifth after the first is judged against 5 samples.
  EXPECT_EQ(detector.observe(true, 1000ms, true).kind, ChangeKind::started);
}

TEST(AnomalyDetectorTest, SmallAbsoluteChangesAreNotAnomalies) {
  AnomalyDetector detector{DetectorOptions{}};
  for (int i = 0; i < 10; ++i) {
    detector.observe(true, 1ms, true);
  }
  // 1 ms -> 15 ms is 10x, but less than latency_min_increase (20 ms) above.
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(detector.observe(true, 15ms, true).kind, ChangeKind::none) << i;
  }
  EXPECT_FALSE(detector.active());
}

TEST(AnomalyDetectorTest, OneStartAndOneClearPerEpisode) {
  DetectorOptions options;
  options.baselineAlpha = 0.01;  // keeps the baseline near 100 ms for the arithmetic below
  AnomalyDetector detector{options};
  std::vector<ChangeKind> changes;
  auto feed = [&](std::chrono::milliseconds latency, int times) {
    for (int i = 0; i < times; ++i) {
      auto change = detector.observe(true, latency, true);
      if (change.kind != ChangeKind::none) {
        changes.push_back(change.kind);
      }
    }
  };
  feed(100ms, 10);
  EXPECT_TRUE(changes.empty());
  feed(600ms, 10);  // fast -> ~590 ms, baseline ~140 ms: above 3x
  ASSERT_EQ(changes, std::vector<ChangeKind>{ChangeKind::started});
  feed(300ms, 10);  // ~2x: below the raise level, above the clear level (1.5x)
  feed(600ms, 10);  // above again: the same episode
  EXPECT_EQ(changes, std::vector<ChangeKind>{ChangeKind::started});
  feed(100ms, 20);  // back to normal
  ASSERT_EQ(changes, (std::vector<ChangeKind>{ChangeKind::started, ChangeKind::cleared}));
  feed(2000ms, 10);  // a new episode
  EXPECT_EQ(changes, (std::vector<ChangeKind>{ChangeKind::started, ChangeKind::cleared,
                                              ChangeKind::started}));
}

TEST(AnomalyDetectorTest, ErrorRateRisesAboveHighAndClearsBelowLow) {
  AnomalyDetector detector{DetectorOptions{}};
  EXPECT_EQ(detector.observe(false, 0ms, true).kind, ChangeKind::none);  // 0.3
  auto change = detector.observe(false, 0ms, true);                      // 0.51
  EXPECT_EQ(change.kind, ChangeKind::started);
  EXPECT_NE(change.reason.find("error-rate EWMA 0.51"), std::string::npos) << change.reason;
  // 0.357, 0.25, 0.175: clears only below error_rate_low = 0.2.
  EXPECT_EQ(detector.observe(true, 10ms, true).kind, ChangeKind::none);
  EXPECT_EQ(detector.observe(true, 10ms, true).kind, ChangeKind::none);
  EXPECT_EQ(detector.observe(true, 10ms, true).kind, ChangeKind::cleared);
}

TEST(AnomalyDetectorTest, MayStartFalseHoldsBackAStartButNotAClear) {
  AnomalyDetector detector{DetectorOptions{}};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(detector.observe(false, 0ms, false).kind, ChangeKind::none);
  }
  EXPECT_FALSE(detector.active());
  EXPECT_EQ(detector.observe(false, 0ms, true).kind, ChangeKind::started);
  for (int i = 0; i < 10; ++i) {
    if (detector.observe(true, 10ms, false).kind == ChangeKind::cleared) {
      break;
    }
  }
  EXPECT_FALSE(detector.active());
}

TEST(DetectorOptionsTest, DefaultsAreValid) {
  EXPECT_FALSE(checkDetectorOptions(DetectorOptions{}).has_value());
}

TEST(DetectorOptionsTest, EachOptionOutOfRangeIsNamed) {
  struct Case {
    const char* name;
    void (*spoil)(DetectorOptions&);
  };
  const Case cases[] = {
      {"flap_window", [](DetectorOptions& o) { o.flapWindow = 0ms; }},
      {"flap_limit", [](DetectorOptions& o) { o.flapLimit = 1; }},
      {"flap_stable", [](DetectorOptions& o) { o.flapStable = -1ms; }},
      {"ewma_alpha", [](DetectorOptions& o) { o.ewmaAlpha = 0.0; }},
      {"ewma_alpha", [](DetectorOptions& o) { o.ewmaAlpha = 1.5; }},
      {"baseline_alpha", [](DetectorOptions& o) { o.baselineAlpha = 0.3; }},
      {"warmup_checks", [](DetectorOptions& o) { o.warmupChecks = 0; }},
      {"latency_factor", [](DetectorOptions& o) { o.latencyFactor = 1.0; }},
      {"latency_clear_factor", [](DetectorOptions& o) { o.latencyClearFactor = 3.0; }},
      {"latency_min_increase", [](DetectorOptions& o) { o.latencyMinIncrease = -1ms; }},
      {"error_rate_high", [](DetectorOptions& o) { o.errorRateHigh = 1.1; }},
      {"error_rate_low", [](DetectorOptions& o) { o.errorRateLow = 0.5; }},
  };
  for (const Case& c : cases) {
    DetectorOptions options;
    c.spoil(options);
    const auto error = checkDetectorOptions(options);
    ASSERT_TRUE(error.has_value()) << c.name;
    EXPECT_NE(error->message.find(c.name), std::string::npos) << error->message;
    EXPECT_FALSE(error->hint.empty()) << c.name;
  }
}

}  // namespace
}  // namespace lifeboat::watch
