// send(): secrets resolved per call, the provider's payload posted with
// libcurl (or the email sent over SMTP with STARTTLS), and the answer
// classified as sent, retry or failed.

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstring>

#include "curl_easy.hpp"
#include "email_message.hpp"
#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms {
namespace {

using detail::EasyHandle;
using detail::Secrets;
using detail::StringList;

// Enough of an answer for a one-line detail; the rest is read and dropped.
constexpr std::size_t kMaxAnswerBytes = 4096;

Delivery failed(std::string detail) {
  Delivery delivery;
  delivery.outcome = Delivery::Outcome::failed;
  delivery.detail = std::move(detail);
  return delivery;
}

// resolveSecret() with the error worded for a delivery (it names the
// reference, never a value).
Result<std::string> resolved(std::string_view what, const std::string& value) {
  Result<std::string> secret = resolveSecret(value);
  if (!secret.ok()) {
    return Error{std::string(what) + ": " + secret.error().message, secret.error().hint};
  }
  return secret;
}

std::size_t keepAnswer(char* data, std::size_t size, std::size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  answer->append(data,
                 std::min(bytes, kMaxAnswerBytes - std::min(kMaxAnswerBytes, answer->size())));
  return bytes;
}

struct Upload {
  std::string_view data;
  std::size_t sent = 0;
};

std::size_t readUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t bytes = std::min(size * count, upload->data.size() - upload->sent);
  std::memcpy(buffer, upload->data.data() + upload->sent, bytes);
  upload->sent += bytes;
  return bytes;
}

// POSTs `body` as JSON to `url` with `headers` besides Content-Type.
Delivery postJson(const ChannelSpec& channel, const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers, const Secrets& secrets) {
  char errorBuffer[CURL_ERROR_SIZE];
  EasyHandle handle =
      detail::makeHandle("http,https", channel.caFile, channel.timeout, errorBuffer);
  StringList list;
  bool listed = handle != nullptr && detail::append(list, "Content-Type: application/json") &&
                detail::append(list, "Expect:");
  for (const std::string& header : headers) {
    listed = listed && detail::append(list, header);
  }
  if (!listed) {
    return Delivery{Delivery::Outcome::retry, "cannot prepare the request (libcurl)", 0, {}};
  }
  std::string answer;
  CURL* h = handle.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lifeboat/1");
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keepAnswer);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  if (const CURLcode code = curl_easy_perform(h); code != CURLE_OK) {
    return detail::transferFailure(code, errorBuffer, channel.timeout, secrets);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t retryAfter = 0;
  curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retryAfter);
  return detail::httpAnswer(status, static_cast<long long>(retryAfter), answer, secrets);
}

Delivery sendHttp(const ChannelSpec& channel, const Message& message) {
  std::string reference = channel.url;
  if (reference.empty() && channel.kind == ChannelKind::pagerduty) {
    reference = kPagerDutyEventsUrl;
  }
  if (reference.empty()) {
    return failed("the channel has no url");
  }
  Result<std::string> url = resolved("url", reference);
  if (!url.ok()) {
    return failed(url.error().message);
  }
  Result<std::string> secret = resolved("secret", channel.secret);
  if (!secret.ok()) {
    return failed(secret.error().message);
  }
  Secrets secrets{*url, *secret, channel.url, channel.secret};
  detail::addUrlParts(*url, secrets);

  std::string body;
  std::vector<std::string> headers;
  switch (channel.kind) {
    case ChannelKind::slack:
      body = boost::json::serialize(slackPayload(message));
      break;
    case ChannelKind::teams:
      body = boost::json::serialize(teamsPayload(message));
      break;
    case ChannelKind::pagerduty: {
      if (secret->empty()) {
        return failed("the channel has no routing key (secret)");
      }
      if (message.resolves && message.incident.empty()) {
        return failed("a PagerDuty resolve needs the incident's key");
      }
      static constexpr std::array<std::string_view, 4> kSeverities{"critical", "error", "warning",
                                                                   "info"};
      if (std::find(kSeverities.begin(), kSeverities.end(), channel.severity) ==
          kSeverities.end()) {
        return failed("severity must be critical, error, warning or info");
      }
      body = boost::json::serialize(pagerDutyPayload(message, *secret, channel.severity));
      break;
    }
    case ChannelKind::webhook: {
      if (secret->empty()) {
        return failed("the channel has no HMAC key (secret)");
      }
      body = boost::json::serialize(webhookPayload(message));
      const std::string timestamp =
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
      headers.push_back("X-Lifeboat-Timestamp: " + timestamp);
      headers.push_back("X-Lifeboat-Signature: " + webhookSignature(*secret, timestamp, body));
      headers.push_back("Idempotency-Key: " + detail::headerText(message.dedupKey));
      break;
    }
    case ChannelKind::email:
      return failed("not an HTTP channel");
  }
  return postJson(channel, *url, body, headers, secrets);
}

Delivery sendEmail(const ChannelSpec& channel, const Message& message) {
  if (!channel.smtpUrl.starts_with("smtp://") && !channel.smtpUrl.starts_with("smtps://")) {
    return failed("smtp_url must start with smtp:// (STARTTLS) or smtps:// (TLS)");
  }
  if (channel.from.empty() || channel.to.empty()) {
    return failed("the channel needs from and at least one to");
  }
  Result<std::string> password = resolved("password", channel.password);
  if (!password.ok()) {
    return failed(password.error().message);
  }
  const Secrets secrets{*password, channel.password, channel.username, channel.smtpUrl};

  char errorBuffer[CURL_ERROR_SIZE];
  EasyHandle handle =
      detail::makeHandle("smtp,smtps", channel.caFile, channel.timeout, errorBuffer);
  StringList recipients;
  bool listed = handle != nullptr;
  for (const std::string& recipient : channel.to) {
    listed = listed && detail::append(recipients, detail::envelopeAddress(recipient));
  }
  if (!listed) {
    return Delivery{Delivery::Outcome::retry, "cannot prepare the message (libcurl)", 0, {}};
  }
  const std::string text = emailMessage(channel, message);
  const std::string from = detail::envelopeAddress(channel.from);
  Upload upload{text};
  CURL* h = handle.get();
  curl_easy_setopt(h, CURLOPT_URL, channel.smtpUrl.c_str());
  // smtp://: STARTTLS or nothing (libcurl ends the session when the server
  // does not offer it, before any login or address is sent).
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  if (!channel.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, channel.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password->c_str());
  }
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text.size()));
  curl_easy_setopt(h, CURLOPT_READFUNCTION, readUpload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  const CURLcode code = curl_easy_perform(h);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  if (code == CURLE_OK) {
    return Delivery{
        Delivery::Outcome::sent, "SMTP " + std::to_string(reply), static_cast<int>(reply), {}};
  }
  if (code != CURLE_USE_SSL_FAILED && code != CURLE_LOGIN_DENIED && reply >= 400 && reply <= 599) {
    // The server refused a command: 4xx says try later, 5xx never.
    return Delivery{reply < 500 ? Delivery::Outcome::retry : Delivery::Outcome::failed,
                    "SMTP " + std::to_string(reply) + " (" + curl_easy_strerror(code) + ")",
                    static_cast<int>(reply),
                    {}};
  }
  Delivery delivery = detail::transferFailure(code, errorBuffer, channel.timeout, secrets);
  delivery.status = static_cast<int>(reply >= 400 ? reply : 0);
  return delivery;
}

}  // namespace

Delivery send(const ChannelSpec& channel, const Message& message) {
  if (channel.kind == ChannelKind::email) {
    return sendEmail(channel, message);
  }
  return sendHttp(channel, message);
}

}  // namespace lifeboat::comms
