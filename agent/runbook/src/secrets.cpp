#include "lifeboat/runbook/secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <system_error>
#include <utility>
#include <variant>

#include "lifeboat/common/read_file.hpp"

namespace lifeboat::runbook {

namespace {

// Calls `visit` with every string of the runbook in which references are
// expanded at run time (section 11.1 of the runbook reference).
class StringWalker {
 public:
  explicit StringWalker(const std::function<void(std::string_view)>& visit) : visit_(visit) {}

  void walk(const Runbook& runbook) {
    for (const Target& target : runbook.targets) {
      json(target.fields);
    }
    for (const Trigger& trigger : runbook.triggers) {
      visit_(trigger.url);
      visit_(trigger.host);
      strings(trigger.command);
      json(trigger.with);
      visit_(trigger.alertname);
      for (const auto& [label, value] : trigger.matchLabels) {
        visit_(value);
      }
    }
    for (const Step& step : runbook.steps) {
      std::visit([this](const auto& spec) { action(spec); }, step.action);
      if (step.rollback) {
        std::visit([this](const auto& spec) { action(spec); }, step.rollback->action);
      }
    }
  }

 private:
  void strings(const std::vector<std::string>& values) {
    for (const std::string& value : values)
      visit_(value);
  }
  void pairs(const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [name, value] : values) {
      visit_(name);
      visit_(value);
    }
  }

  void json(const boost::json::value& value) {
    if (value.is_string()) {
      visit_(std::string_view(value.get_string()));
    } else if (value.is_array()) {
      for (const boost::json::value& item : value.get_array())
        json(item);
    } else if (value.is_object()) {
      json(value.get_object());
    }
  }
  void json(const boost::json::object& object) {
    for (const auto& entry : object)
      json(entry.value());
  }

  void action(const ExecSpec& spec) {
    strings(spec.argv);
    pairs(spec.environment);
    visit_(spec.workingDirectory);
  }
  void action(const HttpSpec& spec) {
    visit_(spec.method);
    visit_(spec.url);
    pairs(spec.headers);
    visit_(spec.body);
    visit_(spec.expectBody);
    visit_(spec.caFile);
    visit_(spec.clientCertificate);
    visit_(spec.clientKey);
  }
  void action(const PluginActionSpec& spec) { json(spec.with); }
  void action(const DecisionSpec& spec) {
    visit_(spec.question);
    for (const DecisionOption& option : spec.options) {
      visit_(option.label);
      visit_(option.impact);
    }
  }
  void action(const NotifySpec& spec) { visit_(spec.message); }

  const std::function<void(std::string_view)>& visit_;
};

}  // namespace

std::optional<std::string> processEnvironment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr)
    return std::nullopt;
  return std::string(value);
}

std::string secretReferenceText(const Reference& reference) {
  switch (reference.kind) {
    case ReferenceKind::secretEnv:
      return "secret:env:" + reference.name;
    case ReferenceKind::secretFile:
      return "secret:file:" + reference.name;
    default:
      return {};
  }
}

Result<std::string> resolveSecret(const Reference& reference, const SecretSources& sources) {
  switch (reference.kind) {
    case ReferenceKind::secretEnv: {
      std::optional<std::string> value = sources.environment ? sources.environment(reference.name)
                                                             : processEnvironment(reference.name);
      if (!value) {
        return Error{"secret env:" + reference.name + " is not set",
                     "set " + reference.name + " in the environment of the agent"};
      }
      return std::move(*value);
    }
    case ReferenceKind::secretFile:
      return readSecretFile(reference.name, sources.maxFileBytes, "the agent's user");
    default:
      return Error{"not a secret reference",
                   "secrets look like ${secret:env:NAME} or "
                   "${secret:file:PATH}"};
  }
}

Result<Redactor> resolveAllSecrets(const Runbook& runbook, const SecretSources& sources,
                                   std::map<std::string, std::string>* resolved,
                                   std::vector<std::string>* unredactable) {
  // Distinct secrets in the order they are first written.
  std::vector<Reference> secrets;
  std::set<std::string> seen;
  std::vector<std::string> problems;
  const std::function<void(std::string_view)> collect = [&](std::string_view text) {
    if (text.find("${") == std::string_view::npos)
      return;
    Result<std::vector<Reference>> references = findReferences(text);
    if (!references) {
      // loadRunbook() rejects these; a hand-built model may still have one.
      problems.push_back(references.error().message);
      return;
    }
    for (Reference& reference : *references) {
      if (reference.isSecret() && seen.insert(secretReferenceText(reference)).second) {
        secrets.push_back(std::move(reference));
      }
    }
  };
  StringWalker(collect).walk(runbook);

  Redactor redactor;
  std::map<std::string, std::string> values;
  std::vector<std::string> refused;
  for (const Reference& reference : secrets) {
    Result<std::string> value = resolveSecret(reference, sources);
    if (!value) {
      problems.push_back(value.error().message);
      continue;
    }
    const std::string key = secretReferenceText(reference);
    if (!redactor.add(*value)) {
      refused.push_back(key);
    }
    values[key] = std::move(*value);
  }
  if (!problems.empty()) {
    std::string message;
    for (const std::string& problem : problems) {
      if (!message.empty())
        message += '\n';
      message += problem;
    }
    return Error{std::move(message),
                 "secrets are read when a run starts; fix each one listed and start again"};
  }
  if (resolved != nullptr) {
    *resolved = std::move(values);
  }
  if (unredactable != nullptr) {
    *unredactable = std::move(refused);
  }
  return redactor;
}

}  // namespace lifeboat::runbook
