#pragma once
// The API and the dashboard without the network: a request in, a response
// (or a note to write) out (docs/coordinator.md, "API"). The HTTP session
// (api_session.cpp) does the I/O; reads use read-only Stores from a pool,
// notes go to the committer, which owns the writing Store.

#include <boost/json/object.hpp>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/coordinator/tokens.hpp"
#include "lifeboat/store/store.hpp"

namespace lifeboat::comms {
class Engine;
}

namespace lifeboat::coordinator {

inline constexpr std::size_t kMaxRequestBody = 64 * 1024;
inline constexpr std::size_t kMaxNoteBytes = 4000;

struct ApiRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query as sent
  std::string authorization;  // the Authorization header, "" when absent
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers{};  // besides the common ones
};

// A note to add (the committer writes it; noteResponse() answers).
struct NoteRequest {
  std::string agent, run, author, text;
};

// The target split: decoded path segments and decoded query parameters.
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};
// nullopt when the target is malformed (bad percent escape, not a path).
std::optional<Target> parseTarget(std::string_view target);

// A JSON error response {"error": message}.
ApiResponse errorResponse(int status, std::string_view message);
ApiResponse jsonResponse(int status, const boost::json::object& body);

// Communications (comms_routes.cpp; docs/coordinator.md, "Communications"):
// the public status page (/status, /status.json, /status/feed.atom,
// /status/incidents/KEY: no token) and /api/v1/incidents, /messages,
// /channels. `engine` is null when the config has no [comms].
bool isStatusPath(const Target& target);
bool isCommsPath(const Target& target);
ApiResponse handleStatusPage(comms::Engine* engine, const ApiRequest& request,
                             const Target& target);
ApiResponse handleCommsApi(comms::Engine* engine,
                           const std::vector<std::string>& spokespersonTokens,
                           const ApiRequest& request, const Target& target, const TokenGrant& who);

// Read-only Stores, one per concurrent user, opened on demand and kept.
class ReaderPool {
 public:
  explicit ReaderPool(std::filesystem::path database) : database_(std::move(database)) {}
  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<store::Store> store)
        : pool_(pool), store_(std::move(store)) {}
    ~Lease() { pool_.giveBack(std::move(store_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    store::Store& operator*() { return *store_; }
    store::Store* operator->() { return store_.get(); }

   private:
    ReaderPool& pool_;
    std::unique_ptr<store::Store> store_;
  };
  Result<std::unique_ptr<Lease>> borrow();

 private:
  void giveBack(std::unique_ptr<store::Store> store);
  std::filesystem::path database_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Store>> idle_;
};

class ApiRoutes {
 public:
  ApiRoutes(const TokenTable& tokens, ReaderPool& readers, comms::Engine* comms = nullptr,
            std::vector<std::string> spokespersonTokens = {})
      : tokens_(tokens),
        readers_(readers),
        comms_(comms),
        spokespersonTokens_(std::move(spokespersonTokens)) {}

  // The grant for an Authorization header ("Bearer TOKEN") or, when that is
  // empty, the `access_token` query parameter (the browser's websocket).
  std::optional<TokenGrant> authenticate(std::string_view authorization,
                                         const Target& target) const;

  // Whether the target is the live feed's path (a websocket upgrade there
  // is the live feed).
  static bool isLivePath(const Target& target);

  std::variant<ApiResponse, NoteRequest> handle(const ApiRequest& request);
  static ApiResponse noteResponse(Result<boost::json::object> note);

 private:
  ApiResponse handleApi(const ApiRequest& request, const Target& target);

  const TokenTable& tokens_;
  ReaderPool& readers_;
  comms::Engine* comms_;
  std::vector<std::string> spokespersonTokens_;
};

// The dashboard's files, embedded at build time (generated dashboard_assets.cpp).
struct DashboardAsset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view contentType;
  std::string_view body;
};
const std::vector<DashboardAsset>& dashboardAssets();

}  // namespace lifeboat::coordinator
