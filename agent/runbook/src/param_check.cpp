#include "param_check.hpp"

#include <boost/json/value.hpp>

#include "lifeboat/common/text.hpp"
#include "lifeboat/runbook/references.hpp"

namespace lifeboat::runbook {
namespace {

bool hasReference(const boost::json::value& value) {
  if (!value.is_string()) {
    return false;
  }
  Result<std::vector<Reference>> references = findReferences(std::string_view(value.as_string()));
  return references.ok() && !references->empty();
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
    // A value holding a reference is checked once it is resolved, at run time.
    const std::string problem =
        hasReference(value) ? std::string() : plugin::paramMismatch(*param, value);
    if (!problem.empty()) {
      sink.error(locate(key), "parameter " + inQuotes(key) + " in " + context + " " + problem,
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
