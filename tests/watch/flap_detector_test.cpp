// FlapDetector: the flip count, the sliding window and the stable period, at
// their exact boundaries.

#include "lifeboat/watch/flap_detector.hpp"

#include <gtest/gtest.h>

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
using Change = FlapDetector::Change;
const FlapDetector::Clock::time_point kT0 = FlapDetector::Clock::time_point{} + 1000h;

TEST(FlapDetectorTest, TheFirstCheckIsNotAFlip) {
  FlapDetector detector(5min, 2, 1min);
  EXPECT_EQ(detector.observe(kT0, false), Change::none);
  EXPECT_EQ(detector.flipsInWindow(kT0), 0);
  EXPECT_EQ(detector.observe(kT0 + 1s, false), Change::none);
  EXPECT_EQ(detector.flipsInWindow(kT0 + 1s), 0);
}

TEST(FlapDetectorTest, StartsAtExactlyLimitFlipsInTheWindow) {
  FlapDetector detector(5min, 6, 1min);
  detector.observe(kT0, true);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(detector.observe(kT0 + i * 10s, i % 2 == 0), Change::none) << i;
  }
  EXPECT_EQ(detector.flipsInWindow(kT0 + 50s), 5);
  EXPECT_FALSE(detector.flapping());
  EXPECT_EQ(detector.observe(kT0 + 60s, true), Change::started);
  EXPECT_TRUE(detector.flapping());
  EXPECT_EQ(detector.stableAt(), kT0 + 60s + 1min);
}

TEST(FlapDetectorTest, FlipsOlderThanTheWindowDoNotCount) {
  FlapDetector detector(1min, 3, 1min);
  detector.observe(kT0, true);
  detector.observe(kT0 + 1s, false);  // flip 1
  detector.observe(kT0 + 2s, true);   // flip 2
  // Flip 1 is exactly one window old at kT0 + 61s: out (now - flip < window).
  EXPECT_EQ(detector.observe(kT0 + 61s, false), Change::none);
  EXPECT_EQ(detector.flipsInWindow(kT0 + 61s), 2);
  EXPECT_EQ(detector.observe(kT0 + 61'999ms, true), Change::started);
}

TEST(FlapDetectorTest, StopsAfterExactlyTheStablePeriodWithoutAFlip) {
  FlapDetector detector(5min, 2, 2min);
  detector.observe(kT0, true);
  detector.observe(kT0 + 10s, false);
  ASSERT_EQ(detector.observe(kT0 + 20s, true), Change::started);  // last flip at 20 s
  EXPECT_EQ(detector.observe(kT0 + 20s + 2min - 1ms, true), Change::none);
  EXPECT_TRUE(detector.flapping());
  EXPECT_EQ(detector.observe(kT0 + 20s + 2min, true), Change::stopped);
  EXPECT_FALSE(detector.flapping());
  EXPECT_FALSE(detector.stableAt().has_value());
}

TEST(FlapDetectorTest, AFlipDuringTheStablePeriodRestartsIt) {
  FlapDetector detector(5min, 2, 1min);
  detector.observe(kT0, true);
  detector.observe(kT0 + 10s, false);
  ASSERT_EQ(detector.observe(kT0 + 20s, true), Change::started);
  EXPECT_EQ(detector.observe(kT0 + 70s, false), Change::none);  // flip: stable from here
  EXPECT_EQ(detector.stableAt(), kT0 + 70s + 1min);
  EXPECT_EQ(detector.observe(kT0 + 80s, false), Change::none);
  EXPECT_EQ(detector.observe(kT0 + 130s, false), Change::stopped);
}

}  // namespace
}  // namespace lifeboat::watch
