#pragma once
// libcurl, loaded when the first request is made rather than when the agent
// starts. libcurl brings a long chain of libraries (GnuTLS, Kerberos, LDAP,
// libssh2, ...: about 4 MB of resident pages), which a run without `http`
// steps never needs. Only the functions the client uses are looked up.
//
// Thread-safety: curlApi() may be called from any thread; the library is
// loaded and curl_global_init() run exactly once.

#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK  // the type-checking macros hide the functions
#endif
#include <curl/curl.h>

#include <string>

#include "lifeboat/common/result.hpp"

namespace lifeboat::http::detail {

struct CurlApi {
  decltype(&curl_global_init) globalInit = nullptr;
  decltype(&curl_easy_init) easyInit = nullptr;
  decltype(&curl_easy_cleanup) easyCleanup = nullptr;
  decltype(&curl_easy_setopt) easySetopt = nullptr;
  decltype(&curl_easy_getinfo) easyGetinfo = nullptr;
  decltype(&curl_easy_strerror) easyStrerror = nullptr;
  decltype(&curl_multi_init) multiInit = nullptr;
  decltype(&curl_multi_cleanup) multiCleanup = nullptr;
  decltype(&curl_multi_add_handle) multiAddHandle = nullptr;
  decltype(&curl_multi_remove_handle) multiRemoveHandle = nullptr;
  decltype(&curl_multi_perform) multiPerform = nullptr;
  decltype(&curl_multi_poll) multiPoll = nullptr;
  decltype(&curl_multi_info_read) multiInfoRead = nullptr;
  decltype(&curl_multi_strerror) multiStrerror = nullptr;
  decltype(&curl_slist_append) slistAppend = nullptr;
  decltype(&curl_slist_free_all) slistFreeAll = nullptr;
};

// The loaded and initialised library, or an Error saying why not (libcurl4
// not installed, a symbol missing, curl_global_init failed). The answer of
// the first call is kept.
Result<const CurlApi*> curlApi();

}  // namespace lifeboat::http::detail
