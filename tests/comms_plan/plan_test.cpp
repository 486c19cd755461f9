// The example plan, loadPlan() and what a parsed plan holds.

#include "lifeboat/comms/plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "lifeboat/comms/message.hpp"
#include "lifeboat/config/input_guard.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::comms {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

TEST(ExamplePlanTest, LoadsWithoutErrorsOrWarnings) {
  std::vector<std::string> warnings;
  Result<Plan> plan = loadPlan(LIFEBOAT_EXAMPLE_PLAN, &warnings);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(warnings, IsEmpty());

  // Every kind of channel, each on loopback or behind a secret reference.
  std::set<ChannelKind> kinds;
  for (const auto& [name, channel] : plan->channels) {
    kinds.insert(channel.kind);
    const std::string& address = channel.kind == ChannelKind::email ? channel.smtpUrl : channel.url;
    EXPECT_TRUE(address.find("://127.0.0.1:") != std::string::npos || isSecretReference(address))
        << name;
  }
  EXPECT_EQ(kinds.size(), 5u);

  const ChannelSpec& mail = plan->channels.at("customer_mail");
  EXPECT_EQ(mail.smtpUrl, "smtp://127.0.0.1:2525");
  EXPECT_THAT(mail.to, ElementsAre("customers@localhost"));
  EXPECT_EQ(mail.password, "${secret:env:LIFEBOAT_SMTP_PASSWORD}");
  EXPECT_EQ(mail.perMinute, 10);
  EXPECT_EQ(plan->channels.at("exec_teams").timeout, 15s);
  EXPECT_EQ(plan->channels.at("partner_webhook").giveUpAfter, 2h);
  EXPECT_EQ(plan->channels.at("oncall_pager").severity, "critical");
  EXPECT_EQ(plan->channels.at("drill_slack").timeout, 10s);  // the default

  const AudienceSpec& customers = plan->audiences.at("customers");
  EXPECT_THAT(customers.channels, ElementsAre("status_page", "customer_mail"));
  EXPECT_THAT(customers.drillChannels, ElementsAre("drill_mail"));
  EXPECT_FALSE(customers.drillUsesRealChannels);
  EXPECT_TRUE(customers.external);
  EXPECT_TRUE(customers.approval);
  EXPECT_EQ(customers.every, 30min);
  const AudienceSpec& partners = plan->audiences.at("partners");
  EXPECT_THAT(partners.drillChannels, IsEmpty());  // held
  EXPECT_FALSE(partners.drillUsesRealChannels);
  EXPECT_FALSE(partners.every.has_value());
  EXPECT_TRUE(plan->audiences.at("engineering").drillUsesRealChannels);

  const TemplateSpec& opened = plan->templates.at("opened");
  EXPECT_EQ(opened.forAudience("customers").subject,
            "{{service_name}}: we are investigating an outage");
  EXPECT_EQ(opened.forAudience("engineering").subject,
            "[{{service}}] incident opened: runbook {{runbook}} on {{agent}}");

  ASSERT_EQ(plan->rules.size(), 8u);
  EXPECT_EQ(plan->rules[1].on, Trigger::milestone);
  EXPECT_THAT(plan->rules[1].steps, ElementsAre("promote", "switch-traffic"));
  EXPECT_EQ(plan->rules[6].on, Trigger::update);
  EXPECT_EQ(plan->roles.at("incident_commander").person, "Dana Reyes");
  EXPECT_THAT(plan->roles.at("spokesperson").tokens, ElementsAre("sam"));
  EXPECT_EQ(plan->services.at("orders").displayName, "Orders");
  EXPECT_EQ(plan->statusPage.title, "Example Shop status");
  EXPECT_THAT(plan->statusPage.services, ElementsAre("orders", "search"));
}

TEST(ExamplePlanTest, TemplatesRenderWithFacts) {
  Result<Plan> plan = loadPlan(LIFEBOAT_EXAMPLE_PLAN);
  ASSERT_TRUE(plan) << plan.error().message;
  const Facts facts{{"service_name", "Orders"},
                    {"impact", "Customers cannot place or pay for orders."},
                    {"started_at", "2026-12-06 19:40 UTC"},
                    {"outage_start", "2026-12-06 19:38 UTC"},
                    {"eta", "2026-12-06 19:53 UTC"}};
  const TemplateText& text = plan->templates.at("opened").forAudience("customers");
  EXPECT_EQ(render(text.subject, facts), "Orders: we are investigating an outage");
  EXPECT_EQ(render(text.body, facts),
            "Customers cannot place or pay for orders.\n"
            "We started failing over at 2026-12-06 19:40 UTC (outage since 2026-12-06 19:38 "
            "UTC).\nExpected recovery by 2026-12-06 19:53 UTC. Next update at unknown.\n");
}

// docs/communications.md shows the example without its comments: the same
// plan, so the page stays true.
TEST(ExamplePlanTest, TheDocumentedExampleIsTheExampleFile) {
  Result<std::string> page =
      config::readInputFile(LIFEBOAT_COMMUNICATIONS_DOC, config::InputLimits{});
  ASSERT_TRUE(page) << page.error().message;
  const std::size_t section = page->find("## A complete example");
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = page->find("```toml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = page->find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string documented = page->substr(begin + 8, end - begin - 8);

  Result<std::string> file = config::readInputFile(LIFEBOAT_EXAMPLE_PLAN, config::InputLimits{});
  ASSERT_TRUE(file) << file.error().message;
  std::string withoutComments;
  std::size_t position = 0;
  while (position < file->size()) {
    std::size_t next = file->find('\n', position);
    next = next == std::string::npos ? file->size() : next + 1;
    const std::string_view line(file->data() + position, next - position);
    if (!line.starts_with("#") && line != "\n") {
      withoutComments += line;
    }
    position = next;
  }
  std::string documentedCompact;
  position = 0;
  while (position < documented.size()) {
    std::size_t next = documented.find('\n', position);
    next = next == std::string::npos ? documented.size() : next + 1;
    const std::string_view line(documented.data() + position, next - position);
    if (line != "\n") {
      documentedCompact += line;
    }
    position = next;
  }
  EXPECT_EQ(documentedCompact, withoutComments);
  DiagnosticSink sink;
  EXPECT_TRUE(parsePlan(documented, sink).has_value());
}

TEST(LoadPlanTest, ErrorsCarryTheFileLineAndColumn) {
  test_support::TempDir temp;
  const auto file = temp.write("plan.toml",
                               "[channels.ops]\n"
                               "kind = \"slack\"\n"
                               "url = \"ftp://127.0.0.1/T0/B0/tok-in-url-7f3a\"\n"
                               "[channels.pager]\n"
                               "kind = \"pagerduty\"\n"
                               "secret = \"literal-routing-key-9c1e\"\n");
  std::vector<std::string> warnings;
  Result<Plan> plan = loadPlan(file, &warnings);
  ASSERT_FALSE(plan);
  const std::string& message = plan.error().message;
  EXPECT_THAT(message, StartsWith(file.string() + ":1:1: error: the plan has no "
                                                  "[roles.incident_commander]"));
  EXPECT_THAT(message, HasSubstr("\n" + file.string() +
                                 ":3:7: error: 'url' in slack channel 'ops' is not an http:// or "
                                 "https:// URL"));
  EXPECT_THAT(message, Not(HasSubstr("tok-in-url")));
  EXPECT_THAT(message, Not(HasSubstr("warning")));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], StartsWith(file.string() + ":6:10: warning: 'secret' in pagerduty "
                                                      "channel 'pager' is a secret written in "
                                                      "clear"));
  EXPECT_THAT(warnings[0], Not(HasSubstr("literal-routing-key")));
}

TEST(LoadPlanTest, FileProblems) {
  test_support::TempDir temp;
  Result<Plan> missing = loadPlan(temp.path() / "absent.toml");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("absent.toml does not exist"));

  const auto big = temp.write("big.toml", std::string(1024 * 1024 + 1, '#'));
  Result<Plan> tooBig = loadPlan(big);
  ASSERT_FALSE(tooBig);
  EXPECT_THAT(tooBig.error().message, HasSubstr("communication plan"));
  EXPECT_THAT(tooBig.error().message, Not(HasSubstr("runbook")));

  const auto binary = temp.write("nul.toml", std::string("a = \"x\0\"\n", 9));
  Result<Plan> refused = loadPlan(binary);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, StartsWith(binary.string() + ":1:"));
}

TEST(PlanNamesTest, TriggersAndKindsRoundTrip) {
  for (std::string_view name : {"opened", "milestone", "breached", "decision", "restored",
                                "resolved", "update", "notify"}) {
    const std::optional<Trigger> trigger = parseTrigger(name);
    ASSERT_TRUE(trigger) << name;
    EXPECT_EQ(triggerName(*trigger), name);
  }
  EXPECT_FALSE(parseTrigger("open"));
  for (std::string_view name : {"slack", "teams", "webhook", "email", "pagerduty"}) {
    const std::optional<ChannelKind> kind = parseChannelKind(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(channelKindName(*kind), name);
  }
  EXPECT_FALSE(parseChannelKind("sms"));
}

}  // namespace
}  // namespace lifeboat::comms
