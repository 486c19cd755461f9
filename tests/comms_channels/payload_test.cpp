// The channels' payloads against the shapes and limits the providers
// document (pure functions; the integration tests post them to receivers
// that check the same shapes).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms {
namespace {

namespace json = boost::json;

Message sampleMessage() {
  Message message;
  message.id = 42;
  message.dedupKey = "inc-7/opened/ops/slack";
  message.incident = "inc-7";
  message.audience = "ops";
  message.channel = "ops-slack";
  message.trigger = "opened";
  message.subject = "Payments <db> failing over & degraded";
  message.body = "Primary <pg-1> is down & <pg-2> takes over.\nETA 5 min > 2 min";
  message.facts = {{"service", "payments"}, {"runbook", "pg <failover>"}};
  message.createdAt = Timestamp{std::chrono::milliseconds(1'796'585'743'000)};
  return message;
}

std::string text(const json::value& value) {
  return std::string(value.as_string());
}

// Characters (code points) of UTF-8 text, as Slack and PagerDuty count them.
std::size_t characters(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

bool validUtf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[at]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (lead >= 0x80 && lead < 0xC0) {
      return false;
    }
    if (at + length > text.size()) {
      return false;
    }
    for (std::size_t i = 1; i < length; ++i) {
      if ((static_cast<unsigned char>(text[at + i]) & 0xC0) != 0x80) {
        return false;
      }
    }
    at += length;
  }
  return true;
}

TEST(SlackPayload, HeaderSectionAndContextWithEscapedMrkdwn) {
  Message message = sampleMessage();
  message.drill = true;
  const json::object payload = slackPayload(message);

  EXPECT_EQ(text(payload.at("text")), "Payments &lt;db&gt; failing over &amp; degraded");
  const json::array& blocks = payload.at("blocks").as_array();
  ASSERT_EQ(blocks.size(), 3u);

  const json::object& header = blocks[0].as_object();
  EXPECT_EQ(text(header.at("type")), "header");
  EXPECT_EQ(text(header.at("text").at("type")), "plain_text");
  // plain_text is shown as written: no entities there.
  EXPECT_EQ(text(header.at("text").at("text")), message.subject);

  const json::object& section = blocks[1].as_object();
  EXPECT_EQ(text(section.at("type")), "section");
  EXPECT_EQ(text(section.at("text").at("type")), "mrkdwn");
  EXPECT_EQ(text(section.at("text").at("text")),
            "Primary &lt;pg-1&gt; is down &amp; &lt;pg-2&gt; takes over.\nETA 5 min &gt; 2 min");

  const json::object& context = blocks[2].as_object();
  EXPECT_EQ(text(context.at("type")), "context");
  const json::array& elements = context.at("elements").as_array();
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_NE(text(elements[0].at("text")).find("DRILL"), std::string::npos);
  EXPECT_EQ(text(elements[1].at("text")), "Incident inc-7 · opened");
  EXPECT_EQ(text(elements[2].at("text")), "runbook: pg &lt;failover&gt;\nservice: payments");
  for (const json::value& element : elements) {
    EXPECT_EQ(text(element.at("type")), "mrkdwn");
  }
}

TEST(SlackPayload, NoDrillMarkerOutsideDrills) {
  const json::object payload = slackPayload(sampleMessage());
  const std::string serialized = json::serialize(payload);
  EXPECT_EQ(serialized.find("DRILL"), std::string::npos);
}

TEST(SlackPayload, LimitsCountCharactersAndNeverSplitAnEntityOrCharacter) {
  Message message = sampleMessage();
  message.subject = std::string(200, 'S');
  // 1000 '&' escape to 5000 characters: the section keeps at most 3000.
  message.body = std::string(1000, '&') + std::string(3000, 'x');
  const json::object payload = slackPayload(message);
  const json::array& blocks = payload.at("blocks").as_array();

  const std::string header = text(blocks[0].at("text").at("text"));
  EXPECT_EQ(characters(header), 150u);
  EXPECT_TRUE(header.ends_with("\xE2\x80\xA6"));

  const std::string section = text(blocks[1].at("text").at("text"));
  EXPECT_LE(characters(section), 3000u);
  EXPECT_GE(characters(section), 2990u);
  ASSERT_TRUE(section.ends_with("&amp;\xE2\x80\xA6"));

  // A body of multi-byte characters is cut between characters.
  message.body = std::string();
  for (int i = 0; i < 4000; ++i) {
    message.body += "\xC3\xA9";  // é
  }
  const std::string cut = text(slackPayload(message).at("blocks").at(1).at("text").at("text"));
  EXPECT_EQ(characters(cut), 3000u);
  EXPECT_TRUE(validUtf8(cut));
}

TEST(SlackPayload, EmptyBodyLeavesNoEmptyTextObject) {
  Message message = sampleMessage();
  message.body.clear();
  message.facts.clear();
  message.incident.clear();
  message.trigger.clear();
  const json::object payload = slackPayload(message);
  const json::array& blocks = payload.at("blocks").as_array();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(text(blocks[0].at("type")), "header");
}

TEST(TeamsPayload, OneAdaptiveCardAttachment) {
  Message message = sampleMessage();
  message.drill = true;
  const json::object payload = teamsPayload(message);
  EXPECT_EQ(text(payload.at("type")), "message");
  const json::array& attachments = payload.at("attachments").as_array();
  ASSERT_EQ(attachments.size(), 1u);
  EXPECT_EQ(text(attachments[0].at("contentType")), "application/vnd.microsoft.card.adaptive");
  const json::object& card = attachments[0].at("content").as_object();
  EXPECT_EQ(text(card.at("type")), "AdaptiveCard");
  EXPECT_EQ(text(card.at("$schema")), "http://adaptivecards.io/schemas/adaptive-card.json");
  EXPECT_EQ(text(card.at("version")), "1.4");
  const json::array& body = card.at("body").as_array();
  ASSERT_EQ(body.size(), 4u);
  EXPECT_EQ(text(body[0].at("type")), "TextBlock");
  EXPECT_EQ(text(body[0].at("text")), message.subject);
  EXPECT_NE(text(body[1].at("text")).find("DRILL"), std::string::npos);
  EXPECT_EQ(text(body[2].at("text")), message.body);
  EXPECT_EQ(text(body[3].at("type")), "FactSet");
  const json::array& facts = body[3].at("facts").as_array();
  ASSERT_EQ(facts.size(), 3u);
  EXPECT_EQ(text(facts[0].at("title")), "incident");
  EXPECT_EQ(text(facts[0].at("value")), "inc-7");
  EXPECT_EQ(text(facts[2].at("title")), "service");
}

TEST(PagerDutyPayload, TriggerCarriesTheIncidentAsDedupKey) {
  const json::object event = pagerDutyPayload(sampleMessage(), "R0UT1NGKEY", "error");
  EXPECT_EQ(text(event.at("routing_key")), "R0UT1NGKEY");
  EXPECT_EQ(text(event.at("event_action")), "trigger");
  EXPECT_EQ(text(event.at("dedup_key")), "inc-7");
  const json::object& payload = event.at("payload").as_object();
  EXPECT_EQ(text(payload.at("summary")), sampleMessage().subject);
  EXPECT_EQ(text(payload.at("source")), "payments");
  EXPECT_EQ(text(payload.at("severity")), "error");
  EXPECT_EQ(text(payload.at("timestamp")), "2026-12-06T19:35:43.000Z");
  const json::object& details = payload.at("custom_details").as_object();
  EXPECT_EQ(text(details.at("body")), sampleMessage().body);
  EXPECT_EQ(text(details.at("runbook")), "pg <failover>");
  EXPECT_FALSE(details.at("drill").as_bool());
}

TEST(PagerDutyPayload, ResolveHasNoPayload) {
  Message message = sampleMessage();
  message.resolves = true;
  const json::object event = pagerDutyPayload(message, "R0UT1NGKEY", "critical");
  EXPECT_EQ(text(event.at("event_action")), "resolve");
  EXPECT_EQ(text(event.at("dedup_key")), "inc-7");
  EXPECT_FALSE(event.contains("payload"));
}

TEST(PagerDutyPayload, SummaryAtMost1024CharactersAndSourceDefault) {
  Message message = sampleMessage();
  message.facts.erase("service");
  message.subject.clear();
  for (int i = 0; i < 1500; ++i) {
    message.subject += "\xE2\x82\xAC";  // €, three bytes
  }
  const json::object event = pagerDutyPayload(message, "k", "info");
  const std::string summary = text(event.at("payload").at("summary"));
  EXPECT_EQ(characters(summary), 1024u);
  EXPECT_TRUE(validUtf8(summary));
  EXPECT_EQ(text(event.at("payload").at("source")), "lifeboat");
}

TEST(WebhookPayload, EveryFieldWithItsType) {
  Message message = sampleMessage();
  message.resolves = true;
  const json::object payload = webhookPayload(message);
  EXPECT_EQ(payload.size(), 12u);
  EXPECT_EQ(payload.at("id").as_int64(), 42);
  EXPECT_EQ(text(payload.at("dedup_key")), message.dedupKey);
  EXPECT_EQ(text(payload.at("incident")), "inc-7");
  EXPECT_EQ(text(payload.at("audience")), "ops");
  EXPECT_EQ(text(payload.at("channel")), "ops-slack");
  EXPECT_EQ(text(payload.at("trigger")), "opened");
  EXPECT_FALSE(payload.at("drill").as_bool());
  EXPECT_TRUE(payload.at("resolves").as_bool());
  EXPECT_EQ(text(payload.at("subject")), message.subject);
  EXPECT_EQ(text(payload.at("body")), message.body);
  EXPECT_EQ(text(payload.at("facts").at("service")), "payments");
  EXPECT_EQ(text(payload.at("created_at")), "2026-12-06T19:35:43.000Z");
}

TEST(WebhookSignature, HmacSha256OfTimestampDotBody) {
  // Expected value computed independently (Python's hmac module).
  EXPECT_EQ(webhookSignature("Jefe", "1700000000", R"({"a":1})"),
            "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a");
  EXPECT_NE(webhookSignature("Jefe", "1700000001", R"({"a":1})"),
            webhookSignature("Jefe", "1700000000", R"({"a":1})"));
  EXPECT_NE(webhookSignature("Jeff", "1700000000", R"({"a":1})"),
            webhookSignature("Jefe", "1700000000", R"({"a":1})"));
}

TEST(OutcomeName, Names) {
  EXPECT_EQ(outcomeName(Delivery::Outcome::sent), "sent");
  EXPECT_EQ(outcomeName(Delivery::Outcome::retry), "retry");
  EXPECT_EQ(outcomeName(Delivery::Outcome::failed), "failed");
}

}  // namespace
}  // namespace lifeboat::comms
