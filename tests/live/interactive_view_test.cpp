#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "lifeboat/live/view.hpp"
#include "scripted_events.hpp"
#include "terminal_screen.hpp"

namespace lifeboat::live {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::PlannedStep;
using testing::runStart;
using testing::Script;
using testing::TerminalScreen;

// An interactive view writing into a simulated terminal.
class Terminal {
 public:
  explicit Terminal(ViewOptions options)
      : screen_(options.width), view_(View::make(options, out_)) {}

  View& view() { return *view_; }
  void send(const Event& event) { view_->onEvent(event); }
  void tickAt(milliseconds offset) { view_->tick(runStart() + offset); }

  // Applies what the view wrote since the last call, returns the screen.
  const TerminalScreen& screen() {
    const std::string written = out_.str();
    screen_.feed(std::string_view(written).substr(consumed_));
    consumed_ = written.size();
    return screen_;
  }
  std::vector<std::string> lines() { return screen().lines(); }
  std::string text() { return screen().text(); }
  std::string raw() const { return out_.str(); }
  std::size_t bytesWritten() const { return out_.str().size(); }

 private:
  std::ostringstream out_;
  TerminalScreen screen_;
  std::unique_ptr<View> view_;
  std::size_t consumed_ = 0;
};

ViewOptions interactive(bool color = false, int width = 100, int height = 24) {
  return ViewOptions{Style::interactive, color, width, height};
}

// The one visible line that mentions `needle` (fails the test otherwise).
std::string lineWith(const std::vector<std::string>& lines, std::string_view needle) {
  std::string found;
  int count = 0;
  for (const std::string& line : lines) {
    if (line.find(needle) != std::string::npos) {
      found = line;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "lines with '" << needle << "'";
  return found;
}

const std::vector<PlannedStep> kPlan{{"lag"},
                                     {"fence", false, "when = \"real\""},
                                     {"promote", true, "", "Promote standby", 3},
                                     {"verify"}};

// run.started, lag running with a progress line, two seconds in.
void startDrill(Terminal& terminal, Script& script) {
  terminal.send(script.runStarted(kPlan));
  terminal.send(script.preflight(milliseconds(20), true));
  terminal.send(script.stepStarted(milliseconds(100), "lag"));
  terminal.send(script.stepOutput(milliseconds(400), "lag", "progress", "measuring lag\n"));
  terminal.tickAt(milliseconds(2'000));
}

TEST(InteractiveView, ShowsTheBudgetAndTheRunningStepWithItsElapsedTime) {
  Terminal terminal(interactive());
  Script script;
  startDrill(terminal, script);
  const std::vector<std::string> lines = terminal.lines();
  ASSERT_EQ(lines.size(), 5u) << terminal.text();
  EXPECT_THAT(lines[0],
              AllOf(HasSubstr("orders-db-failover"), HasSubstr("DRILL"), HasSubstr(" 2.0s"),
                    HasSubstr("RTO budget left 3m58s"), HasSubstr("run 20261124T225610Z-k3f9")));
  EXPECT_THAT(lines[1], AllOf(HasSubstr("lag"), HasSubstr("1.9s"), HasSubstr("measuring lag")));
  EXPECT_THAT(lines[2], AllOf(HasSubstr("· promote Promote standby"), Not(HasSubstr("s "))));
  EXPECT_THAT(lines[3], HasSubstr("· verify"));
  EXPECT_EQ(lines[4], "  - 1 skipped in this drill");
  EXPECT_EQ(terminal.screen().cursorRow(), 5);
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());

  // Time moves on: the same block, redrawn in place, with new times.
  terminal.tickAt(milliseconds(5'000));
  const std::vector<std::string> later = terminal.lines();
  ASSERT_EQ(later.size(), 5u) << terminal.text();
  EXPECT_THAT(later[0], HasSubstr("RTO budget left 3m55s"));
  EXPECT_THAT(later[1], HasSubstr("4.9s"));
  EXPECT_NE(later[1].substr(0, 5), lines[1].substr(0, 5)) << "the spinner turns";
}

TEST(InteractiveView, ShowsRetriesMeasuredRtoAndFinalStates) {
  Terminal terminal(interactive());
  Script script;
  startDrill(terminal, script);
  terminal.send(script.stepFinished(milliseconds(2'100), "lag", "ok", 2'000));
  terminal.send(script.stepStarted(milliseconds(2'200), "promote"));
  terminal.send(script.stepStarted(milliseconds(6'000), "promote", 2));
  terminal.tickAt(milliseconds(7'000));
  EXPECT_THAT(lineWith(terminal.lines(), "promote"), AllOf(HasSubstr("1.0s"), HasSubstr("2/3")));
  EXPECT_THAT(lineWith(terminal.lines(), "lag"), AllOf(HasSubstr("✓ lag"), HasSubstr("2.0s")));

  terminal.send(script.stepFinished(milliseconds(8'000), "promote", "ok", 5'800, "", 2));
  terminal.send(script.objectiveMeasured(milliseconds(8'100), "rto", 63'000, "promote"));
  terminal.tickAt(milliseconds(8'200));
  EXPECT_THAT(terminal.lines()[0], AllOf(HasSubstr("RTO met at 1m03s"), Not(HasSubstr("budget"))));

  terminal.send(script.stepStarted(milliseconds(8'300), "verify"));
  terminal.send(
      script.stepFinished(milliseconds(9'000), "verify", "failed", 700, "HTTP 503 from /health"));
  terminal.send(
      script.objectiveEvaluated(milliseconds(9'100), "rto", 300'000, 63'000, "met", "promote"));
  terminal.send(script.runFinished(milliseconds(9'500), "failed", 1, {"verify"}));
  terminal.view().finish();

  const std::vector<std::string> lines = terminal.lines();
  // Permanent lines above the block: the failure and the verdict.
  EXPECT_THAT(lines[0],
              HasSubstr("step verify failed in 700ms, exit code 1: HTTP 503 from /health"));
  EXPECT_THAT(lines[1], HasSubstr("objective RTO met: 1m03s against target 5m"));
  EXPECT_THAT(lines[2], AllOf(HasSubstr("orders-db-failover"), HasSubstr(" 9.5s"),
                              HasSubstr("RTO met at 1m03s"), HasSubstr("failed")));
  EXPECT_THAT(lines[3], AllOf(HasSubstr("✓ lag"), HasSubstr("2.0s")));
  EXPECT_THAT(lines[4], AllOf(HasSubstr("✓ promote"), HasSubstr("5.8s")));
  EXPECT_THAT(lines[5], AllOf(HasSubstr("✗ verify"), HasSubstr("700ms"),
                              HasSubstr("failed: HTTP 503 from /health")));
  EXPECT_EQ(lines[6], "  - 1 skipped in this drill");
  EXPECT_THAT(lines[7], HasSubstr("run finished: failed in 9.5s, exit code 1"));
  ASSERT_EQ(lines.size(), 8u) << terminal.text();
  EXPECT_EQ(terminal.screen().cursorRow(), 8) << "the cursor is left after the final state";
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());

  // Nothing is written after finish().
  const std::size_t written = terminal.bytesWritten();
  terminal.tickAt(milliseconds(20'000));
  terminal.send(script.stepStarted(milliseconds(20'000), "lag"));
  terminal.view().finish();
  EXPECT_EQ(terminal.bytesWritten(), written);
}

TEST(InteractiveView, TurnsRedOnceTheRtoBudgetIsSpent) {
  Terminal terminal(interactive(true));
  Script script;
  startDrill(terminal, script);
  terminal.tickAt(milliseconds(252'000));  // outage + 5m + 12s
  EXPECT_THAT(terminal.lines()[0], HasSubstr("RTO breached by 12.0s"));
  EXPECT_THAT(terminal.raw(), HasSubstr("\x1b[1;31mRTO breached by 12.0s\x1b[0m"));
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());
}

TEST(InteractiveView, WritesNoColourWithoutColor) {
  Terminal terminal(interactive(false));
  Script script;
  startDrill(terminal, script);
  terminal.tickAt(milliseconds(252'000));
  terminal.view().finish();
  EXPECT_FALSE(std::regex_search(terminal.raw(), std::regex("\x1b\\[[0-9;]*m")));
}

TEST(InteractiveView, SuspendErasesTheBlockAndResumeRedrawsIt) {
  Terminal terminal(interactive());
  Script script;
  startDrill(terminal, script);
  terminal.send(script.stepFinished(milliseconds(2'100), "lag", "ok", 2'000));
  terminal.send(script.stepStarted(milliseconds(2'200), "promote"));
  terminal.send(script.decisionRequested(milliseconds(2'300), "promote"));
  terminal.tickAt(milliseconds(3'000));
  const std::vector<std::string> before = terminal.lines();
  EXPECT_THAT(before[0], HasSubstr("decision promote requested: Promote the standby now?"));
  EXPECT_THAT(before[1], HasSubstr("option promote: Promote now (impact: up to 30s"));
  EXPECT_THAT(before[3], HasSubstr("approvers: alice, bob; deadline 2m; default wait"));
  EXPECT_THAT(lineWith(before, "promote Promote standby"), HasSubstr("waiting for a decision"));
  EXPECT_EQ(std::count_if(before.begin(), before.end(),
                          [](const std::string& l) { return l.find("RTO budget") != l.npos; }),
            1);

  terminal.view().suspend();
  const std::vector<std::string> suspended = terminal.lines();
  EXPECT_EQ(suspended, std::vector<std::string>(before.begin(), before.begin() + 4));
  EXPECT_EQ(terminal.screen().cursorRow(), 4);

  // Someone else prompts; the answer arrives while the view is suspended.
  const std::size_t written = terminal.bytesWritten();
  terminal.send(script.decisionMade(milliseconds(3'500), "promote"));
  terminal.tickAt(milliseconds(3'600));
  EXPECT_EQ(terminal.bytesWritten(), written) << "nothing is written while suspended";

  terminal.view().resume();
  const std::vector<std::string> after = terminal.lines();
  ASSERT_EQ(after.size(), before.size() + 1) << terminal.text();
  EXPECT_THAT(after[4], HasSubstr("decision promote made: promote by alice via terminal: "
                                  "\"primary disk is gone\""));
  EXPECT_THAT(after[5], HasSubstr("RTO budget left 3m56s"));
  EXPECT_THAT(lineWith(after, "promote Promote standby"),
              AllOf(Not(HasSubstr("waiting")), HasSubstr("1.4s")));
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());
}

TEST(InteractiveView, KeepsTwoHundredStepsWithinTheTerminalHeight) {
  const int height = 24;
  Terminal terminal(interactive(false, 60, height));
  Script script;
  std::vector<PlannedStep> plan;
  for (int i = 0; i < 200; ++i) {
    plan.push_back({"step-" + std::to_string(i), i % 50 != 7, "when = \"real\""});
  }
  terminal.send(script.runStarted(plan));
  // Steps 0-79 finish (step-42 fails), 80-119 keep running: more running
  // steps than the block has room for.
  for (int i = 0; i < 120; ++i) {
    const std::string id = "step-" + std::to_string(i);
    if (i % 50 == 7) {
      continue;
    }
    terminal.send(script.stepStarted(milliseconds(10 * i), id));
    terminal.send(script.stepOutput(milliseconds(10 * i + 1), id, "stdout",
                                    "a long line of output that is much wider than the terminal "
                                    "is, so that it has to be cut"));
    if (i < 80) {
      terminal.send(script.stepFinished(milliseconds(10 * i + 5), id, i == 42 ? "failed" : "ok", 5,
                                        i == 42 ? "exit status 3" : ""));
    }
    terminal.tickAt(milliseconds(10 * i + 6));
  }
  const std::vector<std::string> lines = terminal.lines();
  // The failure of step-42 stays above the block as a permanent line.
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines[0], HasSubstr("step step-42 failed"));
  const std::vector<std::string> block(lines.begin() + 1, lines.end());
  EXPECT_EQ(static_cast<int>(block.size()), height - 1) << terminal.text();
  EXPECT_LE(terminal.screen().largestCursorUp(), height - 1);
  EXPECT_THAT(block[0], HasSubstr("orders-db-failover"));
  EXPECT_THAT(lineWith(block, "step-80 "), HasSubstr("a long line"));
  EXPECT_THAT(lineWith(block, "more:"), AllOf(HasSubstr(": 77 ok"), HasSubstr("19 running"),
                                              HasSubstr("1 failed"), HasSubstr("79 pending")));
  EXPECT_EQ(block.back(), "  - 4 skipped in this drill");

  // Once the running steps are done, the failure gets a line in the block.
  for (int i = 80; i < 120; ++i) {
    if (i % 50 != 7) {
      terminal.send(script.stepFinished(milliseconds(1'300), "step-" + std::to_string(i), "ok", 5));
    }
  }
  terminal.tickAt(milliseconds(1'400));
  const std::vector<std::string> done = terminal.lines();
  EXPECT_LE(static_cast<int>(done.size()) - 1, height - 1) << terminal.text();
  EXPECT_THAT(lineWith(done, "✗ step-42"), HasSubstr("failed: exit status 3"));
  EXPECT_THAT(lineWith(done, "more:"), AllOf(HasSubstr(": 116 ok"), HasSubstr("79 pending")));
  EXPECT_THAT(terminal.screen().problems(), IsEmpty()) << "no line wider than the terminal";
}

TEST(InteractiveView, IgnoresUnknownEventTypes) {
  Terminal terminal(interactive());
  Script script;
  startDrill(terminal, script);
  const std::size_t written = terminal.bytesWritten();
  terminal.send(script.at(milliseconds(2'500), "step.teleported", "lag", {{"to", "mars"}}));
  EXPECT_EQ(terminal.bytesWritten(), written);
}

TEST(InteractiveView, ShowsChildOutputWithoutItsEscapes) {
  Terminal terminal(interactive(false, 60));
  Script script;
  startDrill(terminal, script);
  const std::size_t written = terminal.bytesWritten();
  terminal.send(script.stepOutput(milliseconds(2'500), "lag", "stdout", "\x1b[2J\x1b[Hgotcha\n\n"));
  EXPECT_EQ(terminal.bytesWritten(), written) << "output waits for the next tick";
  terminal.tickAt(milliseconds(2'600));
  EXPECT_THAT(lineWith(terminal.lines(), "lag"), HasSubstr("?[2J?[Hgotcha"));
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());
}

TEST(InteractiveView, ShowsRollbacksAndAnUnmeasuredRtoAsUnknown) {
  Terminal terminal(interactive());
  Script script;
  startDrill(terminal, script);
  terminal.send(script.stepFinished(milliseconds(2'100), "lag", "ok", 2'000));
  terminal.send(script.stepStarted(milliseconds(2'200), "verify"));
  terminal.send(script.stepFinished(milliseconds(2'300), "verify", "timed_out", 100, "no answer"));
  terminal.send(script.stepStarted(milliseconds(2'400), "lag", 1, "rollback"));
  terminal.tickAt(milliseconds(3'400));
  EXPECT_THAT(lineWith(terminal.lines(), "✓ lag"), HasSubstr("↺ rollback running 1.0s"));
  EXPECT_THAT(lineWith(terminal.lines(), "✗ verify"), HasSubstr("timed out: no answer"));

  terminal.send(script.at(milliseconds(2'900), "step.finished", "lag",
                          {{"status", "ok"}, {"phase", "rollback"}, {"duration_ms", 500}}));
  terminal.send(script.runFinished(milliseconds(3'500), "failed", 1, {"verify"}));
  terminal.view().finish();
  const std::vector<std::string> lines = terminal.lines();
  EXPECT_THAT(lineWith(lines, "✓ lag"), HasSubstr("↺ rollback ok 500ms"));
  EXPECT_THAT(lineWith(lines, "orders-db-failover"),
              AllOf(HasSubstr("RTO unknown (not measured)"), Not(HasSubstr("budget"))));
  EXPECT_THAT(terminal.screen().problems(), IsEmpty());
}

}  // namespace
}  // namespace lifeboat::live
