#include "api_routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

namespace lifeboat::coordinator {
namespace {

namespace json = boost::json;

int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (plusIsSpace && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

ApiResponse storeFailure(const Error& error) {
  return errorResponse(500, "store: " + error.message);
}

// A non-negative integer parameter; `fallback` when absent.
std::optional<std::int64_t> integerParameter(const Target& target, const std::string& name,
                                             std::int64_t fallback, std::int64_t max) {
  auto found = target.query.find(name);
  if (found == target.query.end() || found->second.empty()) {
    return fallback;
  }
  std::int64_t value = 0;
  const std::string& text = found->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

std::string parameter(const Target& target, const std::string& name) {
  auto found = target.query.find(name);
  return found == target.query.end() ? std::string() : found->second;
}

ApiResponse badParameter(std::string_view name, std::string_view what) {
  return errorResponse(400, "parameter " + std::string(name) + " must be " + std::string(what));
}

}  // namespace

ApiResponse jsonResponse(int status, const json::object& body) {
  return ApiResponse{status, "application/json", json::serialize(body)};
}

std::optional<Target> parseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return std::nullopt;
  }
  Target parsed;
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    std::optional<std::string> segment = percentDecode(path.substr(start, slash - start), false);
    if (!segment) {
      return std::nullopt;
    }
    parsed.segments.push_back(std::move(*segment));
    start = slash + 1;
  }
  if (!parsed.segments.empty() && parsed.segments.back().empty()) {
    parsed.segments.pop_back();  // "/" and a trailing slash
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::size_t equals = pair.find('=');
      auto name = percentDecode(pair.substr(0, equals), true);
      auto value = percentDecode(
          equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
      if (!name || !value) {
        return std::nullopt;
      }
      if (!name->empty()) {
        parsed.query[*name] = *value;
      }
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  return parsed;
}

ApiResponse errorResponse(int status, std::string_view message) {
  json::object body;
  body["error"] = message;
  ApiResponse response = jsonResponse(status, body);
  if (status == 401) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return response;
}

Result<std::unique_ptr<ReaderPool::Lease>> ReaderPool::borrow() {
  std::unique_ptr<store::Store> store;
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      store = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!store) {
    Result<std::unique_ptr<store::Store>> opened =
        store::Store::open(database_, store::Access::ReadOnly);
    if (!opened) {
      return opened.error();
    }
    store = std::move(*opened);
  }
  return std::make_unique<Lease>(*this, std::move(store));
}

void ReaderPool::giveBack(std::unique_ptr<store::Store> store) {
  if (!store) {
    return;
  }
  const std::lock_guard lock(mutex_);
  idle_.push_back(std::move(store));
}

std::optional<TokenGrant> ApiRoutes::authenticate(std::string_view authorization,
                                                  const Target& target) const {
  if (!authorization.empty()) {
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.size() <= kScheme.size()) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
          std::tolower(static_cast<unsigned char>(kScheme[i]))) {
        return std::nullopt;
      }
    }
    std::string_view token = authorization.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ')
      token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
      token.remove_suffix(1);
    return tokens_.find(token);
  }
  auto found = target.query.find("access_token");
  if (found == target.query.end()) {
    return std::nullopt;
  }
  return tokens_.find(found->second);
}

bool ApiRoutes::isLivePath(const Target& target) {
  return target.segments.size() == 3 && target.segments[0] == "api" && target.segments[1] == "v1" &&
         target.segments[2] == "live";
}

std::variant<ApiResponse, NoteRequest> ApiRoutes::handle(const ApiRequest& request) {
  std::optional<Target> target = parseTarget(request.target);
  if (!target) {
    return errorResponse(400, "the request's path is malformed");
  }
  const bool api = !target->segments.empty() && target->segments[0] == "api";
  if (!api && isStatusPath(*target)) {
    return handleStatusPage(comms_, request, *target);
  }
  if (!api) {
    const std::string name = target->segments.empty() ? "index.html" : target->segments.front();
    for (const DashboardAsset& asset : dashboardAssets()) {
      if (target->segments.size() <= 1 && asset.name == name) {
        if (request.method != "GET" && request.method != "HEAD") {
          ApiResponse refused = errorResponse(405, "the dashboard's files are read with GET");
          refused.headers.emplace_back("Allow", "GET, HEAD");
          return refused;
        }
        return ApiResponse{200, std::string(asset.contentType), std::string(asset.body)};
      }
    }
    return errorResponse(
        404, "no such page: " + std::string(request.target.substr(
                                    0, std::min<std::size_t>(request.target.size(), 200))));
  }
  std::optional<TokenGrant> who = authenticate(request.authorization, *target);
  if (!who) {
    return errorResponse(401, request.authorization.empty()
                                  ? "this needs a token: Authorization: Bearer TOKEN"
                                  : "the token is not known to this coordinator");
  }
  const auto& s = target->segments;
  if (isCommsPath(*target)) {
    return handleCommsApi(comms_, spokespersonTokens_, request, *target, *who);
  }
  // POST /api/v1/runs/AGENT/RUN/notes
  if (s.size() == 6 && s[1] == "v1" && s[2] == "runs" && s[5] == "notes") {
    if (request.method != "POST") {
      ApiResponse refused = errorResponse(405, "notes are added with POST");
      refused.headers.emplace_back("Allow", "POST");
      return refused;
    }
    if (!roleAllows(who->role, Role::operator_)) {
      return errorResponse(403, "adding a note needs the operator role; " + who->name + " is a " +
                                    std::string(roleName(who->role)));
    }
    boost::system::error_code invalid;
    json::value body = json::parse(request.body, invalid);
    const json::string* text = nullptr;
    if (!invalid && body.is_object()) {
      if (const json::value* member = body.as_object().if_contains("text")) {
        text = member->if_string();
      }
    }
    if (text == nullptr) {
      return errorResponse(400, "the body must be a JSON object with a string \"text\"");
    }
    if (text->empty() || text->size() > kMaxNoteBytes) {
      return errorResponse(
          400, "a note's text must be 1 to " + std::to_string(kMaxNoteBytes) + " bytes");
    }
    Result<std::unique_ptr<ReaderPool::Lease>> reader = readers_.borrow();
    if (!reader) {
      return storeFailure(reader.error());
    }
    Result<std::optional<json::object>> run = (**reader)->run(s[3], s[4]);
    if (!run) {
      return storeFailure(run.error());
    }
    if (!run->has_value()) {
      return errorResponse(404, "no run " + s[4] + " of agent " + s[3]);
    }
    return NoteRequest{s[3], s[4], who->name, std::string(text->data(), text->size())};
  }
  if (request.method != "GET") {
    ApiResponse refused = errorResponse(405, "this is read with GET");
    refused.headers.emplace_back("Allow", "GET");
    return refused;
  }
  return handleApi(request, *target);
}

ApiResponse ApiRoutes::handleApi(const ApiRequest& request, const Target& target) {
  const auto& s = target.segments;
  if (s.size() < 3 || s[1] != "v1") {
    return errorResponse(404, "no such API path");
  }
  if (s.size() == 3 && s[2] == "me") {
    std::optional<TokenGrant> who = authenticate(request.authorization, target);
    json::object body;
    body["name"] = who->name;
    body["role"] = roleName(who->role);
    return jsonResponse(200, body);
  }
  Result<std::unique_ptr<ReaderPool::Lease>> lease = readers_.borrow();
  if (!lease) {
    return storeFailure(lease.error());
  }
  store::Store& store = ***lease;
  if (s.size() == 3 && s[2] == "agents") {
    Result<json::array> agents = store.agents();
    if (!agents)
      return storeFailure(agents.error());
    json::object body;
    body["agents"] = std::move(*agents);
    return jsonResponse(200, body);
  }
  if (s.size() == 3 && s[2] == "runs") {
    store::RunFilter filter;
    filter.agent = parameter(target, "agent");
    filter.service = parameter(target, "service");
    const std::string live = parameter(target, "live");
    if (live != "" && live != "0" && live != "1" && live != "true" && live != "false") {
      return badParameter("live", "1 or 0");
    }
    filter.liveOnly = live == "1" || live == "true";
    auto limit = integerParameter(target, "limit", 100, 1000);
    if (!limit || *limit == 0)
      return badParameter("limit", "a number from 1 to 1000");
    filter.limit = static_cast<std::size_t>(*limit);
    Result<json::array> runs = store.runs(filter);
    if (!runs)
      return storeFailure(runs.error());
    json::object body;
    body["runs"] = std::move(*runs);
    return jsonResponse(200, body);
  }
  if (s.size() == 5 && s[2] == "runs") {
    Result<std::optional<json::object>> run = store.run(s[3], s[4]);
    if (!run)
      return storeFailure(run.error());
    if (!run->has_value())
      return errorResponse(404, "no run " + s[4] + " of agent " + s[3]);
    json::object body;
    body["run"] = std::move(**run);
    return jsonResponse(200, body);
  }
  if (s.size() == 3 && s[2] == "events") {
    store::EventFilter filter;
    filter.agent = parameter(target, "agent");
    filter.run = parameter(target, "run");
    auto after = integerParameter(target, "after", 0, INT64_MAX);
    if (!after)
      return badParameter("after", "an event id (a number, 0 or more)");
    auto limit = integerParameter(target, "limit", 1000, 10000);
    if (!limit || *limit == 0)
      return badParameter("limit", "a number from 1 to 10000");
    filter.afterId = *after;
    filter.limit = static_cast<std::size_t>(*limit);
    Result<json::array> events = store.events(filter);
    if (!events)
      return storeFailure(events.error());
    std::int64_t next = *after;
    if (!events->empty()) {
      if (const json::value* id = events->back().as_object().if_contains("id")) {
        next = id->to_number<std::int64_t>();
      }
    }
    json::object body;
    body["events"] = std::move(*events);
    body["next"] = next;
    return jsonResponse(200, body);
  }
  if (s.size() == 3 && s[2] == "objectives") {
    auto limit = integerParameter(target, "limit", 100, 10000);
    if (!limit || *limit == 0)
      return badParameter("limit", "a number from 1 to 10000");
    Result<json::array> objectives =
        store.objectives(parameter(target, "service"), static_cast<std::size_t>(*limit));
    if (!objectives)
      return storeFailure(objectives.error());
    json::object body;
    body["objectives"] = std::move(*objectives);
    return jsonResponse(200, body);
  }
  return errorResponse(404, "no such API path");
}

ApiResponse ApiRoutes::noteResponse(Result<json::object> note) {
  if (!note) {
    return errorResponse(400, note.error().message);
  }
  json::object body;
  body["note"] = std::move(*note);
  return jsonResponse(201, body);
}

}  // namespace lifeboat::coordinator
