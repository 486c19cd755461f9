#include "curl_easy.hpp"

#include <algorithm>
#include <mutex>

#include "lifeboat/common/text.hpp"

namespace lifeboat::comms::detail {
namespace {

bool curlReady() {
  // curl_global_init is not safe to run beside other libcurl calls: once,
  // here, before the first handle. Never cleaned up: handles may be made
  // until the process exits.
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ready;
}

// Longest pause a receiver may ask for; more is treated as this much.
constexpr long long kMaxRetryAfterSeconds = 24 * 3600;

bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return true;
    default:
      // Refused certificates, logins, protocols, malformed addresses, no
      // STARTTLS: the same request fails the same way until someone fixes
      // the channel.
      return false;
  }
}

std::string whatFailed(CURLcode code, Milliseconds timeout) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return "host name not found";
    case CURLE_COULDNT_CONNECT:
      return "connection refused or unreachable";
    case CURLE_OPERATION_TIMEDOUT:
      return "timed out after " + formatDuration(timeout);
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS: the server's certificate was not accepted";
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS handshake failed";
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: the CA file cannot be read";
    case CURLE_USE_SSL_FAILED:
      return "the SMTP server offers no STARTTLS; refusing to send without TLS";
    case CURLE_LOGIN_DENIED:
      return "login refused";
    case CURLE_URL_MALFORMAT:
      return "malformed address";
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "unsupported protocol in the address";
    default:
      return curl_easy_strerror(code);
  }
}

}  // namespace

bool append(StringList& list, const std::string& item) {
  curl_slist* appended = curl_slist_append(list.get(), item.c_str());
  if (appended == nullptr) {
    return false;
  }
  // curl_slist_append returned the same list with one more item: hand its
  // ownership over without freeing it.
  static_cast<void>(list.release());
  list.reset(appended);
  return true;
}

EasyHandle makeHandle(std::string_view protocols, const std::string& caFile, Milliseconds timeout,
                      char* errorBuffer) {
  if (!curlReady()) {
    return nullptr;
  }
  EasyHandle handle(curl_easy_init());
  if (!handle) {
    return nullptr;
  }
  CURL* h = handle.get();
  const long milliseconds = std::max<long>(1, static_cast<long>(timeout.count()));
  errorBuffer[0] = '\0';
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, milliseconds);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, milliseconds);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, std::string(protocols).c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!caFile.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, caFile.c_str());
  }
  return handle;
}

void addUrlParts(std::string_view url, Secrets& secrets) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return;
  }
  const std::string_view rest = url.substr(scheme + 3);
  const std::size_t pathStart = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, pathStart);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    secrets.emplace_back(authority.substr(0, at));
  }
  if (pathStart == std::string_view::npos) {
    return;
  }
  const std::string_view path = rest.substr(pathStart);
  secrets.emplace_back(path);
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find_first_of("/?&=#", start);
    end = end == std::string_view::npos ? path.size() : end;
    if (end - start >= 8) {
      secrets.emplace_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
}

std::string safeText(std::string_view text, const Secrets& secrets) {
  if (text.find("://") != std::string_view::npos) {
    return "";
  }
  for (const std::string& secret : secrets) {
    if (!secret.empty() && text.find(secret) != std::string_view::npos) {
      return "";
    }
  }
  return std::string(text);
}

Delivery transferFailure(CURLcode code, std::string_view errorText, Milliseconds timeout,
                         const Secrets& secrets) {
  Delivery delivery;
  delivery.outcome = retryable(code) ? Delivery::Outcome::retry : Delivery::Outcome::failed;
  delivery.detail = whatFailed(code, timeout);
  // libcurl's own text adds the reason of TLS failures ("unable to get local
  // issuer certificate"); for the rest the summary says enough.
  const bool tls = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR ||
                   code == CURLE_SSL_CACERT_BADFILE;
  if (tls) {
    const std::string reason = safeText(errorText, secrets);
    if (!reason.empty()) {
      delivery.detail += ": " + quotedSafely(reason, 160);
    }
  }
  return delivery;
}

Delivery httpAnswer(long status, long long retryAfterSeconds, std::string_view body,
                    const Secrets& secrets) {
  Delivery delivery;
  delivery.status = static_cast<int>(status);
  delivery.detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status <= 299) {
    delivery.outcome = Delivery::Outcome::sent;
    return delivery;
  }
  const bool retry = status == 408 || status == 429 || (status >= 500 && status <= 599);
  delivery.outcome = retry ? Delivery::Outcome::retry : Delivery::Outcome::failed;
  if (retry && retryAfterSeconds > 0) {
    delivery.retryAfter = std::chrono::seconds(std::min(retryAfterSeconds, kMaxRetryAfterSeconds));
  }
  if (status >= 300 && status <= 399) {
    delivery.detail += " (redirects are not followed)";
  }
  // The whole body is checked, so that no part of a secret is quoted either.
  const std::string excerpt = safeText(body, secrets);
  if (!excerpt.empty()) {
    delivery.detail += ": " + quotedSafely(excerpt, 120);
  }
  return delivery;
}

}  // namespace lifeboat::comms::detail
