#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "journals.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string textOf(const std::vector<Event>& events) {
  Result<RunRecord> record = buildRunRecord(events);
  EXPECT_TRUE(record.ok());
  return record.ok() ? renderText(*record) : std::string();
}

TEST(RenderTextTest, PassedDrill) {
  std::string text = textOf(testing::passedDrill());
  EXPECT_THAT(text, HasSubstr("Run 20261124T225610Z-k3f9 (drill) of orders-db-failover\n"));
  EXPECT_THAT(text, HasSubstr("outage start 2026-11-24T22:56:08.000Z (trigger)"));
  EXPECT_THAT(text, HasSubstr("  STEP            STATUS   DURATION  ATTEMPTS  NOTE\n"));
  EXPECT_THAT(text, HasSubstr("  promote         ok       3s        1\n"));
  EXPECT_THAT(text, HasSubstr("  fence           skipped  -         -         when = \"real\""));
  EXPECT_THAT(text, HasSubstr("  rto: met: 9s500ms within 5m\n"));
  EXPECT_THAT(text, HasSubstr("  rpo: met: 2s500ms within 30s\n"));
  EXPECT_THAT(text,
              HasSubstr("Outputs:\n  STEP     OUTPUT   VALUE\n  promote  address  127.0.0.5\n"));
  EXPECT_THAT(text, HasSubstr("Outcome: done, exit code 0\n"));
}

TEST(RenderTextTest, FailedRunWithRollbackAndDecision) {
  std::string text = textOf(testing::failedRealRunWithRollback());
  EXPECT_THAT(text, HasSubstr("(real)"));
  EXPECT_THAT(text, HasSubstr("switch-vip exited with 3"));
  EXPECT_THAT(text, HasSubstr("    rollback of promote"));
  EXPECT_THAT(text, HasSubstr("not_run"));
  EXPECT_THAT(text, HasSubstr("  rto: unknown: not measured (target 5m)\n"));
  EXPECT_THAT(text, HasSubstr("Decision at approve: promote by alice (cli): primary is gone"));
  EXPECT_THAT(text, HasSubstr("Outcome: failed, exit code 1\n"));
}

TEST(RenderTextTest, UnknownRpoAndRunningRun) {
  std::string unknown = textOf(testing::runWithUnknownRpo());
  EXPECT_THAT(unknown, HasSubstr("  rpo: unknown: not measured (target 30s)\n"));
  EXPECT_THAT(unknown, HasSubstr("Outcome: done, exit code 3\n"));

  std::string running = textOf(testing::interruptedAndResumedRun());
  EXPECT_THAT(running, HasSubstr("not finished; last event 2026-11-24T22:57:11.200Z"));
  EXPECT_THAT(running, HasSubstr("interrupted"));
  EXPECT_THAT(running, HasSubstr("Resumed at 2026-11-24T22:57:10.000Z"));
  EXPECT_THAT(running, HasSubstr("Outcome: running\n"));
}

TEST(RenderTextTest, NoControlCharactersReachTheTerminal) {
  std::string text = textOf(testing::hostileRun());
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, Not(HasSubstr("\x07")));
  EXPECT_THAT(text, Not(HasSubstr("\x01")));
  EXPECT_THAT(text, HasSubstr("bad [31mred <b>bold</b> & \"q\" 'a'"));
}

}  // namespace
}  // namespace lifeboat::report
