#include "curl_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <optional>

namespace lifeboat::http::detail {
namespace {

// The soname of Debian 12's libcurl4 (libcurl4-openssl-dev links against it).
constexpr const char* kLibrary = "libcurl.so.4";

template <class Function>
bool lookUp(void* library, const char* name, Function& function, std::string& missing) {
  function = reinterpret_cast<Function>(::dlsym(library, name));
  if (function == nullptr) {
    missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  return function != nullptr;
}

Result<const CurlApi*> load() {
  // Never unloaded: libcurl keeps global state, and handles may outlive any
  // one request.
  void* library = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* reason = ::dlerror();
    return Error{std::string("cannot load ") + kLibrary + ": " +
                     (reason != nullptr ? reason : "unknown reason"),
                 "install the libcurl4 package"};
  }
  static CurlApi api;
  std::string missing;
  lookUp(library, "curl_global_init", api.globalInit, missing);
  lookUp(library, "curl_easy_init", api.easyInit, missing);
  lookUp(library, "curl_easy_cleanup", api.easyCleanup, missing);
  lookUp(library, "curl_easy_setopt", api.easySetopt, missing);
  lookUp(library, "curl_easy_getinfo", api.easyGetinfo, missing);
  lookUp(library, "curl_easy_strerror", api.easyStrerror, missing);
  lookUp(library, "curl_multi_init", api.multiInit, missing);
  lookUp(library, "curl_multi_cleanup", api.multiCleanup, missing);
  lookUp(library, "curl_multi_add_handle", api.multiAddHandle, missing);
  lookUp(library, "curl_multi_remove_handle", api.multiRemoveHandle, missing);
  lookUp(library, "curl_multi_perform", api.multiPerform, missing);
  lookUp(library, "curl_multi_poll", api.multiPoll, missing);
  lookUp(library, "curl_multi_info_read", api.multiInfoRead, missing);
  lookUp(library, "curl_multi_strerror", api.multiStrerror, missing);
  lookUp(library, "curl_slist_append", api.slistAppend, missing);
  lookUp(library, "curl_slist_free_all", api.slistFreeAll, missing);
  if (!missing.empty()) {
    return Error{std::string(kLibrary) + " lacks " + missing,
                 "install libcurl4 7.66 or later (Debian 12 has 7.88)"};
  }
  // Not safe to run concurrently with itself or other libcurl calls: it runs
  // here, once, before any handle exists.
  if (const CURLcode code = api.globalInit(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return Error{std::string("cannot initialise libcurl: ") + api.easyStrerror(code),
                 "check the agent's memory and TLS library installation"};
  }
  return static_cast<const CurlApi*>(&api);
}

}  // namespace

Result<const CurlApi*> curlApi() {
  static std::once_flag once;
  static std::optional<Result<const CurlApi*>> loaded;
  std::call_once(once, [] { loaded.emplace(load()); });
  return *loaded;
}

}  // namespace lifeboat::http::detail
