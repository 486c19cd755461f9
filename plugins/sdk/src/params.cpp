#include "params.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"

namespace lifeboat::plugin_sdk::detail {

namespace json = boost::json;
using plugin::ParamSchema;

namespace {

// An empty string when `value` fits `param`, else what is wrong with it.
std::string typeProblem(const json::value& value, const ParamSchema& param) {
  const std::string problem = plugin::paramMismatch(param, value);
  return problem.empty() ? problem : inQuotes(param.name) + " " + problem;
}

// A reference such as `${vars.port}` always expands to text, so a declared
// integer, number or boolean may arrive as a string that spells one. That
// string becomes the declared type; anything else is left for typeProblem.
json::value fromReferenceText(const json::value& value, const ParamSchema& param) {
  if (!value.is_string()) {
    return value;
  }
  const std::string text(value.get_string());
  switch (param.type) {
    case plugin::ParamType::integer:
    case plugin::ParamType::number:
    case plugin::ParamType::boolean: {
      boost::system::error_code error;
      json::value parsed = json::parse(text, error);
      if (error || text.empty() || text.front() == ' ' || text.back() == ' ') {
        return value;
      }
      const bool fits = param.type == plugin::ParamType::boolean  ? parsed.is_bool()
                        : param.type == plugin::ParamType::number ? parsed.is_number()
                                                                  : parsed.is_int64();
      return fits ? parsed : value;
    }
    default:
      return value;
  }
}

}  // namespace

Result<json::object> checkParams(const json::object& given, const std::vector<ParamSchema>& schema,
                                 std::string_view what, std::span<const std::string_view> ignored) {
  std::vector<std::string> problems;
  std::vector<std::string> names;
  for (const ParamSchema& param : schema) {
    names.push_back(param.name);
  }

  std::vector<std::string_view> givenNames;
  for (const auto& entry : given) {
    givenNames.push_back(entry.key());
  }
  std::sort(givenNames.begin(), givenNames.end());
  for (std::string_view name : givenNames) {
    const bool declared = std::find(names.begin(), names.end(), name) != names.end();
    const bool isIgnored = std::find(ignored.begin(), ignored.end(), name) != ignored.end();
    if (declared || isIgnored) {
      continue;
    }
    std::string problem = "unknown param " + inQuotes(name);
    if (auto suggestion = closestMatch(name, std::span<const std::string>(names))) {
      problem += " (did you mean " + inQuotes(*suggestion) + "?)";
    }
    problems.push_back(std::move(problem));
  }

  json::object checked;
  for (const ParamSchema& param : schema) {
    const json::value* value = given.if_contains(param.name);
    if (value == nullptr) {
      if (!param.defaultValue.empty()) {
        boost::system::error_code error;
        json::value fallback = json::parse(param.defaultValue, error);
        if (error) {
          problems.push_back("the declared default of " + inQuotes(param.name) +
                             " is not JSON (a bug in the plugin)");
          continue;
        }
        checked[param.name] = std::move(fallback);
      } else if (param.required) {
        problems.push_back("missing required param " + inQuotes(param.name) + " (" +
                           std::string(plugin::paramTypeExpectation(param.type)) + ")");
      }
      continue;
    }
    json::value typed = fromReferenceText(*value, param);
    if (std::string problem = typeProblem(typed, param); !problem.empty()) {
      problems.push_back(std::move(problem));
      continue;
    }
    checked[param.name] = std::move(typed);
  }

  if (problems.empty()) {
    return checked;
  }
  std::string message(what);
  message += ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    message += (i == 0 ? "" : "; ") + problems[i];
  }
  std::string hint;
  if (names.empty()) {
    hint = std::string(what) + " takes no params";
  } else {
    hint = std::string(what) + " takes: ";
    for (std::size_t i = 0; i < schema.size(); ++i) {
      hint += (i == 0 ? "" : ", ") + schema[i].name + " (" +
              std::string(plugin::paramTypeName(schema[i].type)) +
              (schema[i].required ? ", required" : "") + ")";
    }
  }
  return Error{std::move(message), std::move(hint)};
}

void collectSecrets(const json::object& checked, const std::vector<ParamSchema>& schema,
                    std::vector<std::string>& secrets) {
  for (const ParamSchema& param : schema) {
    if (!param.secret) {
      continue;
    }
    const json::value* value = checked.if_contains(param.name);
    if (value == nullptr) {
      continue;
    }
    if (value->is_string() && !value->get_string().empty()) {
      secrets.emplace_back(value->get_string());
    } else if (value->is_array()) {
      for (const json::value& item : value->get_array()) {
        if (item.is_string() && !item.get_string().empty()) {
          secrets.emplace_back(item.get_string());
        }
      }
    }
  }
}

}  // namespace lifeboat::plugin_sdk::detail
