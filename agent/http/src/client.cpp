#include "lifeboat/http/client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>

#include "curl_api.hpp"
#include "lifeboat/common/duration.hpp"

namespace lifeboat::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often `Request::cancelled` is polled while a transfer waits for the
// network; also the most a timeout can be overshot by our own deadline check.
constexpr milliseconds kPollInterval{50};
constexpr const char* kUserAgent = "lifeboat/1";
// libcurl's own timeout is only a backstop behind the deadline perform()
// enforces (see the transfer loop), so it is set this much later.
constexpr milliseconds kLibcurlTimeoutSlack{1'000};

// The library, once perform() has loaded it (deleters run only after that).
const detail::CurlApi& curl() {
  return *detail::curlApi().value();
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl().easyCleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl().multiCleanup(multi); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl().slistFreeAll(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

// Keeps the easy handle attached to the multi handle for the life of the
// transfer, and detaches it before either is destroyed (libcurl requires the
// removal before curl_easy_cleanup).
class Attachment {
 public:
  Attachment(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) {}
  ~Attachment() { curl().multiRemoveHandle(multi_, easy_); }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

 private:
  CURLM* multi_;
  CURL* easy_;
};

// Where the write callback puts the response body.
struct BodySink {
  std::string body;
  std::size_t limit = 0;
  bool truncated = false;
};

std::size_t writeBody(char* data, std::size_t size, std::size_t count, void* context) {
  auto* sink = static_cast<BodySink*>(context);
  const std::size_t bytes = size * count;
  const std::size_t room = sink->limit - std::min(sink->limit, sink->body.size());
  if (bytes > room) {
    sink->truncated = true;
  }
  sink->body.append(data, std::min(bytes, room));
  return bytes;  // everything "written": the rest is dropped, not refused
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equalsIgnoringCase(text.substr(0, prefix.size()), prefix);
}

bool hasHeader(const Request& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& header) { return equalsIgnoringCase(header.first, name); });
}

bool isKnownMethod(std::string_view method) {
  constexpr std::array<std::string_view, 6> kMethods{"GET", "HEAD",  "POST",
                                                     "PUT", "PATCH", "DELETE"};
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

// "GET https://host/path": how every message about a request begins. The URL
// is the caller's to redact (see the header).
std::string describe(const Request& request) {
  return request.method + " " + request.url;
}

Outcome fail(Failure failure, std::string message, std::string hint) {
  return Outcome{Error{std::move(message), std::move(hint)}, failure};
}

// Refuses what libcurl would misread or what would let a value escape its
// header. Messages name headers by name only: values may be secret.
std::optional<Outcome> checkRequest(const Request& request) {
  const std::string what = describe(request);
  if (!isKnownMethod(request.method)) {
    return fail(Failure::invalidRequest,
                "HTTP request " + what + ": unsupported method '" + request.method + "'",
                "use GET, HEAD, POST, PUT, PATCH or DELETE (upper case)");
  }
  if (!startsWithIgnoringCase(request.url, "http://") &&
      !startsWithIgnoringCase(request.url, "https://")) {
    return fail(Failure::invalidRequest, what + ": the URL must start with http:// or https://",
                "check the URL, and that any reference in it expanded to what you expect");
  }
  if (request.method == "HEAD" && !request.body.empty()) {
    return fail(Failure::invalidRequest, what + ": a HEAD request cannot carry a body",
                "remove the body, or use another method");
  }
  if (request.timeout <= milliseconds::zero()) {
    return fail(Failure::invalidRequest, what + ": the timeout must be more than 0",
                "give the request a positive timeout");
  }
  for (const auto& [name, value] : request.headers) {
    const bool badName =
        name.empty() || name.find_first_of(std::string_view(":\r\n\0 \t", 6)) != std::string::npos;
    if (badName) {
      return fail(Failure::invalidRequest, what + ": invalid header name '" + name + "'",
                  "a header name is a non-empty token without spaces, ':' or line breaks");
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fail(Failure::invalidRequest,
                  what + ": the value of header '" + name + "' contains a line break or NUL",
                  "a header value must be a single line; check what its references expand to");
    }
  }
  return std::nullopt;
}

// libcurl's own words for a failure: the error buffer when it says something,
// else the generic text of the code.
std::string curlReason(CURLcode code, const char* errorBuffer) {
  std::string reason = errorBuffer;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
    reason.pop_back();
  }
  return reason.empty() ? std::string(curl().easyStrerror(code)) : reason;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Turns a libcurl failure into a message that names the stage and a hint that
// says what to check. `reason` is libcurl's text (never holds header values
// or bodies: libcurl does not quote them in its error buffer).
Outcome transportFailure(const Request& request, CURLcode code, const std::string& reason) {
  const std::string what = describe(request);
  const bool tls = startsWithIgnoringCase(request.url, "https://");
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return fail(Failure::invalidRequest, what + ": invalid URL: " + reason,
                  "check the URL, and that any reference in it expanded to what you expect");
    case CURLE_COULDNT_RESOLVE_HOST:
      return fail(Failure::transport, what + ": cannot resolve the host: " + reason,
                  "check the host name in the URL and the agent's DNS settings");
    case CURLE_COULDNT_RESOLVE_PROXY:
      return fail(Failure::transport, what + ": cannot resolve the proxy: " + reason,
                  "check the http_proxy/https_proxy/no_proxy variables of the agent's environment");
    case CURLE_COULDNT_CONNECT:
      return fail(Failure::transport, what + ": cannot connect: " + reason,
                  "check that the server is running and listening on that address and port, "
                  "and that no firewall is in the way");
    case CURLE_PEER_FAILED_VERIFICATION:
      return fail(Failure::transport,
                  what + ": TLS: the server's certificate was not accepted: " + reason,
                  request.caFile.empty()
                      ? "the certificate must be signed by a CA among the system's roots and name "
                        "the URL's host in its subjectAltName; for a private CA set ca_file"
                      : "check that ca_file (" + request.caFile +
                            ") holds the CA that signed the server's certificate, and that the "
                            "certificate names the URL's host in its subjectAltName");
    case CURLE_SSL_CACERT_BADFILE:
      return fail(Failure::transport, what + ": TLS: cannot use the CA file: " + reason,
                  "check that ca_file (" + request.caFile +
                      ") exists, is readable by the agent and holds PEM certificates");
    case CURLE_SSL_CERTPROBLEM:
      return fail(Failure::transport, what + ": TLS: cannot use the client certificate: " + reason,
                  "check that client_cert and client_key are readable PEM files and that the key "
                  "belongs to the certificate");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      break;  // below: the alert in libcurl's text says more than the code
    case CURLE_GOT_NOTHING:
      return fail(Failure::transport, what + ": the server closed the connection without answering",
                  "check the server's logs, and that the URL's scheme (http/https) matches what "
                  "the port speaks");
    case CURLE_WEIRD_SERVER_REPLY:
      return fail(Failure::transport, what + ": the server's answer is not HTTP: " + reason,
                  "check that the URL's port is the HTTP service's and its scheme (http/https) "
                  "matches what the port speaks");
    case CURLE_TOO_MANY_REDIRECTS:
    default:
      return fail(Failure::transport, what + ": request failed: " + reason,
                  "check that the server is reachable and healthy");
  }
  // A TLS handshake problem or a connection that broke. With TLS 1.3 the
  // server's verdict on our certificate arrives as an alert after the client
  // thinks the handshake is done, so it can surface as a receive error.
  if (contains(reason, "certificate required")) {
    return fail(Failure::transport,
                what + ": TLS: the server requires a client certificate: " + reason,
                request.clientCertificate.empty()
                    ? "set client_cert and client_key to a certificate the server trusts"
                    : "check that client_cert is the certificate the server expects");
  }
  if (contains(reason, "unknown ca") || contains(reason, "bad certificate") ||
      contains(reason, "certificate unknown") || contains(reason, "unsupported certificate")) {
    return fail(Failure::transport,
                what + ": TLS: the server refused the client certificate: " + reason,
                "check that client_cert is signed by a CA the server trusts and is not expired");
  }
  if (contains(reason, "wrong version number") || contains(reason, "packet length too long")) {
    return fail(
        Failure::transport, what + ": TLS handshake failed: " + reason,
        "the port does not seem to speak TLS: check the URL's scheme (http/https) and port");
  }
  if (tls &&
      (code == CURLE_SSL_CONNECT_ERROR || contains(reason, "SSL") || contains(reason, "TLS"))) {
    return fail(Failure::transport, what + ": TLS handshake failed: " + reason,
                "check that the server speaks TLS 1.2 or later, and for mutual TLS that "
                "client_cert and client_key are what the server expects");
  }
  return fail(Failure::transport, what + ": the connection broke: " + reason,
              tls ? "check the server's logs and the network between the agent and the server; a "
                    "server that requires a client certificate may drop the connection when it "
                    "rejects client_cert"
                  : "check the server's logs and the network between the agent and the server");
}

Outcome timedOut(const Request& request) {
  return fail(Failure::timedOut,
              describe(request) + " timed out after " + formatDuration(request.timeout),
              "check that the server is up and not overloaded, or allow a longer timeout");
}

Outcome cancelled(const Request& request) {
  return fail(Failure::cancelled, describe(request) + " cancelled", "");
}

// The request's headers for libcurl, plus the removals of libcurl's own
// defaults we do not want. Empty values use libcurl's "Name;" form (a bare
// "Name:" would remove the header instead of sending it empty).
Result<HeaderList> buildHeaders(const Request& request, bool sendsBody) {
  HeaderList list;
  auto append = [&list](const std::string& line) {
    curl_slist* extended = curl().slistAppend(list.get(), line.c_str());
    if (extended == nullptr) {
      return false;
    }
    static_cast<void>(list.release());
    list.reset(extended);
    return true;
  };
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    ok = ok && append(value.empty() ? name + ";" : name + ": " + value);
  }
  if (!hasHeader(request, "Expect")) {
    ok = ok && append("Expect:");  // no 100-continue round trip for larger bodies
  }
  if (sendsBody && !hasHeader(request, "Content-Type")) {
    ok = ok && append("Content-Type:");  // not libcurl's form-urlencoded guess
  }
  if (!ok) {
    return Error{describe(request) + ": out of memory while preparing the headers", ""};
  }
  return list;
}

template <class Value>
bool setOption(CURL* easy, CURLoption option, Value value) {
  return curl().easySetopt(easy, option, value) == CURLE_OK;
}

}  // namespace

Outcome perform(const Request& request) {
  const Clock::time_point start = Clock::now();
  if (std::optional<Outcome> refused = checkRequest(request)) {
    return std::move(*refused);
  }
  if (request.cancelled && request.cancelled()) {
    return cancelled(request);
  }
  if (Result<const detail::CurlApi*> api = detail::curlApi(); !api) {
    return fail(Failure::transport, describe(request) + ": " + api.error().message,
                api.error().hint);
  }

  const EasyHandle easyHandle(curl().easyInit());
  const MultiHandle multiHandle(curl().multiInit());
  if (!easyHandle || !multiHandle) {
    return fail(Failure::transport, describe(request) + ": cannot create a libcurl handle",
                "check the agent's memory");
  }
  CURL* easy = easyHandle.get();

  // Capped so that the deadline below cannot overflow.
  const milliseconds timeout = std::min<milliseconds>(request.timeout, kMaxDuration);
  const bool sendsBody = request.method == "POST" || request.method == "PUT" ||
                         request.method == "PATCH" || !request.body.empty();
  Result<HeaderList> headers = buildHeaders(request, sendsBody);
  if (!headers) {
    return fail(Failure::transport, headers.error().message, headers.error().hint);
  }

  std::array<char, CURL_ERROR_SIZE> errorBuffer{};
  BodySink sink;
  sink.limit = request.maxBodyBytes;

  bool ok = setOption(easy, CURLOPT_ERRORBUFFER, errorBuffer.data()) &&
            setOption(easy, CURLOPT_NOSIGNAL, 1L) &&
            setOption(easy, CURLOPT_URL, request.url.c_str()) &&
            setOption(easy, CURLOPT_PROTOCOLS_STR, "http,https") &&
            setOption(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") &&
            setOption(easy, CURLOPT_FOLLOWLOCATION, 0L) &&
            setOption(easy, CURLOPT_TIMEOUT_MS,
                      static_cast<long>((timeout + kLibcurlTimeoutSlack).count())) &&
            setOption(easy, CURLOPT_USERAGENT, kUserAgent) &&
            setOption(easy, CURLOPT_HTTPHEADER, headers->get()) &&
            setOption(easy, CURLOPT_WRITEFUNCTION, &writeBody) &&
            setOption(easy, CURLOPT_WRITEDATA, static_cast<void*>(&sink)) &&
            setOption(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));

  if (request.method == "HEAD") {
    ok = ok && setOption(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" && request.method != "POST") {
    ok = ok && setOption(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method == "GET" && sendsBody) {
    // POSTFIELDS below would turn it into a POST otherwise.
    ok = ok && setOption(easy, CURLOPT_CUSTOMREQUEST, "GET");
  }
  if (sendsBody) {
    // libcurl reads the body from request.body in place; `request` outlives
    // the transfer.
    ok = ok &&
         setOption(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request.body.size())) &&
         setOption(easy, CURLOPT_POSTFIELDS, request.body.data());
  }

  if (!request.unixSocket.empty()) {
    ok = ok && setOption(easy, CURLOPT_UNIX_SOCKET_PATH, request.unixSocket.c_str());
  }
  if (!request.caFile.empty()) {
    // Only this file: without clearing CAPATH, Debian's libcurl would also
    // trust every CA in /etc/ssl/certs.
    ok = ok && setOption(easy, CURLOPT_CAINFO, request.caFile.c_str()) &&
         setOption(easy, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  if (!request.clientCertificate.empty()) {
    ok = ok && setOption(easy, CURLOPT_SSLCERT, request.clientCertificate.c_str()) &&
         setOption(easy, CURLOPT_SSLCERTTYPE, "PEM");
    if (!request.clientKey.empty()) {
      ok = ok && setOption(easy, CURLOPT_SSLKEY, request.clientKey.c_str()) &&
           setOption(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
  if (request.insecureSkipVerify) {
    ok = ok && setOption(easy, CURLOPT_SSL_VERIFYPEER, 0L) &&
         setOption(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!ok) {
    return fail(Failure::transport, describe(request) + ": libcurl refused an option",
                "the agent's libcurl may be older than 7.85 or built without TLS");
  }

  if (curl().multiAddHandle(multiHandle.get(), easy) != CURLM_OK) {
    return fail(Failure::transport, describe(request) + ": cannot start the transfer",
                "check the agent's memory");
  }
  const Attachment attachment(multiHandle.get(), easy);

  // Drive the transfer ourselves so that `cancelled` is polled at a steady
  // pace whatever the network does, and to enforce the timeout here: libcurl
  // rounds elapsed time up to whole milliseconds and may give up a fraction
  // of a millisecond early, while the contract is "not before the timeout".
  const Clock::time_point deadline = start + timeout;
  for (;;) {
    int running = 0;
    const CURLMcode progressed = curl().multiPerform(multiHandle.get(), &running);
    if (progressed != CURLM_OK) {
      return fail(Failure::transport,
                  describe(request) + ": transfer failed: " + curl().multiStrerror(progressed),
                  "check the agent's memory and open file limit");
    }
    if (running == 0) {
      break;
    }
    if (request.cancelled && request.cancelled()) {
      return cancelled(request);
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return timedOut(request);
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    const int wait = static_cast<int>(std::min(kPollInterval, left).count());
    if (curl().multiPoll(multiHandle.get(), nullptr, 0, wait, nullptr) != CURLM_OK) {
      return fail(Failure::transport, describe(request) + ": waiting for the network failed",
                  "check the agent's open file limit");
    }
  }

  CURLcode result = CURLE_OK;
  int queued = 0;
  bool finished = false;
  while (CURLMsg* message = curl().multiInfoRead(multiHandle.get(), &queued)) {
    if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
      result = message->data.result;
      finished = true;
    }
  }
  if (!finished) {
    return fail(Failure::transport, describe(request) + ": the transfer ended without a result",
                "this is a bug in the agent or libcurl; please report it");
  }
  if (result == CURLE_OPERATION_TIMEDOUT) {
    return timedOut(request);
  }
  if (result != CURLE_OK) {
    return transportFailure(request, result, curlReason(result, errorBuffer.data()));
  }

  long status = 0;
  curl().easyGetinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  Response response;
  response.status = static_cast<int>(status);
  response.body = std::move(sink.body);
  response.bodyTruncated = sink.truncated;
  response.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return Outcome{std::move(response), Failure::none};
}

std::string checkResponse(const Response& response, const std::vector<int>& expectStatus,
                          std::string_view expectBody) {
  const std::vector<int> statuses = expectStatus.empty() ? std::vector<int>{200} : expectStatus;
  if (std::find(statuses.begin(), statuses.end(), response.status) == statuses.end()) {
    std::string reason = "status " + std::to_string(response.status) + ", expected ";
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      if (i > 0) {
        reason += i + 1 == statuses.size() ? " or " : ", ";
      }
      reason += std::to_string(statuses[i]);
    }
    return reason;
  }
  if (!expectBody.empty() && response.body.find(expectBody) == std::string::npos) {
    if (response.bodyTruncated) {
      return "body does not contain the expected text (only its first " +
             std::to_string(response.body.size()) + " bytes were read)";
    }
    return "body does not contain the expected text";
  }
  return "";
}

std::string_view failureName(Failure failure) {
  switch (failure) {
    case Failure::none:
      return "none";
    case Failure::invalidRequest:
      return "invalidRequest";
    case Failure::transport:
      return "transport";
    case Failure::timedOut:
      return "timedOut";
    case Failure::cancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace lifeboat::http
