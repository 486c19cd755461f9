#pragma once
// Sending one message on one channel (docs/communications.md, "Channels"):
// the payload each provider documents, built with Boost.JSON (no text is
// ever pasted into a payload format), and the request made with libcurl.
//
// A send either succeeded, failed in a way worth retrying (connection
// refused, timeout, HTTP 408/429/5xx; Retry-After honoured), or failed for
// good (HTTP 4xx other than 408/429, a secret that does not resolve, a bad
// address). `detail` never holds a secret: not the URL of a Slack or Teams
// webhook, not a key, not a password.

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "lifeboat/comms/message.hpp"
#include "lifeboat/comms/plan.hpp"

namespace lifeboat::comms {

struct Delivery {
  enum class Outcome { sent, retry, failed };
  Outcome outcome = Outcome::failed;
  std::string detail{};  // one line for people: "HTTP 503", "connection refused"
  int status = 0;        // HTTP status or SMTP reply code; 0 when none
  std::optional<Milliseconds> retryAfter{};  // the receiver asked for this pause
};

// Payloads (pure; tests check them against the providers' documented shapes).
// Slack incoming webhook: {"text", "blocks": [header, section (mrkdwn,
// &<> escaped), context]}.
boost::json::object slackPayload(const Message& message);
// Microsoft Teams incoming webhook: a message with one Adaptive Card
// attachment ({"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":{...}}]}).
boost::json::object teamsPayload(const Message& message);
// Generic webhook: {"id","dedup_key","incident","audience","trigger","drill",
// "resolves","subject","body","facts","created_at"}.
boost::json::object webhookPayload(const Message& message);
// PagerDuty Events API v2: {"routing_key","event_action" (trigger|resolve),
// "dedup_key" (the incident), "payload":{"summary","source","severity",
// "custom_details"}} (payload left out for resolve).
boost::json::object pagerDutyPayload(const Message& message, const std::string& routingKey,
                                     const std::string& severity);
// The webhook's signature header value: "sha256=" + hex HMAC-SHA256 of
// "<timestamp>.<body>" with the key; sent as X-Lifeboat-Signature beside
// X-Lifeboat-Timestamp (seconds since 1970) and Idempotency-Key (dedup key).
std::string webhookSignature(const std::string& key, const std::string& timestamp,
                             const std::string& body);
// The RFC 5322 message (headers CRLF-safe: subject and names cannot inject a
// header; Message-ID from the dedup key so a resend is recognisable).
std::string emailMessage(const ChannelSpec& channel, const Message& message);

// Sends `message` on `channel` (never on the status page: that one the
// engine publishes itself). Blocks for at most channel.timeout.
Delivery send(const ChannelSpec& channel, const Message& message);

}  // namespace lifeboat::comms
