// The http probe: one request through lifeboat_http; healthy on the one
// expected status.
#include "lifeboat/http/client.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch::probes {
namespace {

// The client's messages start with "METHOD URL"; the detail must not carry
// the URL (it may hold a secret the Redactor does not know as such, e.g. in a
// form it was not registered in), so it is cut out, and any other occurrence
// replaced.
std::string withoutUrl(std::string message, const http::Request& request) {
  const std::string prefix = request.method + " " + request.url;
  if (message.starts_with(prefix + ": ")) {
    message.erase(0, prefix.size() + 2);
  } else if (message.starts_with(prefix + " ")) {
    message.erase(0, prefix.size() + 1);
  }
  if (!request.url.empty()) {
    for (std::size_t at = message.find(request.url); at != std::string::npos;
         at = message.find(request.url, at)) {
      message.replace(at, request.url.size(), "<url>");
      at += 5;
    }
  }
  return message;
}

}  // namespace

Verdict checkHttp(const runbook::Trigger& trigger, const ProbeContext& context) {
  http::Request request;
  request.method = trigger.method.empty() ? "GET" : trigger.method;
  request.url = trigger.url;
  request.timeout = trigger.timeout;
  request.maxBodyBytes = 0;  // only the status matters; the body is read and dropped
  if (context.cancel != nullptr) {
    request.cancelled = [cancel = context.cancel] { return cancel->triggered(); };
  }
  http::Outcome outcome = http::perform(request);
  switch (outcome.failure) {
    case http::Failure::none:
      break;
    case http::Failure::timedOut:
      return {false, timedOutDetail(trigger.timeout)};
    case http::Failure::cancelled:
      return {false, "cancelled"};
    case http::Failure::invalidRequest:
    case http::Failure::transport:
      return {false, clip(redact(context, withoutUrl(outcome.result.error().message, request)),
                          kMaxQuotedBytes)};
  }
  if (!outcome.result) {  // not expected with Failure::none; guards the access below
    return {false, clip(redact(context, withoutUrl(outcome.result.error().message, request)),
                        kMaxQuotedBytes)};
  }
  const int status = outcome.result->status;
  if (status == trigger.expectStatus) {
    return {true, "HTTP " + std::to_string(status)};
  }
  return {false, "HTTP " + std::to_string(status) + " (expected " +
                     std::to_string(trigger.expectStatus) + ")"};
}

}  // namespace lifeboat::watch::probes
