#include "lifeboat/common/duration.hpp"

#include <gtest/gtest.h>

namespace lifeboat {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Duration, ParsesSingleUnits) {
  EXPECT_EQ(*parseDuration("90s"), seconds(90));
  EXPECT_EQ(*parseDuration("5m"), minutes(5));
  EXPECT_EQ(*parseDuration("2h"), hours(2));
  EXPECT_EQ(*parseDuration("1d"), hours(24));
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("0s"), milliseconds(0));
}

TEST(Duration, ParsesCompounds) {
  EXPECT_EQ(*parseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*parseDuration("1m30s500ms"), milliseconds(90'500));
  EXPECT_EQ(*parseDuration("1d2h3m4s5ms"), milliseconds(93'784'005));
}

TEST(Duration, RejectsMalformed) {
  for (const char* text :
       {"", "5", "m", "5x", "-5s", "5 s", "1.5s", "30m1h", "1m1m", "5S", "s5", "1h 30m", "5sm"}) {
    const Result<Milliseconds> parsed = parseDuration(text);
    EXPECT_FALSE(parsed.ok()) << text;
  }
}

TEST(Duration, ErrorsSayWhatIsWrongAndHowToFixIt) {
  const Result<Milliseconds> noUnit = parseDuration("30");
  ASSERT_FALSE(noUnit.ok());
  EXPECT_EQ(noUnit.error().message, "invalid duration '30': the number has no unit");
  EXPECT_NE(noUnit.error().hint.find("\"1h30m\""), std::string::npos);
  EXPECT_EQ(parseDuration("5y").error().message, "invalid duration '5y': unknown unit 'y'");
  EXPECT_EQ(parseDuration("30m1h").error().message,
            "invalid duration '30m1h': units must go from largest to smallest, each once");
}

TEST(Duration, RejectsOverAYearWithoutOverflow) {
  EXPECT_FALSE(parseDuration("367d").ok());
  EXPECT_FALSE(parseDuration("99999999999999999999999s").ok());
  EXPECT_TRUE(parseDuration("366d").ok());
}

TEST(Duration, FormatsCanonicallyAndRoundTrips) {
  EXPECT_EQ(formatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(formatDuration(hours(49)), "2d1h");
  for (const char* text : {"1d2h3m4s5ms", "90s", "1h30m", "250ms"}) {
    EXPECT_EQ(*parseDuration(formatDuration(*parseDuration(text))), *parseDuration(text));
  }
}

}  // namespace
}  // namespace lifeboat
