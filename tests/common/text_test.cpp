#include "lifeboat/common/text.hpp"

#include <gtest/gtest.h>

#include <array>

namespace lifeboat {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(editDistance("", ""), 0U);
  EXPECT_EQ(editDistance("timeout", "timeout"), 0U);
  EXPECT_EQ(editDistance("timout", "timeout"), 1U);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3U);
  EXPECT_EQ(editDistance("", "abc"), 3U);
}

TEST(ClosestMatch, SuggestsPlausibleTyposOnly) {
  constexpr std::array<std::string_view, 4> kKeys{"timeout", "retry", "after", "target"};
  EXPECT_EQ(closestMatch("timout", kKeys), "timeout");
  EXPECT_EQ(closestMatch("afer", kKeys), "after");
  EXPECT_EQ(closestMatch("tagret", kKeys), "target");
  EXPECT_FALSE(closestMatch("completely-different", kKeys).has_value());
  EXPECT_FALSE(closestMatch("x", kKeys).has_value());
}

TEST(QuotedSafely, ShowsControlBytesAndCutsLongValues) {
  EXPECT_EQ(quotedSafely("db-1"), "'db-1'");
  EXPECT_EQ(quotedSafely("a\nupdate delete x"), "'a\\x0aupdate delete x'");
  EXPECT_EQ(quotedSafely("\xc3\xa9\x7f"), "'\\xc3\\xa9\\x7f'");
  EXPECT_EQ(quotedSafely(std::string(100, 'x'), 4), "'xxxx...'");
}

TEST(GlobMatch, MatchesRegionPatterns) {
  EXPECT_TRUE(globMatch("eu-*", "eu-west-1"));
  EXPECT_TRUE(globMatch("eu-*", "eu-"));
  EXPECT_FALSE(globMatch("eu-*", "us-east-1"));
  EXPECT_FALSE(globMatch("eu-*", "xeu-west"));
  EXPECT_TRUE(globMatch("*-central-?", "eu-central-1"));
  EXPECT_FALSE(globMatch("*-central-?", "eu-central-12"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("eu-west-1", "eu-west-1"));
  EXPECT_FALSE(globMatch("eu-west-1", "eu-west-2"));
}

}  // namespace
}  // namespace lifeboat
