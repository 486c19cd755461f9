#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "journals.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string htmlOf(const std::vector<Event>& events) {
  Result<RunRecord> record = buildRunRecord(events);
  EXPECT_TRUE(record.ok());
  return record.ok() ? renderHtml(*record) : std::string();
}

int occurrences(const std::string& text, std::string_view needle) {
  int count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// Self-contained: nothing to run, nothing to fetch.
void expectSelfContained(const std::string& html) {
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

TEST(RenderHtmlTest, PassedDrillHasHeaderTimelineAndTables) {
  std::string html = htmlOf(testing::passedDrill());
  expectSelfContained(html);
  EXPECT_THAT(html, HasSubstr("<h1>orders-db-failover"));
  EXPECT_THAT(html, HasSubstr(std::string(testing::kRunId)));
  EXPECT_THAT(html, HasSubstr("badge neutral\">drill<"));
  EXPECT_THAT(html, HasSubstr("badge good\">done<"));
  EXPECT_THAT(html, HasSubstr("rto met"));
  EXPECT_THAT(html, HasSubstr("rpo met"));
  EXPECT_THAT(html, HasSubstr("@media print"));

  // One bar per step that ran: lag, promote, verify, tell-customers,
  // drop-copy (fence was skipped).
  EXPECT_EQ(occurrences(html, "<svg"), 1);
  EXPECT_EQ(occurrences(html, "<rect class=\"bar "), 5);
  EXPECT_THAT(html, HasSubstr("data-step=\"drop-copy\" data-phase=\"cleanup\""));
  EXPECT_THAT(html, Not(HasSubstr("data-step=\"fence\"")));
  // 9.5 s against a 5 m budget: the chart ends with the run and says where
  // the budget lies.
  EXPECT_THAT(html, HasSubstr("<g class=\"rto-line rto-beyond\""));
  EXPECT_THAT(html, HasSubstr("RTO budget 5m ends at +5m, beyond this chart"));
  EXPECT_THAT(html, HasSubstr("class=\"restored-marker\""));
  EXPECT_THAT(html, HasSubstr("restored +9s500ms"));
  EXPECT_THAT(html, HasSubstr("class=\"outage-start\""));
  EXPECT_THAT(html, HasSubstr("time since the outage start"));
  EXPECT_THAT(html, HasSubstr("class=\"tick\""));

  EXPECT_THAT(html, HasSubstr("<table class=\"steps\">"));
  EXPECT_THAT(html, HasSubstr("<table class=\"objectives\">"));
  EXPECT_THAT(html, HasSubstr("<table class=\"notifications\">"));
  EXPECT_THAT(html, HasSubstr("<table class=\"preflight\">"));
  EXPECT_THAT(html, HasSubstr("rpo is measured by one step only"));
  // What the steps reported, e.g. a drill copy's address.
  EXPECT_THAT(html, HasSubstr("<table class=\"outputs\">"));
  EXPECT_THAT(html, HasSubstr("<tr><td>promote</td><td>address</td><td>127.0.0.5</td></tr>"));
}

TEST(RenderHtmlTest, RtoLineAndRestoredMarkerSitWhereTheyHappened) {
  testing::JournalBuilder journal;
  journal.runStarted(true, {testing::PlanStep{.id = "a", .restoresService = true}},
                     boost::json::object{{"rto_ms", 4000}}, 0, "flag");
  journal.stepStarted(0, "a");
  journal.stepFinished(6000, "a", "ok", 6000);
  journal.objectiveEvaluated(6100, "rto", 4000, 8000, "breached", "a", 6000);
  journal.runFinished(6200, "done", 3);
  std::string html = htmlOf(journal.events());
  expectSelfContained(html);
  // The origin is the outage start (-2 s, from the evaluation) and the chart
  // spans 8.2 s over 690 px from x = 230: the budget ends at +4 s, the
  // service came back at +8 s.
  EXPECT_THAT(html, HasSubstr("<line class=\"rto-line\" x1=\"566.6\" x2=\"566.6\""));
  EXPECT_THAT(html, HasSubstr("RTO budget 4s</text>"));
  EXPECT_THAT(html, HasSubstr("<line class=\"restored-marker\" x1=\"903.2\""));
  EXPECT_THAT(html, HasSubstr("restored +8s</text>"));
  EXPECT_THAT(html, HasSubstr("badge bad\">rto breached<"));
  EXPECT_THAT(html, HasSubstr("<rect class=\"bar status-ok\" data-step=\"a\" data-phase=\"main\" "
                              "x=\"398.3\""));
}

TEST(RenderHtmlTest, RollbackGetsItsOwnBarAndDecisionsAreShown) {
  std::string html = htmlOf(testing::failedRealRunWithRollback());
  expectSelfContained(html);
  // lag, approve, promote, switch, and promote's rollback; verify never ran.
  EXPECT_EQ(occurrences(html, "<rect class=\"bar "), 5);
  EXPECT_THAT(html, HasSubstr("data-step=\"promote\" data-phase=\"rollback\""));
  EXPECT_THAT(html, HasSubstr("<rect class=\"bar status-failed\" data-step=\"switch\""));
  EXPECT_THAT(html, HasSubstr("badge bad\">real<"));
  EXPECT_THAT(html, HasSubstr("badge bad\">failed<"));
  EXPECT_THAT(html, HasSubstr("rto unknown"));
  EXPECT_THAT(html, HasSubstr("<table class=\"decisions\">"));
  EXPECT_THAT(html, HasSubstr("primary is gone for good"));
  EXPECT_THAT(html, HasSubstr("alice"));
  EXPECT_THAT(html, HasSubstr("switch-vip exited with 3"));
  EXPECT_THAT(html, HasSubstr("rollback of promote"));
}

TEST(RenderHtmlTest, InterruptedRunShowsResumesAndTheInterruptedBar) {
  std::string html = htmlOf(testing::interruptedAndResumedRun());
  expectSelfContained(html);
  EXPECT_EQ(occurrences(html, "<rect class=\"bar "), 3);
  EXPECT_THAT(html, HasSubstr("<rect class=\"bar status-interrupted\" data-step=\"c\""));
  EXPECT_THAT(html, HasSubstr("<table class=\"resumes\">"));
  EXPECT_THAT(html, HasSubstr("b (main): rerun"));
  EXPECT_THAT(html, HasSubstr("4242"));
}

TEST(RenderHtmlTest, ARunWithoutStepsStillHasATimeline) {
  testing::JournalBuilder journal;
  journal.runStarted(false, {testing::PlanStep{.id = "a"}}, {}, 0, "run_start");
  journal.preflightFinished(10, false);
  journal.runFinished(20, "failed", 1, {}, "none", false, "preflight failed: lock is held");
  std::string html = htmlOf(journal.events());
  expectSelfContained(html);
  EXPECT_EQ(occurrences(html, "<rect class=\"bar "), 0);
  EXPECT_THAT(html, HasSubstr("no step has started"));
  EXPECT_THAT(html, Not(HasSubstr("rto-line")));
  EXPECT_THAT(html, HasSubstr("The runbook sets no recovery objectives."));
  EXPECT_THAT(html, HasSubstr("preflight failed: lock is held"));
}

TEST(RenderHtmlTest, EscapesEverything) {
  std::string html = htmlOf(testing::hostileRun());
  expectSelfContained(html);
  EXPECT_THAT(html,
              HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
  EXPECT_THAT(html, HasSubstr("odd&lt;&gt;&amp;&quot;&#39;name"));
  EXPECT_THAT(html,
              HasSubstr("bad [31mred &lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39;"));
  EXPECT_THAT(html, HasSubstr("eve &lt;eve@example.org&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("\x1b")));
  EXPECT_THAT(html, Not(HasSubstr("\x07")));
  EXPECT_THAT(html, Not(HasSubstr("\x01")));
}

}  // namespace
}  // namespace lifeboat::report
