#pragma once
// The libcurl handle of one send and what every transfer shares: global
// initialisation once per process, TLS 1.2 at least with verified peers, a
// deadline, no signals, no redirects; and the outcome of a finished
// transfer turned into a Delivery whose detail holds no secret.

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms::detail {

struct EasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;

struct ListCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using StringList = std::unique_ptr<curl_slist, ListCleanup>;
// Appends `item` (copied by libcurl); false when memory ran out.
bool append(StringList& list, const std::string& item);

// A fresh handle with the shared options set, or nullptr when libcurl
// cannot be initialised or the handle cannot be made. `protocols` is
// libcurl's list ("http,https", "smtp,smtps"); `caFile` "" = the system's
// roots. `errorBuffer` must outlive the handle (CURL_ERROR_SIZE bytes).
EasyHandle makeHandle(std::string_view protocols, const std::string& caFile, Milliseconds timeout,
                      char* errorBuffer);

// Values that must never appear in a detail: resolved URLs, keys,
// passwords, user names (empty ones are ignored).
using Secrets = std::vector<std::string>;

// Adds the parts of `url` an answer might quote without the rest: its path
// and query, each path segment of 8 characters or more (a webhook's token),
// and user information.
void addUrlParts(std::string_view url, Secrets& secrets);

// `text` for a detail, or "" when it quotes a secret or a URL.
std::string safeText(std::string_view text, const Secrets& secrets);

// The Delivery of a transfer that failed before a complete answer: `code`
// with libcurl's error text (kept only when safeText allows it).
Delivery transferFailure(CURLcode code, std::string_view errorText, Milliseconds timeout,
                         const Secrets& secrets);

// The Delivery of an HTTP answer: 2xx sent; 408, 429 and 5xx retry (with
// `retryAfterSeconds` when more than 0); anything else failed. `body`'s
// beginning goes into the detail when it quotes no secret.
Delivery httpAnswer(long status, long long retryAfterSeconds, std::string_view body,
                    const Secrets& secrets);

}  // namespace lifeboat::comms::detail
