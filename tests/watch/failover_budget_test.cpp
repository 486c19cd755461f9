// FailoverBudget: the count, the sliding window at its boundary, the next
// allowed time, clear(), and create()'s checks; and with TriggerState, that a
// flapping service gets one failover, not one per flap.

#include "lifeboat/watch/failover_budget.hpp"

#include <gtest/gtest.h>

#include "feed.hpp"

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
const FailoverBudget::Clock::time_point kT0 = FailoverBudget::Clock::time_point{} + 1000h;

FailoverBudget makeBudget(int maxFailovers, std::chrono::milliseconds window) {
  auto budget = FailoverBudget::create({maxFailovers, window});
  if (!budget.ok()) {
    throw std::runtime_error(budget.error().message);
  }
  return std::move(budget).value();
}

TEST(FailoverBudgetTest, OnePerWindowByDefault) {
  auto budget = FailoverBudget::create();
  ASSERT_TRUE(budget.ok());
  EXPECT_EQ(budget->options().maxFailovers, 1);
  EXPECT_EQ(budget->options().window, 1h);
  EXPECT_TRUE(budget->allowed(kT0));
  budget->record(kT0);
  EXPECT_FALSE(budget->allowed(kT0));
  EXPECT_FALSE(budget->allowed(kT0 + 1h - 1ms));
  EXPECT_TRUE(budget->allowed(kT0 + 1h));  // counts while now - r < window
  EXPECT_EQ(budget->nextAllowedAt(kT0 + 10min), kT0 + 1h);
  EXPECT_EQ(budget->nextAllowedAt(kT0 + 2h), kT0 + 2h);
}

TEST(FailoverBudgetTest, CountsUpToMaxFailoversInTheSlidingWindow) {
  FailoverBudget budget = makeBudget(2, 30min);
  budget.record(kT0);
  EXPECT_TRUE(budget.allowed(kT0 + 1min));
  budget.record(kT0 + 10min);
  EXPECT_EQ(budget.used(kT0 + 10min), 2);
  EXPECT_FALSE(budget.allowed(kT0 + 29min));
  EXPECT_EQ(budget.nextAllowedAt(kT0 + 29min), kT0 + 30min);  // the oldest leaves
  EXPECT_TRUE(budget.allowed(kT0 + 30min));
  EXPECT_EQ(budget.used(kT0 + 30min), 1);
  budget.record(kT0 + 35min);
  EXPECT_FALSE(budget.allowed(kT0 + 36min));
  EXPECT_EQ(budget.nextAllowedAt(kT0 + 36min), kT0 + 40min);
  EXPECT_EQ(budget.used(kT0 + 2h), 0);
}

TEST(FailoverBudgetTest, ManualFailoversCountAndClearLiftsTheBlock) {
  FailoverBudget budget = makeBudget(1, 1h);
  budget.record(kT0);  // a human's run
  EXPECT_FALSE(budget.allowed(kT0 + 5min));
  budget.clear();  // acknowledged
  EXPECT_TRUE(budget.allowed(kT0 + 5min));
  EXPECT_EQ(budget.used(kT0 + 5min), 0);
}

TEST(FailoverBudgetTest, CreateRefusesAnEmptyBudgetOrWindow) {
  auto budget = FailoverBudget::create({0, 1h});
  ASSERT_FALSE(budget.ok());
  EXPECT_NE(budget.error().message.find("max_failovers"), std::string::npos);
  EXPECT_NE(budget.error().hint.find("automatic = false"), std::string::npos);
  EXPECT_FALSE(FailoverBudget::create({1, 0ms}).ok());
}

// What the daemon will do: on outageDeclared, fail over if the budget allows.
// A check that flaps for an hour (2 failures, 2 good checks, again and again)
// must give one failover, not one per flap.
TEST(FailoverBudgetTest, AFlappingCheckGivesOneFailoverAnHour) {
  using testing::Feed;
  runbook::Trigger trigger = testing::httpTrigger(2, 1, 10min);
  TriggerState state = testing::makeState(trigger);
  FailoverBudget budget = makeBudget(1, 1h);
  Feed feed(state, 5s);
  int declared = 0;
  int failovers = 0;
  for (int i = 0; i < 720; ++i) {  // an hour
    for (const TriggerEvent& event : feed.check(i % 4 < 2)) {
      if (event.kind != TriggerEvent::Kind::outageDeclared) {
        continue;
      }
      ++declared;
      if (budget.allowed(event.at)) {
        budget.record(event.at);
        ++failovers;
        state.failoverStarted(event.at);
        state.failoverFinished(event.at);  // an instant failover
      }
    }
  }
  EXPECT_EQ(failovers, 1);
  EXPECT_EQ(declared, 1);  // cooldown, then flap damping, held every later streak
  EXPECT_TRUE(state.status().flapping);
}

}  // namespace
}  // namespace lifeboat::watch
