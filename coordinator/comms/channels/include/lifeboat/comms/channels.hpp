#pragma once
// Sending one message on one channel (docs/communications.md, "Channels"):
// the payload each provider documents, built with Boost.JSON (no text is
// ever pasted into a payload format), and the request made with libcurl.
//
// A send either succeeded, failed in a way worth retrying (connection
// refused, timeout, HTTP 408/429/5xx, SMTP 4xx; Retry-After honoured), or
// failed for good (HTTP 3xx and 4xx other than 408/429, SMTP 5xx, a refused
// TLS peer or login, an SMTP server without STARTTLS, a secret that does not
// resolve, a bad address). `detail` never holds a secret: not the URL of a
// Slack or Teams webhook, not a key, not a user name or password.
//
// Threads: every function may be called from any number of threads at once;
// send() uses its own libcurl handle per call and shares nothing.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

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
// "sent", "retry", "failed".
std::string_view outcomeName(Delivery::Outcome outcome);

// Payloads (pure; tests check them against the providers' documented shapes).
// Slack incoming webhook: {"text", "blocks": [header (plain_text, at most 150
// characters), section (mrkdwn, &<> escaped, at most 3000), context (drill
// marker, incident, trigger; the facts)]}.
boost::json::object slackPayload(const Message& message);
// Microsoft Teams incoming webhook: a message with one Adaptive Card 1.4
// attachment ({"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":{...}}]}); the card's
// body: the subject, a drill marker, the body, a FactSet of the facts.
boost::json::object teamsPayload(const Message& message);
// Generic webhook: {"id","dedup_key","incident","audience","channel",
// "trigger","drill","resolves","subject","body","facts","created_at"}.
boost::json::object webhookPayload(const Message& message);
// PagerDuty Events API v2: {"routing_key","event_action" (trigger|resolve),
// "dedup_key" (the incident; left out when empty), "client",
// "payload":{"summary" (at most 1024 characters),"source","severity",
// "custom_details"}} (payload left out for resolve). `source` is the
// "service" fact, else "lifeboat".
boost::json::object pagerDutyPayload(const Message& message, const std::string& routingKey,
                                     const std::string& severity);
// The webhook's signature header value: "sha256=" + hex HMAC-SHA256 of
// "<timestamp>.<body>" with the key; sent as X-Lifeboat-Signature beside
// X-Lifeboat-Timestamp (seconds since 1970) and Idempotency-Key (dedup key).
std::string webhookSignature(const std::string& key, const std::string& timestamp,
                             const std::string& body);
// The RFC 5322 message, CRLF line ends (headers CRLF-safe: subject, names
// and addresses cannot inject a header; a non-ASCII subject is RFC 2047
// encoded; Message-ID from the dedup key so a resend is recognisable; Date
// from message.createdAt; text/plain UTF-8, quoted-printable). Lines that
// start with "." are left as they are: libcurl dot-stuffs while sending.
std::string emailMessage(const ChannelSpec& channel, const Message& message);

// Sends `message` on `channel` (never on the status page: that one the
// engine publishes itself). Blocks for at most about channel.timeout.
// Secrets (channel.url, secret, password) are resolved here, per call.
Delivery send(const ChannelSpec& channel, const Message& message);

}  // namespace lifeboat::comms
