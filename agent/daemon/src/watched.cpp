#include "watched.hpp"

#include <boost/json/value.hpp>
#include <set>
#include <sstream>

#include "lifeboat/runbook/input_guard.hpp"
#include "lifeboat/runbook/load.hpp"
#include "lifeboat/runbook/references.hpp"
#include "lifeboat/runbook/secrets.hpp"

namespace lifeboat::daemon {
namespace {

namespace json = boost::json;

class Expander {
 public:
  Expander(const runbook::Runbook& book, const std::map<std::string, std::string>& secrets)
      : book_(book), secrets_(secrets) {}

  Result<std::string> text(std::string_view value) const {
    return runbook::expandReferences(
        value, [this](const runbook::Reference& reference) -> Result<std::string> {
          if (reference.kind == runbook::ReferenceKind::variable) {
            for (const auto& [name, variable] : book_.variables) {
              if (name == reference.name) {
                return variable;
              }
            }
            return Error{"variable " + reference.name + " is not defined", ""};
          }
          if (reference.isSecret()) {
            auto found = secrets_.find(runbook::secretReferenceText(reference));
            if (found != secrets_.end()) {
              return found->second;
            }
            return Error{"secret " + runbook::secretReferenceText(reference) + " did not resolve",
                         ""};
          }
          return Error{"a trigger cannot use ${" + reference.name + "}",
                       "triggers run outside any run: only ${vars.*} and secrets"};
        });
  }

  Result<std::monostate> value(json::value& value) const {
    if (value.is_string()) {
      Result<std::string> expanded = text(value.get_string());
      if (!expanded) {
        return expanded.error();
      }
      value = *expanded;
    } else if (value.is_object()) {
      for (auto& member : value.get_object()) {
        if (auto done = this->value(member.value()); !done) {
          return done;
        }
      }
    } else if (value.is_array()) {
      for (json::value& item : value.get_array()) {
        if (auto done = this->value(item); !done) {
          return done;
        }
      }
    }
    return std::monostate{};
  }

  Result<runbook::Trigger> trigger(runbook::Trigger trigger) const {
    for (std::string* field : {&trigger.url, &trigger.host}) {
      Result<std::string> expanded = text(*field);
      if (!expanded) {
        return expanded.error();
      }
      *field = std::move(*expanded);
    }
    for (std::string& argument : trigger.command) {
      Result<std::string> expanded = text(argument);
      if (!expanded) {
        return expanded.error();
      }
      argument = std::move(*expanded);
    }
    json::value with = trigger.with;
    if (auto done = value(with); !done) {
      return done.error();
    }
    trigger.with = with.get_object();
    return trigger;
  }

 private:
  const runbook::Runbook& book_;
  const std::map<std::string, std::string>& secrets_;
};

}  // namespace

Result<std::vector<std::shared_ptr<const WatchedRunbook>>> loadWatchedRunbooks(
    const AgentConfig& config, plugin_host::Catalog& catalog) {
  Result<std::vector<std::filesystem::path>> files = runbookFiles(config);
  if (!files) {
    return files.error();
  }
  std::vector<std::shared_ptr<const WatchedRunbook>> loaded;
  std::ostringstream problems;
  std::map<std::string, std::string> services;  // service -> file
  for (const std::filesystem::path& file : *files) {
    runbook::LoadOptions options;
    options.describePlugin = [&catalog](std::string_view name) { return catalog.describe(name); };
    options.variables = config.variables;
    DiagnosticSink sink;
    std::optional<runbook::Runbook> book;
    Result<std::string> text = runbook::readInputFile(file, options.limits);
    if (!text) {
      sink.error(SourceLocation{}, text.error().message, text.error().hint);
    } else {
      book = runbook::loadRunbook(*text, file.string(), options, sink);
    }
    for (const Diagnostic& diagnostic : sink.sorted()) {
      if (diagnostic.severity == Severity::error) {
        problems << formatDiagnostic(file.string(), diagnostic) << '\n';
      }
    }
    if (!book) {
      continue;
    }
    if (book->triggers.empty()) {
      problems << file.string() << ": error: has no [[trigger]]: nothing for `lifeboat watch` "
               << "to check\n";
      continue;
    }
    const std::string& service = book->metadata.service;
    if (auto [where, added] = services.emplace(service, file.string()); !added) {
      problems << file.string() << ": error: service " << service << " is already watched by "
               << where->second << " (one runbook per service)\n";
      continue;
    }
    auto watched = std::make_shared<WatchedRunbook>();
    watched->file = file;
    watched->variables = config.variables;
    std::map<std::string, std::string> secrets;
    Result<Redactor> redactor = runbook::resolveAllSecrets(*book, {}, &secrets);
    if (!redactor) {
      problems << file.string() << ": error: " << redactor.error().message << '\n';
      continue;
    }
    watched->redactor = std::move(*redactor);
    Expander expander(*book, secrets);
    bool ok = true;
    for (std::size_t index = 0; index < book->triggers.size(); ++index) {
      Result<runbook::Trigger> expanded = expander.trigger(book->triggers[index]);
      if (!expanded) {
        const SourceLocation where = book->triggers[index].where;
        problems << file.string() << ':' << where.line << ':' << where.column
                 << ": error: trigger #" << index + 1 << ": " << expanded.error().message << '\n';
        ok = false;
        continue;
      }
      watched->triggers.push_back(std::move(*expanded));
    }
    for (const runbook::Trigger& trigger : watched->triggers) {
      const runbook::Target* target = book->findTarget(trigger.target);
      if (trigger.kind != runbook::TriggerKind::plugin || target == nullptr ||
          watched->probeTargets.contains(target->name)) {
        continue;
      }
      runbook::Target probeTarget = *target;
      json::value fields = probeTarget.fields;
      if (auto done = expander.value(fields); !done) {
        const SourceLocation where = target->where;
        problems << file.string() << ':' << where.line << ':' << where.column << ": error: target "
                 << target->name << " (checked by a trigger): " << done.error().message << '\n';
        ok = false;
        continue;
      }
      probeTarget.fields = fields.get_object();
      watched->probeTargets.emplace(target->name, std::move(probeTarget));
    }
    if (!ok) {
      continue;
    }
    watched->book = std::move(*book);
    loaded.push_back(std::move(watched));
  }
  std::string text = problems.str();
  if (!text.empty()) {
    text.pop_back();
    return Error{text, "fix the runbooks (lifeboat validate FILE shows every problem)"};
  }
  return loaded;
}

}  // namespace lifeboat::daemon
