#include "lifeboat/comms/message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace lifeboat::comms {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const Facts kFacts{{"service", "orders"}, {"service_name", "Orders"}, {"elapsed", "12m 30s"}};

TEST(RenderTest, ReplacesPlaceholdersWithOrWithoutSpaces) {
  EXPECT_EQ(render("{{service}} / {{ service_name }} / {{\telapsed  }}", kFacts),
            "orders / Orders / 12m 30s");
}

TEST(RenderTest, KeepsTextOutsidePlaceholdersAsWritten) {
  EXPECT_EQ(render("", kFacts), "");
  EXPECT_EQ(render("no placeholders: <b>&amp;</b> \"quoted\"\n", kFacts),
            "no placeholders: <b>&amp;</b> \"quoted\"\n");
}

TEST(RenderTest, AFactWithoutAValueIsUnknown) {
  EXPECT_EQ(render("ETA {{eta}}, {{not_a_fact}}", kFacts), "ETA unknown, unknown");
  EXPECT_EQ(render("{{ Service }}", kFacts), "unknown");
}

TEST(RenderTest, BracesThatOpenNoPlaceholderStayLiteral) {
  EXPECT_EQ(render("{{service", kFacts), "{{service");
  EXPECT_EQ(render("{{}} and {{   }}", kFacts), "{{}} and {{   }}");
  EXPECT_EQ(render("{{serv\nice}}", kFacts), "{{serv\nice}}");
  EXPECT_EQ(render("{{a{b}} }}", kFacts), "{{a{b}} }}");
  EXPECT_EQ(render("{{{service}}}", kFacts), "{orders}");
  EXPECT_EQ(render("{service} }} {{", kFacts), "{service} }} {{");
}

TEST(RenderTest, ValuesAreInsertedOnceAndNeverExpanded) {
  const Facts facts{{"message", "{{service}} ${secret:env:HOME} $(id)"}, {"service", "orders"}};
  EXPECT_EQ(render("{{message}}", facts), "{{service}} ${secret:env:HOME} $(id)");
}

TEST(RenderTest, AdjacentPlaceholders) {
  EXPECT_EQ(render("{{service}}{{service_name}}", kFacts), "ordersOrders");
}

TEST(PlaceholdersTest, UnknownNamesInOrder) {
  EXPECT_THAT(unknownPlaceholders("{{zeta}} {{service}} {{ Alpha }} {{service name}} {{zeta}}"),
              ElementsAre("zeta", "Alpha", "service name", "zeta"));
  EXPECT_THAT(unknownPlaceholders("{{service}} {{eta}} {{ rto_budget_left }} {{x"), IsEmpty());
  EXPECT_THAT(placeholderNames("a {{ eta }} b {{drill}}"), ElementsAre("eta", "drill"));
}

TEST(PlaceholdersTest, EveryDocumentedFactIsKnown) {
  const std::span<const std::string_view> names = factNames();
  for (std::string_view fact :
       {"service",         "service_name", "impact",         "state",
        "runbook",         "run",          "agent",          "drill",
        "started_at",      "outage_start", "elapsed",        "rto_target",
        "rto_budget_left", "eta",          "rpo_target",     "rpo_measured",
        "rto_measured",    "objective",    "step",           "decision",
        "options",         "message",      "next_update",    "incident_commander",
        "spokesperson",    "approver",     "status_page_url"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), fact), names.end()) << fact;
  }
  EXPECT_EQ(names.size(), 27u);
}

TEST(FactFormatTest, Durations) {
  EXPECT_EQ(formatFactDuration(0ms), "0s");
  EXPECT_EQ(formatFactDuration(999ms), "0s");
  EXPECT_EQ(formatFactDuration(-999ms), "0s");
  EXPECT_EQ(formatFactDuration(45s), "45s");
  EXPECT_EQ(formatFactDuration(12min + 30s + 400ms), "12m 30s");
  EXPECT_EQ(formatFactDuration(1h), "1h");
  EXPECT_EQ(formatFactDuration(1h + 2min + 3s), "1h 2m 3s");
  EXPECT_EQ(formatFactDuration(1h + 3s), "1h 3s");
  EXPECT_EQ(formatFactDuration(std::chrono::hours(26) + 1min + 1s), "1d 2h 1m 1s");
  EXPECT_EQ(formatFactDuration(-65s), "-1m 5s");
  EXPECT_THAT(formatFactDuration(std::chrono::milliseconds::min()), StartsWith("-"));
}

TEST(FactFormatTest, TimesAreUtcToTheMinute) {
  using namespace std::chrono;
  const Timestamp time = sys_days{2026y / 12 / 6} + 19h + 40min + 59s + 999ms;
  EXPECT_EQ(formatFactTime(time), "2026-12-06 19:40 UTC");
  EXPECT_EQ(formatFactTime(Timestamp{}), "1970-01-01 00:00 UTC");
  EXPECT_EQ(formatFactTime(sys_days{2027y / 1 / 1} - 1ms), "2026-12-31 23:59 UTC");
}

}  // namespace
}  // namespace lifeboat::comms
