#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "journals.hpp"
#include "lifeboat/report/render.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "xml_check.hpp"

namespace lifeboat::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string junitOf(const std::vector<Event>& events) {
  Result<RunRecord> record = buildRunRecord(events);
  EXPECT_TRUE(record.ok());
  return record.ok() ? renderJunit(*record) : std::string();
}

// xmllint on PATH, when this machine has it (libxml2-utils); else empty.
std::filesystem::path findXmllint() {
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "";
  while (!directories.empty()) {
    std::size_t colon = directories.find(':');
    std::filesystem::path candidate =
        std::filesystem::path(directories.substr(0, colon)) / "xmllint";
    if (std::filesystem::exists(candidate)) {
      return candidate;
    }
    directories = colon == std::string_view::npos ? "" : directories.substr(colon + 1);
  }
  return {};
}

struct Counts {
  int tests, failures, errors, skipped;
};

// Well-formed (by our checker, and by xmllint when installed), and the
// suite's counts agree with its test cases and with `expected`.
void expectValidSuite(const std::string& xml, Counts expected) {
  testing::XmlCheck check = testing::checkXml(xml);
  ASSERT_TRUE(check.ok) << check.error << "\n" << xml;
  EXPECT_EQ(check.rootName, "testsuite");
  EXPECT_EQ(check.elements["testsuite"], 1);
  EXPECT_EQ(check.elements["testcase"], expected.tests) << xml;
  EXPECT_EQ(check.elements["failure"], expected.failures) << xml;
  EXPECT_EQ(check.elements["error"], expected.errors) << xml;
  EXPECT_EQ(check.elements["skipped"], expected.skipped) << xml;
  EXPECT_EQ(check.rootAttributes["tests"], std::to_string(expected.tests));
  EXPECT_EQ(check.rootAttributes["failures"], std::to_string(expected.failures));
  EXPECT_EQ(check.rootAttributes["errors"], std::to_string(expected.errors));
  EXPECT_EQ(check.rootAttributes["skipped"], std::to_string(expected.skipped));

  if (std::filesystem::path xmllint = findXmllint(); !xmllint.empty()) {
    test_support::ProcessResult result = test_support::runProcess({xmllint, "--noout", "-"}, xml);
    EXPECT_EQ(result.exitCode, 0) << result.err;
  }
}

TEST(XmlCheckTest, RefusesWhatIsNotWellFormed) {
  EXPECT_TRUE(testing::checkXml("<a x=\"1 &amp; 2\"><b/>t &lt; u</a>").ok);
  EXPECT_FALSE(testing::checkXml("<a><b></a></b>").ok);
  EXPECT_FALSE(testing::checkXml("<a x=\"<\"/>").ok);
  EXPECT_FALSE(testing::checkXml("<a>&nbsp;</a>").ok);
  EXPECT_FALSE(testing::checkXml("<a>\x1b</a>").ok);
  EXPECT_FALSE(testing::checkXml("<a x=\"1\" x=\"2\"/>").ok);
  EXPECT_FALSE(testing::checkXml("<a/><b/>").ok);
  EXPECT_FALSE(testing::checkXml("<a>x & y</a>").ok);
}

TEST(RenderJunitTest, PassedDrill) {
  std::string xml = junitOf(testing::passedDrill());
  expectValidSuite(xml, {.tests = 9, .failures = 0, .errors = 0, .skipped = 1});
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lifeboat drill orders-db-failover\""));
  EXPECT_THAT(xml, HasSubstr("time=\"9.000\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"orders.orders-db-failover\" name=\"step "
                             "promote\" time=\"3.000\"/>"));
  EXPECT_THAT(xml,
              HasSubstr("<skipped message=\"when = &quot;real&quot;: real failovers only\"/>"));
  EXPECT_THAT(xml, HasSubstr("name=\"objective rto\""));
  EXPECT_THAT(xml, HasSubstr("name=\"cleanup\""));
  EXPECT_THAT(xml, HasSubstr("<property name=\"run\" value=\"20261124T225610Z-k3f9\"/>"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"drill\" value=\"true\"/>"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"outcome\" value=\"done\"/>"));
}

TEST(RenderJunitTest, FailedRunWithRollback) {
  std::string xml = junitOf(testing::failedRealRunWithRollback());
  expectValidSuite(xml, {.tests = 8, .failures = 2, .errors = 0, .skipped = 1});
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lifeboat run orders-db-failover\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"switch-vip exited with 3\" type=\"failed\">"));
  EXPECT_THAT(xml, HasSubstr("exit code 3"));
  EXPECT_THAT(xml, HasSubstr("name=\"rollback promote\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"not measured\" type=\"unknown\">"));
  EXPECT_THAT(xml, Not(HasSubstr("name=\"cleanup\"")));  // a real run without cleanup steps
}

TEST(RenderJunitTest, UnknownRpoIsAFailure) {
  std::string xml = junitOf(testing::runWithUnknownRpo());
  expectValidSuite(xml, {.tests = 4, .failures = 1, .errors = 0, .skipped = 0});
  EXPECT_THAT(xml, HasSubstr("name=\"objective rpo\" time=\"0.000\">\n    <failure message=\"not "
                             "measured\""));
}

TEST(RenderJunitTest, InterruptedStepIsAnError) {
  std::string xml = junitOf(testing::interruptedAndResumedRun());
  expectValidSuite(xml, {.tests = 4, .failures = 1, .errors = 1, .skipped = 0});
  EXPECT_THAT(xml, HasSubstr("<error message=\"interrupted\" type=\"interrupted\">"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"outcome\" value=\"running\"/>"));
}

TEST(RenderJunitTest, BreachedObjectiveIsAFailure) {
  testing::JournalBuilder journal;
  journal.runStarted(true, {testing::PlanStep{.id = "a"}}, boost::json::object{{"rto_ms", 1000}});
  journal.stepStarted(10, "a");
  journal.stepFinished(3000, "a", "ok", 2990);
  journal.objectiveEvaluated(3000, "rto", 1000, 5000, "breached", "a", 3000);
  journal.runFinished(3100, "done", 3);
  std::string xml = junitOf(journal.events());
  expectValidSuite(xml, {.tests = 2, .failures = 1, .errors = 0, .skipped = 0});
  EXPECT_THAT(xml, HasSubstr("<failure message=\"breached\" type=\"breached\">breached: 5s "
                             "against 1s</failure>"));
}

TEST(RenderJunitTest, FailedCleanupFailsTheCleanupCase) {
  testing::JournalBuilder journal;
  journal.runStarted(
      true,
      {testing::PlanStep{.id = "a"}, testing::PlanStep{.id = "tidy", .wave = 2, .cleanup = true}},
      {});
  journal.stepStarted(10, "a");
  journal.stepFinished(20, "a", "ok", 10);
  journal.stepStarted(30, "tidy", "plugin", "cleanup");
  journal.stepFinished(40, "tidy", "failed", 10, boost::json::object{{"error", "busy"}}, "cleanup");
  journal.runFinished(50, "incomplete", 1, {"tidy"}, "failed");
  std::string xml = junitOf(journal.events());
  expectValidSuite(xml, {.tests = 3, .failures = 2, .errors = 0, .skipped = 0});
  EXPECT_THAT(xml, HasSubstr("name=\"cleanup\" time=\"0.010\">\n    <failure message=\"cleanup "
                             "failed\""));
}

TEST(RenderJunitTest, EscapesEverythingAndDropsControlCharacters) {
  std::string xml = junitOf(testing::hostileRun());
  expectValidSuite(xml, {.tests = 4, .failures = 2, .errors = 1, .skipped = 0});
  EXPECT_THAT(xml, HasSubstr("lifeboat run odd&lt;&gt;&amp;&quot;&apos;name"));
  EXPECT_THAT(
      xml, HasSubstr("bad [31mred &lt;b&gt;bold&lt;/b&gt; &amp; \"q\" 'a'\nexit code 1</failure>"));
  EXPECT_THAT(xml, HasSubstr("message=\"bad [31mred &lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot; "
                             "&apos;a&apos;\""));
  EXPECT_THAT(xml, Not(HasSubstr("\x1b")));
  EXPECT_THAT(xml, Not(HasSubstr("\x07")));
  EXPECT_THAT(xml, Not(HasSubstr("<b>")));
}

}  // namespace
}  // namespace lifeboat::report
