#include "expand.hpp"

#include <boost/json/serialize.hpp>

#include "lifeboat/runbook/references.hpp"
#include "lifeboat/runbook/secrets.hpp"

namespace lifeboat::engine {
namespace {

std::string outputText(const boost::json::value& value) {
  if (value.is_string()) {
    return std::string(value.as_string());
  }
  return boost::json::serialize(value);
}

Result<std::string> resolve(const runbook::Reference& reference, const ExpansionContext& context) {
  using runbook::ReferenceKind;
  switch (reference.kind) {
    case ReferenceKind::variable: {
      auto found = context.variables.find(reference.name);
      if (found == context.variables.end()) {
        return Error{"variable " + reference.name + " is not defined",
                     "define it in [vars] or pass --var " + reference.name + "=VALUE"};
      }
      return found->second;
    }
    case ReferenceKind::secretEnv:
    case ReferenceKind::secretFile: {
      auto found = context.secrets.find(runbook::secretReferenceText(reference));
      if (found == context.secrets.end()) {
        return Error{"secret " + runbook::secretReferenceText(reference).substr(7) +
                         " was not resolved in preflight",
                     ""};
      }
      return found->second;
    }
    case ReferenceKind::run: {
      auto found = context.runFields.find(reference.name);
      if (found == context.runFields.end()) {
        return Error{"run." + reference.name + " is not known", ""};
      }
      return found->second;
    }
    case ReferenceKind::lock:
      return context.fencingToken;
    case ReferenceKind::stepOutput: {
      const auto* outputs = context.outputs;
      auto step = outputs == nullptr ? decltype(outputs->end()){} : outputs->find(reference.step);
      if (outputs == nullptr || step == outputs->end()) {
        return Error{"${steps." + reference.step + ".outputs." + reference.name + "}: step " +
                         reference.step + " has no outputs",
                     "check that step " + reference.step + " ran and produced outputs"};
      }
      const auto* value = step->second.if_contains(reference.name);
      if (value == nullptr) {
        std::string keys;
        for (const auto& member : step->second) {
          keys += (keys.empty() ? "" : ", ") + std::string(member.key());
        }
        return Error{"${steps." + reference.step + ".outputs." + reference.name + "}: step " +
                         reference.step + " has no output " + reference.name,
                     keys.empty() ? "it produced no outputs" : "its outputs are: " + keys};
      }
      return outputText(*value);
    }
  }
  return Error{"unknown reference", ""};
}

}  // namespace

Result<std::string> expandText(std::string_view text, const ExpansionContext& context) {
  if (text.find('$') == std::string_view::npos) {
    return std::string(text);
  }
  return runbook::expandReferences(text, [&context](const runbook::Reference& reference) {
    return resolve(reference, context);
  });
}

namespace {

// Expands `field` in place; keeps the first error.
void expandInto(std::string& field, const ExpansionContext& context, std::optional<Error>& error) {
  if (error || field.find('$') == std::string::npos) {
    return;
  }
  Result<std::string> expanded = expandText(field, context);
  if (!expanded) {
    error = expanded.error();
    return;
  }
  field = std::move(*expanded);
}

Result<boost::json::value> expandValue(const boost::json::value& value,
                                       const ExpansionContext& context) {
  if (value.is_string()) {
    Result<std::string> text = expandText(value.as_string(), context);
    if (!text) {
      return text.error();
    }
    return boost::json::value(*text);
  }
  if (value.is_object()) {
    Result<boost::json::object> object = expandObject(value.as_object(), context);
    if (!object) {
      return object.error();
    }
    return boost::json::value(std::move(*object));
  }
  if (value.is_array()) {
    boost::json::array array;
    for (const auto& element : value.as_array()) {
      Result<boost::json::value> expanded = expandValue(element, context);
      if (!expanded) {
        return expanded.error();
      }
      array.push_back(std::move(*expanded));
    }
    return boost::json::value(std::move(array));
  }
  return value;
}

}  // namespace

Result<boost::json::object> expandObject(const boost::json::object& object,
                                         const ExpansionContext& context) {
  boost::json::object result;
  for (const auto& member : object) {
    Result<boost::json::value> value = expandValue(member.value(), context);
    if (!value) {
      return value.error();
    }
    result[member.key()] = std::move(*value);
  }
  return result;
}

Result<runbook::ExecSpec> expandExec(const runbook::ExecSpec& spec,
                                     const ExpansionContext& context) {
  runbook::ExecSpec result = spec;
  std::optional<Error> error;
  for (std::string& argument : result.argv) {
    expandInto(argument, context, error);
  }
  for (auto& [name, value] : result.environment) {
    expandInto(value, context, error);
  }
  expandInto(result.workingDirectory, context, error);
  if (error) {
    return *error;
  }
  return result;
}

Result<runbook::HttpSpec> expandHttp(const runbook::HttpSpec& spec,
                                     const ExpansionContext& context) {
  runbook::HttpSpec result = spec;
  std::optional<Error> error;
  expandInto(result.url, context, error);
  for (auto& [name, value] : result.headers) {
    expandInto(value, context, error);
  }
  expandInto(result.body, context, error);
  expandInto(result.expectBody, context, error);
  expandInto(result.caFile, context, error);
  expandInto(result.clientCertificate, context, error);
  expandInto(result.clientKey, context, error);
  if (error) {
    return *error;
  }
  return result;
}

Result<runbook::DecisionSpec> expandDecision(const runbook::DecisionSpec& spec,
                                             const ExpansionContext& context) {
  runbook::DecisionSpec result = spec;
  std::optional<Error> error;
  expandInto(result.question, context, error);
  for (auto& option : result.options) {
    expandInto(option.label, context, error);
    expandInto(option.impact, context, error);
  }
  if (error) {
    return *error;
  }
  return result;
}

}  // namespace lifeboat::engine
