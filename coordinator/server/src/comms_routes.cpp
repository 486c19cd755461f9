// The comms engine's routes: the public status page and the API of
// incidents, messages (approval) and channels (docs/coordinator.md,
// "Communications").

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>

#include "api_routes.hpp"
#include "lifeboat/comms/engine.hpp"

namespace lifeboat::coordinator {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxEditBytes = 16 * 1024;

ApiResponse notConfigured() {
  return errorResponse(404,
                       "communications are not configured: add [comms] with a plan to the "
                       "coordinator config (docs/communications.md)");
}

ApiResponse engineFailure(const Error& error) {
  return errorResponse(500, "comms: " + error.message);
}

ApiResponse methodNotAllowed(std::string_view allow, std::string_view what) {
  ApiResponse refused = errorResponse(405, what);
  refused.headers.emplace_back("Allow", std::string(allow));
  return refused;
}

ApiResponse page(std::string contentType, std::string body) {
  ApiResponse response{200, std::move(contentType), std::move(body)};
  // Public and cacheable for a little while; never framed by other sites.
  response.headers.emplace_back("Cache-Control", "public, max-age=15");
  return response;
}

std::optional<json::object> jsonBody(const std::string& text) {
  if (text.empty()) {
    return json::object{};
  }
  boost::system::error_code invalid;
  json::value body = json::parse(text, invalid);
  if (invalid || !body.is_object()) {
    return std::nullopt;
  }
  return std::move(body.as_object());
}

// A string member: nullopt when absent; `valid` false when not a string or
// too long.
std::optional<std::string> textMember(const json::object& body, std::string_view key, bool& valid) {
  const json::value* member = body.if_contains(key);
  if (member == nullptr || member->is_null()) {
    return std::nullopt;
  }
  if (!member->is_string() || member->get_string().size() > kMaxEditBytes) {
    valid = false;
    return std::nullopt;
  }
  return std::string(member->get_string());
}

std::optional<std::int64_t> messageId(const std::string& text) {
  std::int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

ApiResponse approval(comms::Engine& engine, const std::vector<std::string>& spokespersonTokens,
                     const ApiRequest& request, const std::string& idText,
                     const std::string& action, const TokenGrant& who) {
  if (request.method != "POST") {
    return methodNotAllowed("POST", "approvals are made with POST");
  }
  if (!roleAllows(who.role, Role::approver)) {
    return errorResponse(403, "approving customer messages needs the approver role; " + who.name +
                                  " is a " + std::string(roleName(who.role)));
  }
  if (!spokespersonTokens.empty() && std::find(spokespersonTokens.begin(), spokespersonTokens.end(),
                                               who.name) == spokespersonTokens.end()) {
    return errorResponse(403, who.name +
                                  " is not a spokesperson of the communication plan ([roles."
                                  "spokesperson] tokens)");
  }
  const std::optional<std::int64_t> id = messageId(idText);
  if (!id) {
    return errorResponse(404, "no message " + idText.substr(0, 40));
  }
  std::optional<json::object> body = jsonBody(request.body);
  if (!body) {
    return errorResponse(400, "the body must be a JSON object (or empty)");
  }
  bool valid = true;
  Result<json::object> result = Error{"", ""};
  if (action == "approve") {
    std::optional<std::string> subject = textMember(*body, "subject", valid);
    std::optional<std::string> text = textMember(*body, "body", valid);
    if (!valid || (subject && subject->find_first_of("\r\n") != std::string::npos)) {
      return errorResponse(400, "subject (one line) and body must be strings of at most " +
                                    std::to_string(kMaxEditBytes) + " bytes");
    }
    result = engine.approve(*id, who.name, std::move(subject), std::move(text));
  } else {
    std::optional<std::string> reason = textMember(*body, "reason", valid);
    if (!valid) {
      return errorResponse(400, "reason must be a string");
    }
    result = engine.reject(*id, who.name, reason.value_or(""));
  }
  if (!result) {
    const bool missing = result.error().message.find("does not exist") != std::string::npos;
    return errorResponse(missing ? 404 : 409, result.error().message);
  }
  json::object answer;
  answer["message"] = std::move(*result);
  return jsonResponse(200, answer);
}

}  // namespace

bool isStatusPath(const Target& target) {
  const auto& s = target.segments;
  return !s.empty() && (s[0] == "status" || s[0] == "status.json");
}

bool isCommsPath(const Target& target) {
  const auto& s = target.segments;
  return s.size() >= 3 && s[1] == "v1" &&
         (s[2] == "incidents" || s[2] == "messages" || s[2] == "channels");
}

ApiResponse handleStatusPage(comms::Engine* engine, const ApiRequest& request,
                             const Target& target) {
  if (request.method != "GET" && request.method != "HEAD") {
    return methodNotAllowed("GET, HEAD", "the status page is read with GET");
  }
  if (engine == nullptr) {
    return notConfigured();
  }
  const auto& s = target.segments;
  if (s.size() == 1 && s[0] == "status.json") {
    Result<json::object> status = engine->statusJson();
    if (!status) {
      return engineFailure(status.error());
    }
    ApiResponse response = jsonResponse(200, *status);
    response.headers.emplace_back("Cache-Control", "public, max-age=15");
    return response;
  }
  if (s.size() == 1) {
    Result<std::string> html = engine->statusHtml();
    if (!html) {
      return engineFailure(html.error());
    }
    return page("text/html; charset=utf-8", std::move(*html));
  }
  if (s.size() == 2 && s[1] == "style.css") {
    return page("text/css; charset=utf-8", std::string(comms::Engine::statusStyle()));
  }
  if (s.size() == 2 && s[1] == "feed.atom") {
    Result<std::string> atom = engine->statusAtom();
    if (!atom) {
      return engineFailure(atom.error());
    }
    return page("application/atom+xml; charset=utf-8", std::move(*atom));
  }
  if (s.size() == 3 && s[1] == "incidents") {
    Result<std::optional<std::string>> html = engine->statusIncidentHtml(s[2]);
    if (!html) {
      return engineFailure(html.error());
    }
    if (!*html) {
      return errorResponse(404, "no such incident on the status page");
    }
    return page("text/html; charset=utf-8", std::move(**html));
  }
  return errorResponse(404, "no such status page");
}

ApiResponse handleCommsApi(comms::Engine* engine,
                           const std::vector<std::string>& spokespersonTokens,
                           const ApiRequest& request, const Target& target, const TokenGrant& who) {
  if (engine == nullptr) {
    return notConfigured();
  }
  const auto& s = target.segments;
  // POST /api/v1/messages/ID/approve, /reject
  if (s.size() == 5 && s[2] == "messages" && (s[4] == "approve" || s[4] == "reject")) {
    return approval(*engine, spokespersonTokens, request, s[3], s[4], who);
  }
  // POST /api/v1/incidents/KEY/resolve
  if (s.size() == 5 && s[2] == "incidents" && s[4] == "resolve") {
    if (request.method != "POST") {
      return methodNotAllowed("POST", "an incident is resolved with POST");
    }
    if (!roleAllows(who.role, Role::operator_)) {
      return errorResponse(403, "resolving an incident needs the operator role; " + who.name +
                                    " is a " + std::string(roleName(who.role)));
    }
    std::optional<json::object> body = jsonBody(request.body);
    bool valid = true;
    std::optional<std::string> note = body ? textMember(*body, "note", valid) : std::nullopt;
    if (!body || !valid) {
      return errorResponse(400, "the body must be a JSON object with an optional string \"note\"");
    }
    Result<json::object> resolved = engine->resolve(s[3], who.name, note.value_or(""));
    if (!resolved) {
      const bool missing = resolved.error().message.find("does not exist") != std::string::npos;
      return errorResponse(missing ? 404 : 409, resolved.error().message);
    }
    json::object answer;
    answer["incident"] = std::move(*resolved);
    return jsonResponse(200, answer);
  }
  if (request.method != "GET") {
    return methodNotAllowed("GET", "this is read with GET");
  }
  auto parameter = [&](const std::string& name) {
    auto found = target.query.find(name);
    return found == target.query.end() ? std::string() : found->second;
  };
  if (s.size() == 3 && s[2] == "incidents") {
    const std::string open = parameter("open");
    Result<json::array> incidents = engine->incidents(open == "1" || open == "true", 200);
    if (!incidents) {
      return engineFailure(incidents.error());
    }
    json::object answer;
    answer["incidents"] = std::move(*incidents);
    return jsonResponse(200, answer);
  }
  if (s.size() == 4 && s[2] == "incidents") {
    Result<std::optional<json::object>> incident = engine->incident(s[3]);
    if (!incident) {
      return engineFailure(incident.error());
    }
    if (!*incident) {
      return errorResponse(404, "no incident " + s[3].substr(0, 80));
    }
    json::object answer;
    answer["incident"] = std::move(**incident);
    return jsonResponse(200, answer);
  }
  if (s.size() == 5 && s[2] == "incidents" && s[4] == "summary") {
    Result<std::optional<std::string>> summary = engine->summary(s[3]);
    if (!summary) {
      return engineFailure(summary.error());
    }
    if (!*summary) {
      return errorResponse(404, "no incident " + s[3].substr(0, 80));
    }
    return ApiResponse{200, "text/markdown; charset=utf-8", std::move(**summary)};
  }
  if (s.size() == 3 && s[2] == "messages") {
    comms::MessageFilter filter;
    filter.incident = parameter("incident");
    filter.state = parameter("state");
    Result<json::array> messages = engine->messages(filter);
    if (!messages) {
      return engineFailure(messages.error());
    }
    json::object answer;
    answer["messages"] = std::move(*messages);
    return jsonResponse(200, answer);
  }
  if (s.size() == 3 && s[2] == "channels") {
    Result<json::array> channels = engine->channels();
    if (!channels) {
      return engineFailure(channels.error());
    }
    json::object answer;
    answer["channels"] = std::move(*channels);
    return jsonResponse(200, answer);
  }
  return errorResponse(404, "no such API path");
}

}  // namespace lifeboat::coordinator
