#include "lifeboat/common/plugin_protocol.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <utility>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"

namespace lifeboat::plugin {

namespace json = boost::json;

namespace {

constexpr std::array<std::pair<Operation, std::string_view>, 3> kOperations{{
    {Operation::describe, "describe"},
    {Operation::run, "run"},
    {Operation::check, "check"},
}};

constexpr std::array<std::pair<ParamType, std::string_view>, 7> kParamTypes{{
    {ParamType::string, "string"},
    {ParamType::integer, "integer"},
    {ParamType::number, "number"},
    {ParamType::boolean, "boolean"},
    {ParamType::duration, "duration"},
    {ParamType::string_array, "string_array"},
    {ParamType::table, "table"},
}};

bool isNameCharacter(char c, bool allowUpper) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         (allowUpper && c >= 'A' && c <= 'Z');
}

// Plugin names are [a-z0-9_-]+ (they become file names); action, parameter and
// output names may also use upper-case letters.
bool isValidName(std::string_view name, bool allowUpper) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [&](char c) { return isNameCharacter(c, allowUpper); });
}

// Where in the description a problem is, for messages: "actions.write.params.path".
std::string join(std::string_view where, std::string_view member) {
  if (where.empty()) {
    return std::string(member);
  }
  return std::string(where) + "." + std::string(member);
}

Error describeError(std::string_view where, std::string_view problem) {
  return Error{"plugin description: " + std::string(where) + ": " + std::string(problem),
               "this is a bug in the plugin's describe answer; see docs/plugins.md for the "
               "schema format"};
}

// Reads an optional string member; an Error when present but not a string.
Result<std::string> optionalString(const json::object& object, std::string_view where,
                                   std::string_view member) {
  const json::value* value = object.if_contains(member);
  if (value == nullptr || value->is_null()) {
    return std::string();
  }
  if (!value->is_string()) {
    return describeError(join(where, member), "expected a string");
  }
  return std::string(value->get_string());
}

Result<std::string> requiredString(const json::object& object, std::string_view where,
                                   std::string_view member) {
  const json::value* value = object.if_contains(member);
  if (value == nullptr) {
    return describeError(join(where, member), "missing (a string is required)");
  }
  if (!value->is_string()) {
    return describeError(join(where, member), "expected a string");
  }
  return std::string(value->get_string());
}

Result<bool> optionalBool(const json::object& object, std::string_view where,
                          std::string_view member) {
  const json::value* value = object.if_contains(member);
  if (value == nullptr || value->is_null()) {
    return false;
  }
  if (!value->is_bool()) {
    return describeError(join(where, member), "expected true or false");
  }
  return value->get_bool();
}

// The object at `member`, or an empty object when absent.
Result<const json::object*> optionalObject(const json::object& object, std::string_view where,
                                           std::string_view member) {
  static const json::object kEmpty;
  const json::value* value = object.if_contains(member);
  if (value == nullptr || value->is_null()) {
    return &kEmpty;
  }
  if (!value->is_object()) {
    return describeError(join(where, member), "expected an object");
  }
  return &value->get_object();
}

bool matchesType(const json::value& value, ParamType type) {
  switch (type) {
    case ParamType::string:
    case ParamType::duration:
      return value.is_string();
    case ParamType::integer:
      return value.is_int64() || (value.is_uint64() && value.get_uint64() <= INT64_MAX);
    case ParamType::number:
      return value.is_number();
    case ParamType::boolean:
      return value.is_bool();
    case ParamType::string_array:
      return value.is_array() &&
             std::all_of(value.get_array().begin(), value.get_array().end(),
                         [](const json::value& item) { return item.is_string(); });
    case ParamType::table:
      return value.is_object();
  }
  return false;
}

Result<ParamSchema> parseParam(std::string_view name, const json::value& value,
                               std::string_view where) {
  if (!isValidName(name, true)) {
    return describeError(where, "parameter name '" + std::string(name) +
                                    "' is not valid (use letters, digits, '_' and '-')");
  }
  if (!value.is_object()) {
    return describeError(where, "expected an object");
  }
  const json::object& object = value.get_object();
  ParamSchema param;
  param.name = std::string(name);

  auto typeName = requiredString(object, where, "type");
  if (!typeName) {
    return typeName.error();
  }
  auto type = parseParamType(*typeName);
  if (!type) {
    std::vector<std::string_view> names;
    for (const auto& [known, text] : kParamTypes) {
      names.push_back(text);
    }
    std::string problem = "unknown type '" + *typeName + "'";
    if (auto suggestion = closestMatch(*typeName, std::span<const std::string_view>(names))) {
      problem += " (did you mean '" + *suggestion + "'?)";
    }
    return describeError(join(where, "type"), problem);
  }
  param.type = *type;

  auto required = optionalBool(object, where, "required");
  if (!required) {
    return required.error();
  }
  param.required = *required;
  auto secret = optionalBool(object, where, "secret");
  if (!secret) {
    return secret.error();
  }
  param.secret = *secret;
  auto description = optionalString(object, where, "description");
  if (!description) {
    return description.error();
  }
  param.description = std::move(*description);

  if (const json::value* allowed = object.if_contains("allowed");
      allowed != nullptr && !allowed->is_null()) {
    if (!allowed->is_array()) {
      return describeError(join(where, "allowed"), "expected an array of strings");
    }
    if (param.type != ParamType::string) {
      return describeError(join(where, "allowed"), "only a 'string' parameter may list values");
    }
    for (const json::value& item : allowed->get_array()) {
      if (!item.is_string()) {
        return describeError(join(where, "allowed"), "expected an array of strings");
      }
      param.allowed.emplace_back(item.get_string());
    }
  }

  if (const json::value* fallback = object.if_contains("default");
      fallback != nullptr && !fallback->is_null()) {
    if (!matchesType(*fallback, param.type)) {
      return describeError(
          join(where, "default"),
          "does not have the parameter's type '" + std::string(paramTypeName(param.type)) + "'");
    }
    if (!param.allowed.empty() &&
        std::find(param.allowed.begin(), param.allowed.end(),
                  std::string_view(fallback->get_string())) == param.allowed.end()) {
      return describeError(join(where, "default"), "is not one of the allowed values");
    }
    param.defaultValue = json::serialize(*fallback);
  }
  return param;
}

Result<std::vector<ParamSchema>> parseParams(const json::object& params, std::string_view where) {
  std::vector<ParamSchema> result;
  for (const auto& [name, value] : params) {
    auto param = parseParam(name, value, join(where, name));
    if (!param) {
      return param.error();
    }
    result.push_back(std::move(*param));
  }
  std::sort(result.begin(), result.end(),
            [](const ParamSchema& a, const ParamSchema& b) { return a.name < b.name; });
  return result;
}

Result<ActionSchema> parseAction(std::string_view name, const json::value& value,
                                 std::string_view where) {
  if (!isValidName(name, true)) {
    return describeError(where, "action name '" + std::string(name) +
                                    "' is not valid (use letters, digits, '_' and '-')");
  }
  if (!value.is_object()) {
    return describeError(where, "expected an object");
  }
  const json::object& object = value.get_object();
  ActionSchema action;
  action.name = std::string(name);

  auto description = optionalString(object, where, "description");
  if (!description) {
    return description.error();
  }
  action.description = std::move(*description);

  auto params = optionalObject(object, where, "params");
  if (!params) {
    return params.error();
  }
  auto parsedParams = parseParams(**params, join(where, "params"));
  if (!parsedParams) {
    return parsedParams.error();
  }
  action.params = std::move(*parsedParams);

  auto outputs = optionalObject(object, where, "outputs");
  if (!outputs) {
    return outputs.error();
  }
  for (const auto& [outputName, outputDescription] : **outputs) {
    const std::string outputWhere = join(join(where, "outputs"), outputName);
    if (!isValidName(outputName, true)) {
      return describeError(outputWhere,
                           "output name is not valid (use letters, digits, '_' "
                           "and '-')");
    }
    if (!outputDescription.is_string()) {
      return describeError(outputWhere, "expected a string (the output's description)");
    }
    action.outputs.push_back(
        OutputSchema{std::string(outputName), std::string(outputDescription.get_string())});
  }
  std::sort(action.outputs.begin(), action.outputs.end(),
            [](const OutputSchema& a, const OutputSchema& b) { return a.name < b.name; });

  auto probe = optionalBool(object, where, "probe");
  if (!probe) {
    return probe.error();
  }
  action.probe = *probe;
  auto undoneBy = optionalString(object, where, "undone_by");
  if (!undoneBy) {
    return undoneBy.error();
  }
  action.undoneBy = std::move(*undoneBy);
  auto measuresRpo = optionalBool(object, where, "measures_rpo");
  if (!measuresRpo) {
    return measuresRpo.error();
  }
  action.measuresRpo = *measuresRpo;
  return action;
}

// Members are written sorted by name, whatever the order of the vectors, so
// a description always serializes the same way.
template <class Schema>
std::vector<const Schema*> sortedByName(const std::vector<Schema>& items) {
  std::vector<const Schema*> sorted;
  for (const Schema& item : items) {
    sorted.push_back(&item);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Schema* a, const Schema* b) { return a->name < b->name; });
  return sorted;
}

json::object paramsToJson(const std::vector<ParamSchema>& params) {
  json::object result;
  for (const ParamSchema* sorted : sortedByName(params)) {
    const ParamSchema& param = *sorted;
    json::object entry;
    entry["type"] = paramTypeName(param.type);
    entry["required"] = param.required;
    entry["secret"] = param.secret;
    entry["description"] = param.description;
    if (!param.defaultValue.empty()) {
      boost::system::error_code error;
      json::value fallback = json::parse(param.defaultValue, error);
      // A default that is not JSON text can only come from code that filled
      // the struct by hand; keep it as the string it was meant to be.
      entry["default"] = error ? json::value(param.defaultValue) : std::move(fallback);
    }
    if (!param.allowed.empty()) {
      json::array allowed;
      for (const std::string& value : param.allowed) {
        allowed.emplace_back(value);
      }
      entry["allowed"] = std::move(allowed);
    }
    result[param.name] = std::move(entry);
  }
  return result;
}

}  // namespace

std::string_view operationName(Operation operation) {
  for (const auto& [value, name] : kOperations) {
    if (value == operation) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Operation> parseOperation(std::string_view name) {
  for (const auto& [value, text] : kOperations) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view paramTypeName(ParamType type) {
  for (const auto& [value, name] : kParamTypes) {
    if (value == type) {
      return name;
    }
  }
  return "unknown";
}

std::optional<ParamType> parseParamType(std::string_view name) {
  for (const auto& [value, text] : kParamTypes) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

const ActionSchema* PluginDescription::findAction(std::string_view action) const {
  for (const ActionSchema& candidate : actions) {
    if (candidate.name == action) {
      return &candidate;
    }
  }
  return nullptr;
}

Result<PluginDescription> parseDescription(const json::value& plugin) {
  if (!plugin.is_object()) {
    return describeError("plugin", "expected an object, got " + std::string(jsonKindName(plugin)));
  }
  const json::object& object = plugin.get_object();
  PluginDescription description;

  auto name = requiredString(object, "", "name");
  if (!name) {
    return name.error();
  }
  if (!isValidName(*name, false)) {
    return describeError("name", "'" + *name + "' is not a valid plugin name ([a-z0-9_-]+)");
  }
  description.name = std::move(*name);
  auto version = requiredString(object, "", "version");
  if (!version) {
    return version.error();
  }
  description.version = std::move(*version);
  auto text = optionalString(object, "", "description");
  if (!text) {
    return text.error();
  }
  description.description = std::move(*text);

  auto target = optionalObject(object, "", "target");
  if (!target) {
    return target.error();
  }
  auto targetParams = optionalObject(**target, "target", "params");
  if (!targetParams) {
    return targetParams.error();
  }
  auto parsedTargetParams = parseParams(**targetParams, "target.params");
  if (!parsedTargetParams) {
    return parsedTargetParams.error();
  }
  description.targetParams = std::move(*parsedTargetParams);

  const json::value* actions = object.if_contains("actions");
  if (actions == nullptr) {
    return describeError("actions", "missing (an object of actions is required)");
  }
  if (!actions->is_object()) {
    return describeError("actions",
                         "expected an object, got " + std::string(jsonKindName(*actions)));
  }
  for (const auto& [actionName, actionValue] : actions->get_object()) {
    auto action = parseAction(actionName, actionValue, join("actions", actionName));
    if (!action) {
      return action.error();
    }
    description.actions.push_back(std::move(*action));
  }
  std::sort(description.actions.begin(), description.actions.end(),
            [](const ActionSchema& a, const ActionSchema& b) { return a.name < b.name; });

  for (const ActionSchema& action : description.actions) {
    if (!action.undoneBy.empty() && description.findAction(action.undoneBy) == nullptr) {
      return describeError(join(join("actions", action.name), "undone_by"),
                           "names '" + action.undoneBy + "', which is not an action of the plugin");
    }
  }
  return description;
}

json::value toJson(const PluginDescription& description) {
  json::object result;
  result["name"] = description.name;
  result["version"] = description.version;
  result["description"] = description.description;
  json::object target;
  target["params"] = paramsToJson(description.targetParams);
  result["target"] = std::move(target);
  json::object actions;
  for (const ActionSchema* sorted : sortedByName(description.actions)) {
    const ActionSchema& action = *sorted;
    json::object entry;
    entry["description"] = action.description;
    entry["params"] = paramsToJson(action.params);
    json::object outputs;
    for (const OutputSchema* output : sortedByName(action.outputs)) {
      outputs[output->name] = output->description;
    }
    entry["outputs"] = std::move(outputs);
    entry["probe"] = action.probe;
    if (!action.undoneBy.empty()) {
      entry["undone_by"] = action.undoneBy;
    }
    entry["measures_rpo"] = action.measuresRpo;
    actions[action.name] = std::move(entry);
  }
  result["actions"] = std::move(actions);
  return result;
}

Result<std::variant<ProgressLine, FinalLine>> parseOutputLine(std::string_view line) {
  boost::system::error_code error;
  json::value value = json::parse(line, error);
  if (error) {
    return Error{"plugin output line is not JSON (" + error.message() + ")",
                 "a plugin writes only JSON lines to stdout; logs belong on stderr"};
  }
  if (!value.is_object()) {
    return Error{
        "plugin output line is " + std::string(jsonKindName(value)) + ", not a JSON object",
        "each stdout line must be {\"progress\":...} or the final {\"ok\":...}"};
  }
  const json::object& object = value.get_object();
  const json::value* progress = object.if_contains("progress");
  const json::value* ok = object.if_contains("ok");
  if (progress != nullptr && ok != nullptr) {
    return Error{"plugin output line has both 'progress' and 'ok'",
                 "a progress line and the final line are separate lines"};
  }
  if (progress != nullptr) {
    if (!progress->is_string()) {
      return Error{"plugin progress line: 'progress' is " + std::string(jsonKindName(*progress)) +
                       ", not a string",
                   ""};
    }
    return std::variant<ProgressLine, FinalLine>(ProgressLine{std::string(progress->get_string())});
  }
  if (ok == nullptr) {
    return Error{"plugin output line has neither 'progress' nor 'ok'",
                 "each stdout line must be {\"progress\":...} or the final {\"ok\":...}"};
  }
  if (!ok->is_bool()) {
    return Error{
        "plugin final line: 'ok' is " + std::string(jsonKindName(*ok)) + ", not true or false", ""};
  }
  FinalLine answer;
  answer.ok = ok->get_bool();
  if (!answer.ok) {
    const json::value* message = object.if_contains("error");
    if (message == nullptr || !message->is_string() || message->get_string().empty()) {
      return Error{"plugin final line has \"ok\":false but no 'error' string",
                   "a failing plugin must say what failed in 'error'"};
    }
    answer.error = std::string(message->get_string());
    if (const json::value* hint = object.if_contains("hint"); hint != nullptr) {
      if (!hint->is_string()) {
        return Error{
            "plugin final line: 'hint' is " + std::string(jsonKindName(*hint)) + ", not a string",
            ""};
      }
      answer.hint = std::string(hint->get_string());
    }
  }
  answer.json = std::string(line);
  return std::variant<ProgressLine, FinalLine>(std::move(answer));
}

}  // namespace lifeboat::plugin

namespace lifeboat::plugin {

std::string_view jsonKindName(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "a table";
  }
  return "a value";
}

std::string_view paramTypeExpectation(ParamType type) {
  switch (type) {
    case ParamType::string:
      return "a string";
    case ParamType::integer:
      return "an integer";
    case ParamType::number:
      return "a number";
    case ParamType::boolean:
      return "a boolean (true or false)";
    case ParamType::duration:
      return "a duration string such as \"30s\"";
    case ParamType::string_array:
      return "an array of strings";
    case ParamType::table:
      return "a table";
  }
  return "a value";
}

std::string paramMismatch(const ParamSchema& param, const boost::json::value& value) {
  bool fits = false;
  switch (param.type) {
    case ParamType::string:
    case ParamType::duration:
      fits = value.is_string();
      break;
    case ParamType::integer:
      fits = value.is_int64() || (value.is_uint64() && value.get_uint64() <= INT64_MAX);
      break;
    case ParamType::number:
      fits = value.is_number();
      break;
    case ParamType::boolean:
      fits = value.is_bool();
      break;
    case ParamType::string_array:
      fits = value.is_array() &&
             std::all_of(value.get_array().begin(), value.get_array().end(),
                         [](const boost::json::value& item) { return item.is_string(); });
      break;
    case ParamType::table:
      fits = value.is_object();
      break;
  }
  if (!fits) {
    return "must be " + std::string(paramTypeExpectation(param.type)) + ", not " +
           std::string(jsonKindName(value));
  }
  if (param.type == ParamType::duration) {
    Result<std::chrono::milliseconds> duration = parseDuration(value.get_string());
    if (!duration) {
      return param.secret ? std::string("is not a valid duration")
                          : "is not a valid duration: " + duration.error().message;
    }
  }
  if (param.type == ParamType::string && !param.allowed.empty()) {
    const std::string_view text = value.get_string();
    if (std::find(param.allowed.begin(), param.allowed.end(), text) == param.allowed.end()) {
      std::string list;
      for (const std::string& allowed : param.allowed) {
        list += (list.empty() ? "" : ", ") + inQuotes(allowed);
      }
      std::string problem =
          param.secret ? "has a value that is not allowed (" + list + ")"
                       : "is " + inQuotes(text) + ", not one of the allowed values (" + list + ")";
      if (!param.secret) {
        if (auto suggestion = closestMatch(text, std::span<const std::string>(param.allowed))) {
          problem += "; did you mean " + inQuotes(*suggestion) + "?";
        }
      }
      return problem;
    }
  }
  return {};
}

}  // namespace lifeboat::plugin
