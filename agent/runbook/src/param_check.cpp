#include "param_check.hpp"

#include <boost/json/value.hpp>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"

namespace lifeboat::runbook {
namespace {

bool hasReference(const boost::json::value& value) {
  return value.is_string() &&
         std::string_view(value.as_string()).find("${") != std::string_view::npos;
}

std::string_view jsonKind(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a float";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "a table";
    case boost::json::kind::null:
      return "null";
  }
  return "a value";
}

// Empty when the value fits the type, else what was expected.
std::string typeProblem(const plugin::ParamSchema& param, const boost::json::value& value) {
  using plugin::ParamType;
  switch (param.type) {
    case ParamType::string:
      if (!value.is_string()) {
        return "a string";
      }
      if (!param.allowed.empty() && !hasReference(value)) {
        const std::string_view text = value.as_string();
        for (const std::string& option : param.allowed) {
          if (option == text) {
            return {};
          }
        }
        std::string list;
        for (const std::string& option : param.allowed) {
          list += list.empty() ? "" : ", ";
          list += '"' + option + '"';
        }
        return "one of " + list;
      }
      return {};
    case ParamType::integer:
      return value.is_int64() || value.is_uint64() || hasReference(value) ? "" : "an integer";
    case ParamType::number:
      return value.is_number() || hasReference(value) ? "" : "a number";
    case ParamType::boolean:
      return value.is_bool() || hasReference(value) ? "" : "a boolean (true or false)";
    case ParamType::duration:
      if (!value.is_string()) {
        return "a duration string like \"30s\"";
      }
      if (!hasReference(value) && !parseDuration(std::string_view(value.as_string())).ok()) {
        return "a duration like \"30s\", \"5m\" or \"1h30m\"";
      }
      return {};
    case ParamType::string_array:
      if (!value.is_array()) {
        return "an array of strings";
      }
      for (const boost::json::value& item : value.as_array()) {
        if (!item.is_string()) {
          return "an array of strings";
        }
      }
      return {};
    case ParamType::table:
      return value.is_object() ? "" : "a table";
  }
  return {};
}

}  // namespace

void checkParams(const std::vector<plugin::ParamSchema>& schema, const boost::json::object& values,
                 const std::vector<std::pair<std::string, SourceLocation>>& locations,
                 SourceLocation fallback, const std::string& context, DiagnosticSink& sink) {
  std::vector<std::string> names;
  for (const plugin::ParamSchema& param : schema) {
    names.push_back(param.name);
  }
  auto locate = [&](std::string_view key) {
    for (const auto& [name, where] : locations) {
      if (name == key) {
        return where;
      }
    }
    return fallback;
  };
  for (const auto& [key, value] : values) {
    const plugin::ParamSchema* param = nullptr;
    for (const plugin::ParamSchema& candidate : schema) {
      if (candidate.name == std::string_view(key)) {
        param = &candidate;
      }
    }
    if (param == nullptr) {
      std::string hint;
      if (auto suggestion = closestMatch(std::string_view(key), names)) {
        hint = "did you mean " + inQuotes(*suggestion) + "?";
      } else if (names.empty()) {
        hint = "it takes no parameters";
      } else {
        hint = "known parameters:";
        for (const std::string& name : names) {
          hint += ' ' + name;
        }
      }
      sink.error(locate(key), "unknown parameter " + inQuotes(key) + " in " + context,
                 std::move(hint));
      continue;
    }
    if (std::string expected = typeProblem(*param, value); !expected.empty()) {
      // The value itself is not echoed: it may be a secret written in clear.
      sink.error(locate(key),
                 "parameter " + inQuotes(key) + " in " + context + " must be " + expected +
                     ", not " + std::string(jsonKind(value)),
                 param->description);
      continue;
    }
    if (param->secret && value.is_string() &&
        std::string_view(value.as_string()).find("${secret:") == std::string_view::npos) {
      sink.warning(
          locate(key),
          "parameter " + inQuotes(key) + " in " + context + " is a secret written in the runbook",
          "use ${secret:env:NAME} or ${secret:file:PATH} so it stays out of the file");
    }
  }
  for (const plugin::ParamSchema& param : schema) {
    if (param.required && param.defaultValue.empty() && !values.contains(param.name)) {
      sink.error(fallback, context + " is missing required parameter " + inQuotes(param.name),
                 param.description);
    }
  }
}

}  // namespace lifeboat::runbook
