#include "lifeboat/plugin_sdk/plugin.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>

#include "lifeboat/common/text.hpp"
#include "params.hpp"

namespace lifeboat::plugin_sdk {

namespace json = boost::json;
using plugin::Operation;

namespace {

constexpr std::string_view kRedacted = "[redacted]";

void writeLine(std::ostream& out, const json::object& object) {
  out << json::serialize(object) << '\n';
  out.flush();
}

int answerError(std::ostream& out, const Error& error, int status) {
  json::object line;
  line["ok"] = false;
  line["error"] = error.message;
  if (!error.hint.empty()) {
    line["hint"] = error.hint;
  }
  writeLine(out, line);
  return status;
}

Error rejected(std::string message, std::string hint = {}) {
  return Error{"invalid request: " + std::move(message), std::move(hint)};
}

// The parsed and checked request, or the Error that refuses it.
struct Parsed {
  Request request;
  std::vector<std::string> secrets;
};

Result<std::string> optionalText(const json::object& object, std::string_view member,
                                 std::string_view where) {
  const json::value* value = object.if_contains(member);
  if (value == nullptr || value->is_null()) {
    return std::string();
  }
  if (!value->is_string()) {
    return rejected(std::string(where) + "." + std::string(member) + " must be a string");
  }
  return std::string(value->get_string());
}

Result<Context> parseContext(const json::object& request) {
  Context context;
  const json::value* value = request.if_contains("context");
  if (value == nullptr || value->is_null()) {
    return context;
  }
  if (!value->is_object()) {
    return rejected("'context' must be an object");
  }
  const json::object& object = value->get_object();
  auto run = optionalText(object, "run", "context");
  if (!run) {
    return run.error();
  }
  context.run = std::move(*run);
  auto step = optionalText(object, "step", "context");
  if (!step) {
    return step.error();
  }
  context.step = std::move(*step);
  if (const json::value* drill = object.if_contains("drill"); drill != nullptr) {
    if (!drill->is_bool()) {
      return rejected("context.drill must be true or false");
    }
    context.drill = drill->get_bool();
  }
  if (const json::value* token = object.if_contains("fencing_token");
      token != nullptr && !token->is_null()) {
    if (token->is_string()) {
      context.fencingToken = std::string(token->get_string());
    } else if (token->is_int64() || token->is_uint64()) {
      context.fencingToken = json::serialize(*token);
    } else {
      return rejected("context.fencing_token must be a string or an integer");
    }
  }
  return context;
}

Result<const json::object*> objectMember(const json::object& request, std::string_view member) {
  static const json::object kEmpty;
  const json::value* value = request.if_contains(member);
  if (value == nullptr || value->is_null()) {
    return &kEmpty;
  }
  if (!value->is_object()) {
    return rejected(inQuotes(member) + " must be an object");
  }
  return &value->get_object();
}

std::string actionList(const plugin::PluginDescription& description, bool probesOnly) {
  std::string list;
  for (const plugin::ActionSchema& action : description.actions) {
    if (probesOnly && !action.probe) {
      continue;
    }
    list += (list.empty() ? "" : ", ") + action.name;
  }
  return list.empty() ? "(none)" : list;
}

Result<Parsed> parseRequest(const plugin::PluginDescription& description, std::string_view text) {
  if (text.size() > kMaxRequestBytes) {
    return rejected("larger than " + std::to_string(kMaxRequestBytes) + " bytes",
                    "the agent sends one JSON object of at most 4 MiB on stdin");
  }
  boost::system::error_code parseError;
  json::value value = json::parse(text, parseError);
  if (parseError) {
    return rejected("stdin is not one JSON object (" + parseError.message() + ")",
                    "send one JSON request object, e.g. {\"v\":1,\"op\":\"describe\"}");
  }
  if (!value.is_object()) {
    return rejected("stdin is not a JSON object",
                    "send one JSON request object, e.g. {\"v\":1,\"op\":\"describe\"}");
  }
  const json::object& object = value.get_object();

  const json::value* version = object.if_contains("v");
  if (version == nullptr) {
    return rejected("missing 'v' (the protocol version)", "send \"v\":1");
  }
  if (!(version->is_int64() && version->get_int64() == plugin::kProtocolVersion) &&
      !(version->is_uint64() && version->get_uint64() == plugin::kProtocolVersion)) {
    return rejected("protocol version " + json::serialize(*version) + " is not supported",
                    "plugin " + description.name +
                        " speaks protocol v1 only; upgrade the "
                        "plugin or send \"v\":1");
  }

  const json::value* op = object.if_contains("op");
  if (op == nullptr || !op->is_string()) {
    return rejected("missing 'op' string", "'op' is one of describe, run, check");
  }
  auto operation = plugin::parseOperation(op->get_string());
  if (!operation) {
    return rejected("unknown op " + inQuotes(op->get_string()),
                    "'op' is one of describe, run, check");
  }

  Parsed parsed;
  parsed.request.operation = *operation;
  if (*operation == Operation::describe) {
    return parsed;
  }

  const json::value* action = object.if_contains("action");
  if (action == nullptr || !action->is_string()) {
    return rejected(
        "op " + std::string(op->get_string()) + " needs an 'action' string",
        "actions of plugin " + description.name + ": " + actionList(description, false));
  }
  const plugin::ActionSchema* schema = description.findAction(action->get_string());
  if (schema == nullptr) {
    std::vector<std::string> names;
    for (const plugin::ActionSchema& known : description.actions) {
      names.push_back(known.name);
    }
    std::string message =
        "plugin " + description.name + " has no action " + inQuotes(action->get_string());
    if (auto suggestion = closestMatch(action->get_string(), std::span<const std::string>(names))) {
      message += " (did you mean " + inQuotes(*suggestion) + "?)";
    }
    return rejected(std::move(message), "actions of plugin " + description.name + ": " +
                                            actionList(description, false));
  }
  if (*operation == Operation::check && !schema->probe) {
    return rejected("op check runs only probe actions, and " + inQuotes(schema->name) +
                        " is not a probe (it may change state)",
                    "probe actions of plugin " + description.name + ": " +
                        actionList(description, true) + "; use op run for " +
                        inQuotes(schema->name));
  }
  parsed.request.action = schema->name;

  auto target = objectMember(object, "target");
  if (!target) {
    return target.error();
  }
  auto params = objectMember(object, "params");
  if (!params) {
    return params.error();
  }
  auto checkedTarget =
      detail::checkParams(**target, description.targetParams, "target", kCommonTargetFields);
  auto checkedParams =
      detail::checkParams(**params, schema->params, "action " + inQuotes(schema->name));
  if (!checkedTarget || !checkedParams) {
    // Both at once, so one round of fixes is enough.
    std::string message;
    std::string hint;
    for (const auto* checked : {&checkedTarget, &checkedParams}) {
      if (!checked->ok()) {
        message += (message.empty() ? "" : "; ") + checked->error().message;
        hint += (hint.empty() ? "" : "; ") + checked->error().hint;
      }
    }
    return rejected(std::move(message), std::move(hint));
  }
  parsed.request.target = std::move(*checkedTarget);
  parsed.request.params = std::move(*checkedParams);
  detail::collectSecrets(parsed.request.target, description.targetParams, parsed.secrets);
  detail::collectSecrets(parsed.request.params, schema->params, parsed.secrets);

  auto context = parseContext(object);
  if (!context) {
    return context.error();
  }
  parsed.request.context = std::move(*context);
  return parsed;
}

template <class T, class Read>
std::optional<T> readMember(const json::object& object, std::string_view name, Read reader) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  return reader(*value);
}

}  // namespace

std::optional<std::string> Request::stringParam(std::string_view name) const {
  return readMember<std::string>(params, name,
                                 [](const json::value& v) -> std::optional<std::string> {
                                   if (!v.is_string()) {
                                     return std::nullopt;
                                   }
                                   return std::string(v.get_string());
                                 });
}

std::optional<bool> Request::boolParam(std::string_view name) const {
  return readMember<bool>(params, name, [](const json::value& v) -> std::optional<bool> {
    if (!v.is_bool()) {
      return std::nullopt;
    }
    return v.get_bool();
  });
}

std::optional<std::int64_t> Request::integerParam(std::string_view name) const {
  return readMember<std::int64_t>(params, name,
                                  [](const json::value& v) -> std::optional<std::int64_t> {
                                    if (v.is_int64()) {
                                      return v.get_int64();
                                    }
                                    if (v.is_uint64() && v.get_uint64() <= INT64_MAX) {
                                      return static_cast<std::int64_t>(v.get_uint64());
                                    }
                                    return std::nullopt;
                                  });
}

std::optional<double> Request::numberParam(std::string_view name) const {
  return readMember<double>(params, name, [](const json::value& v) -> std::optional<double> {
    if (!v.is_number()) {
      return std::nullopt;
    }
    return v.to_number<double>();
  });
}

std::optional<std::string> Request::targetString(std::string_view name) const {
  return readMember<std::string>(target, name,
                                 [](const json::value& v) -> std::optional<std::string> {
                                   if (!v.is_string()) {
                                     return std::nullopt;
                                   }
                                   return std::string(v.get_string());
                                 });
}

Reporter::Reporter(std::ostream& out, std::ostream& log, std::vector<std::string> secrets)
    : out_(out), log_(log), secrets_(std::move(secrets)) {
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Reporter::progress(std::string_view text) {
  json::object line;
  line["progress"] = redact(text);
  writeLine(out_, line);
}

void Reporter::log(std::string_view text) {
  log_ << redact(text) << '\n';
  log_.flush();
}

std::string Reporter::redact(std::string_view text) const {
  std::string result(text);
  for (const std::string& secret : secrets_) {
    std::size_t at = 0;
    while ((at = result.find(secret, at)) != std::string::npos) {
      result.replace(at, secret.size(), kRedacted);
      at += kRedacted.size();
    }
  }
  return result;
}

Plugin::Plugin(plugin::PluginDescription description) : description_(std::move(description)) {}

Plugin& Plugin::checkRequests(RequestCheck check) {
  requestCheck_ = std::move(check);
  return *this;
}

Plugin& Plugin::on(std::string action, Handler handler) {
  handlers_[std::move(action)] = std::move(handler);
  return *this;
}

std::optional<Error> Plugin::checkRegistrations() const {
  const std::string hint = "this is a bug in plugin " + description_.name +
                           ": every declared action needs exactly one handler";
  for (const plugin::ActionSchema& action : description_.actions) {
    auto handler = handlers_.find(action.name);
    if (handler == handlers_.end() || !handler->second) {
      return Error{"plugin " + description_.name + " declares action " + inQuotes(action.name) +
                       " but registers no handler for it",
                   hint};
    }
  }
  for (const auto& [name, handler] : handlers_) {
    if (description_.findAction(name) == nullptr) {
      return Error{"plugin " + description_.name + " registers a handler for " + inQuotes(name) +
                       ", which it does not declare",
                   hint};
    }
  }
  // The declaration must be one that parseDescription accepts, since that is
  // what the agent will do with the describe answer.
  auto roundTrip = plugin::parseDescription(plugin::toJson(description_));
  if (!roundTrip) {
    return roundTrip.error();
  }
  return std::nullopt;
}

int Plugin::handle(std::string_view requestText, std::ostream& out, std::ostream& log) const {
  if (auto broken = checkRegistrations()) {
    log << broken->message << '\n';
    return answerError(out, *broken, kExitFailed);
  }
  auto parsed = parseRequest(description_, requestText);
  if (!parsed) {
    log << description_.name << ": " << parsed.error().message << '\n';
    return answerError(out, parsed.error(), kExitRejected);
  }
  const Request& request = parsed->request;
  if (request.operation == Operation::describe) {
    json::object line;
    line["ok"] = true;
    line["plugin"] = plugin::toJson(description_);
    writeLine(out, line);
    return kExitOk;
  }

  Reporter reporter(out, log, std::move(parsed->secrets));
  if (requestCheck_) {
    if (std::optional<Error> refused = requestCheck_(request)) {
      const Error redacted{reporter.redact(refused->message), reporter.redact(refused->hint)};
      log << description_.name << ": " << redacted.message << '\n';
      return answerError(out, redacted, kExitRejected);
    }
  }
  const Handler& handler = handlers_.find(request.action)->second;
  std::optional<Result<ActionResult>> result;
  try {
    result.emplace(handler(request, reporter));
  } catch (const std::exception& exception) {
    // A handler should return errors as values; this turns a stray exception
    // into a protocol answer instead of a crash with no final line.
    result.emplace(Error{"action " + inQuotes(request.action) +
                             " failed with an unexpected error: " + exception.what(),
                         "this is a bug in plugin " + description_.name});
  }
  if (!result->ok()) {
    const Error redacted{reporter.redact(result->error().message),
                         reporter.redact(result->error().hint)};
    log << description_.name << ": action " << request.action << " failed: " << redacted.message
        << '\n';
    return answerError(out, redacted, kExitFailed);
  }
  json::object line;
  line["ok"] = true;
  line["outputs"] = std::move(result->value().outputs);
  line["measurements"] = std::move(result->value().measurements);
  writeLine(out, line);
  return kExitOk;
}

int runMain(const Plugin& plugin) {
  std::string request;
  char buffer[65536];
  while (request.size() <= kMaxRequestBytes) {
    const ssize_t count = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (count == 0) {
      break;
    }
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      const Error error{"invalid request: cannot read stdin: " + std::string(std::strerror(errno)),
                        "the agent writes the request to the plugin's stdin"};
      std::cerr << plugin.description().name << ": " << error.message << '\n';
      return answerError(std::cout, error, kExitRejected);
    }
    request.append(buffer, static_cast<std::size_t>(count));
  }
  return plugin.handle(request, std::cout, std::cerr);
}

}  // namespace lifeboat::plugin_sdk
