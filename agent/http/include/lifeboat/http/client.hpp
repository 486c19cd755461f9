#pragma once
// The agent's HTTP client: one synchronous request over libcurl, for `http`
// runbook steps (docs/runbook-reference.md section 9.3) and health checks.
//
// Threads: perform() may be called from any number of threads at once; each
// call uses its own libcurl handles and shares nothing with other calls. The
// first call initialises libcurl once for the process (never cleaned up: the
// agent keeps using it until it exits).
//
// What a request does, whatever the caller sets:
//   - speaks http:// and https:// only, and follows no redirects: a 3xx is a
//     Response like any other status, so a step never reaches a server the
//     runbook does not name;
//   - TLS 1.2 at least (OpenSSL negotiates 1.3 when the server offers it);
//     the server's certificate and host name (or IP address) are verified
//     against `caFile` alone when it is set, else against the system's roots,
//     unless `insecureSkipVerify`;
//   - proxies: libcurl's defaults apply, so the `http_proxy`, `https_proxy`
//     and `no_proxy` variables of the agent's environment are honoured;
//   - sends `User-Agent: lifeboat/1` unless the caller sets a User-Agent, no
//     `Expect: 100-continue`, and no Content-Type unless the caller sets one;
//   - never logs anything and installs no signal handlers (CURLOPT_NOSIGNAL).
//
// Secrets: header values and bodies may hold credentials, so no Error ever
// quotes a header value or a body. Errors do name the URL, which may itself
// carry a secret (a token in the query, `user:password@`): callers redact
// URLs they got from a runbook before showing a message.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::http {

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH or DELETE
  std::string url;             // http://… or https://…
  // Sent in this order. Names and values may not contain CR, LF or NUL; a name
  // may not be empty or contain ':'.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when not empty; HEAD refuses one
  // PEM files. `caFile` empty = the system's roots. `clientCertificate` set
  // and `clientKey` empty = the key is in the certificate's file.
  std::string caFile;
  std::string clientCertificate;
  std::string clientKey;
  bool insecureSkipVerify = false;
  // Connect to this unix domain socket instead of the URL's host and port
  // (the URL still gives the path and the Host header): the agent's local
  // control socket. Empty = TCP as usual.
  std::string unixSocket;
  // The whole request: resolving, connecting, TLS, sending and reading the
  // entire response. Must be more than zero.
  std::chrono::milliseconds timeout{30'000};
  // The response body is kept up to this many bytes; the rest is read and
  // dropped (so the connection ends cleanly) and `bodyTruncated` is set.
  std::size_t maxBodyBytes = 1024 * 1024;
  // Polled on the calling thread about every 50 ms while the request runs
  // (and once before it starts); returning true aborts the request. Empty =
  // never cancelled.
  std::function<bool()> cancelled;
};

struct Response {
  int status = 0;
  std::string body;  // at most maxBodyBytes; empty for HEAD
  bool bodyTruncated = false;
  std::chrono::milliseconds elapsed{0};  // from the call to the end of the response
};

// Why a request produced no Response. `none` exactly when the result holds a
// Response (whatever its status: a 404 or a 503 is a Response).
enum class Failure {
  none,
  invalidRequest,  // refused before any network traffic: method, URL, header,
                   // timeout; retrying cannot help
  transport,       // resolving, connecting, TLS (certificates), or the
                   // connection broke before a complete response
  timedOut,        // Request::timeout passed
  cancelled,       // Request::cancelled returned true
};

struct Outcome {
  // The Response, or an Error whose message names the method, the URL and
  // what went wrong ("GET https://… timed out after 2s", "GET https://…
  // cancelled", "GET https://…: TLS: the server's certificate was not
  // accepted: <libcurl's reason>") and whose hint says what to check. A
  // timeout or cancel after the headers arrived still yields no Response.
  Result<Response> result;
  Failure failure = Failure::none;
};

// Performs `request` and waits for it on the calling thread; never gives up
// before the timeout, and returns within about 50 ms of it or of `cancelled`
// turning true. Never throws (std::bad_alloc aside).
Outcome perform(const Request& request);

// The check of an `http` step: the status must be one of `expectStatus` (an
// empty list means {200}, the runbook's default) and the body must contain
// `expectBody` (empty = any body). Returns "" when the response passes, else
// a one-line reason, e.g. "status 503, expected 200 or 204" or "body does not
// contain the expected text". The reason never quotes the body or the
// expected text (either may be secret).
std::string checkResponse(const Response& response, const std::vector<int>& expectStatus,
                          std::string_view expectBody);

// The enumerator's name ("none", "timedOut", …), for events and reports.
std::string_view failureName(Failure failure);

}  // namespace lifeboat::http
