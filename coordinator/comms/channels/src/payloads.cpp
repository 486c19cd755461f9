// The JSON payloads of Slack, Microsoft Teams, PagerDuty and the generic
// webhook. Every value goes in through Boost.JSON; the only text formatting
// done here is Slack's mrkdwn escaping and the providers' length limits.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "lifeboat/comms/channels.hpp"
#include "text_limits.hpp"

namespace lifeboat::comms {
namespace {

namespace json = boost::json;

// Slack's limits (Block Kit reference): a header's text 150 characters, a
// text object 3000, a context block 10 elements.
constexpr std::size_t kSlackHeaderLimit = 150;
constexpr std::size_t kSlackTextLimit = 3000;
constexpr std::size_t kSlackContextElements = 10;
// PagerDuty Events API v2: payload.summary at most 1024 characters.
constexpr std::size_t kPagerDutySummaryLimit = 1024;

constexpr std::string_view kDrillMarker = "DRILL: an exercise, not a real incident";

json::object slackText(std::string_view type, std::string text) {
  json::object object{{"type", type}, {"text", std::move(text)}};
  if (type == "mrkdwn") {
    // Keep "@here", channel names and URLs in our text as written.
    object["verbatim"] = true;
  }
  return object;
}

std::string subjectOrDefault(const Message& message) {
  return message.subject.empty() ? std::string("Lifeboat") : message.subject;
}

json::object factsObject(const Facts& facts) {
  json::object object;
  for (const auto& [name, value] : facts) {
    object[name] = value;
  }
  return object;
}

}  // namespace

std::string_view outcomeName(Delivery::Outcome outcome) {
  switch (outcome) {
    case Delivery::Outcome::sent:
      return "sent";
    case Delivery::Outcome::retry:
      return "retry";
    case Delivery::Outcome::failed:
      return "failed";
  }
  return "failed";
}

json::object slackPayload(const Message& message) {
  const std::string subject = subjectOrDefault(message);
  json::array blocks;
  blocks.push_back(json::object{
      {"type", "header"},
      {"text", json::object{{"type", "plain_text"},
                            {"text", detail::truncateCharacters(subject, kSlackHeaderLimit)},
                            {"emoji", true}}}});
  if (!message.body.empty()) {
    blocks.push_back(json::object{
        {"type", "section"},
        {"text", slackText("mrkdwn", detail::slackEscape(message.body, kSlackTextLimit))}});
  }

  json::array context;
  if (message.drill) {
    context.push_back(slackText("mrkdwn", "*" + std::string(kDrillMarker) + "*"));
  }
  std::string about;
  if (!message.incident.empty()) {
    about = "Incident " + message.incident;
  }
  if (!message.trigger.empty()) {
    about += (about.empty() ? "" : " · ") + message.trigger;
  }
  if (message.resolves) {
    about += (about.empty() ? "" : " · ") + std::string("resolved");
  }
  if (!about.empty()) {
    context.push_back(slackText("mrkdwn", detail::slackEscape(about, kSlackTextLimit)));
  }
  std::string facts;
  for (const auto& [name, value] : message.facts) {
    facts += (facts.empty() ? "" : "\n") + name + ": " + value;
  }
  if (!facts.empty() && context.size() < kSlackContextElements) {
    context.push_back(slackText("mrkdwn", detail::slackEscape(facts, kSlackTextLimit)));
  }
  if (!context.empty()) {
    blocks.push_back(json::object{{"type", "context"}, {"elements", std::move(context)}});
  }

  // The top-level text is the notification's fallback; Slack reads it as
  // mrkdwn too.
  return json::object{{"text", detail::slackEscape(subject, kSlackTextLimit)},
                      {"blocks", std::move(blocks)}};
}

json::object teamsPayload(const Message& message) {
  json::array body;
  body.push_back(json::object{{"type", "TextBlock"},
                              {"text", subjectOrDefault(message)},
                              {"weight", "Bolder"},
                              {"size", "Medium"},
                              {"wrap", true}});
  if (message.drill) {
    body.push_back(json::object{{"type", "TextBlock"},
                                {"text", kDrillMarker},
                                {"color", "Attention"},
                                {"weight", "Bolder"},
                                {"wrap", true}});
  }
  if (!message.body.empty()) {
    body.push_back(json::object{{"type", "TextBlock"}, {"text", message.body}, {"wrap", true}});
  }
  json::array facts;
  if (!message.incident.empty()) {
    facts.push_back(json::object{{"title", "incident"}, {"value", message.incident}});
  }
  for (const auto& [name, value] : message.facts) {
    facts.push_back(json::object{{"title", name}, {"value", value}});
  }
  if (!facts.empty()) {
    body.push_back(json::object{{"type", "FactSet"}, {"facts", std::move(facts)}});
  }

  json::object card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                    {"type", "AdaptiveCard"},
                    {"version", "1.4"},
                    {"body", std::move(body)}};
  json::array attachments;
  attachments.push_back(json::object{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                     {"contentUrl", nullptr},
                                     {"content", std::move(card)}});
  return json::object{{"type", "message"}, {"attachments", std::move(attachments)}};
}

json::object webhookPayload(const Message& message) {
  return json::object{{"id", message.id},
                      {"dedup_key", message.dedupKey},
                      {"incident", message.incident},
                      {"audience", message.audience},
                      {"channel", message.channel},
                      {"trigger", message.trigger},
                      {"drill", message.drill},
                      {"resolves", message.resolves},
                      {"subject", message.subject},
                      {"body", message.body},
                      {"facts", factsObject(message.facts)},
                      {"created_at", formatTimestamp(message.createdAt)}};
}

json::object pagerDutyPayload(const Message& message, const std::string& routingKey,
                              const std::string& severity) {
  json::object event{{"routing_key", routingKey},
                     {"event_action", message.resolves ? "resolve" : "trigger"}};
  if (!message.incident.empty()) {
    event["dedup_key"] = message.incident;
  }
  if (message.resolves) {
    return event;
  }
  const auto service = message.facts.find("service");
  const std::string source = service != message.facts.end() && !service->second.empty()
                                 ? service->second
                                 : std::string("lifeboat");
  json::object details = factsObject(message.facts);
  details["body"] = message.body;
  details["audience"] = message.audience;
  details["trigger"] = message.trigger;
  details["drill"] = message.drill;
  event["client"] = "Lifeboat";
  event["payload"] = json::object{
      {"summary", detail::truncateCharacters(subjectOrDefault(message), kPagerDutySummaryLimit)},
      {"source", source},
      {"severity", severity},
      {"timestamp", formatTimestamp(message.createdAt)},
      {"custom_details", std::move(details)}};
  return event;
}

}  // namespace lifeboat::comms
