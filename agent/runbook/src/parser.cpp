#include "parser.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "lifeboat/common/text.hpp"
#include "lifeboat/runbook/table_reader.hpp"
#include "step_parser.hpp"

namespace lifeboat::runbook {

boost::json::value toJson(const Node& node) {
  switch (node.kind) {
    case Node::Kind::string:
    case Node::Kind::datetime:
      return boost::json::value(node.text);
    case Node::Kind::integer:
      return boost::json::value(node.integer);
    case Node::Kind::floating:
      return boost::json::value(node.floating);
    case Node::Kind::boolean:
      return boost::json::value(node.boolean);
    case Node::Kind::array: {
      boost::json::array array;
      for (const Node& item : node.items) {
        array.push_back(toJson(item));
      }
      return array;
    }
    case Node::Kind::table: {
      boost::json::object object;
      for (const auto& [key, value] : node.members) {
        object[key] = toJson(value);
      }
      return object;
    }
  }
  return nullptr;
}

void collectStrings(const Node& node, StringSite::Owner owner, std::size_t index,
                    std::vector<StringSite>& sites) {
  if (node.isString()) {
    sites.push_back({owner, index, node.where, node.text});
  }
  for (const Node& item : node.items) {
    collectStrings(item, owner, index, sites);
  }
  for (const auto& [key, value] : node.members) {
    collectStrings(value, owner, index, sites);
  }
}

namespace {

bool isName(std::string_view text) {
  if (text.empty() || text.size() > 64) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) {
      return false;
    }
  }
  return true;
}

void parseMetadata(const Node& root, Runbook& runbook, DiagnosticSink& sink) {
  const Node* table = root.find("runbook");
  if (table == nullptr) {
    sink.error(SourceLocation{1, 1}, "missing [runbook] table",
               "start the file with [runbook] and set name and service");
    return;
  }
  if (!table->isTable()) {
    sink.error(table->where,
               "'runbook' must be a table, not " + std::string(kindName(table->kind)));
    return;
  }
  TableReader reader(*table, "[runbook]", {"name", "service", "owner", "description"}, sink);
  runbook.metadata.where = table->where;
  if (auto name = reader.string("name", true)) {
    if (!isName(*name)) {
      sink.error(reader.where("name"), "runbook name \"" + *name + "\" is not a valid name",
                 "use lower-case letters, digits, '-', '_' and '.', starting with a letter or "
                 "digit, at most 64 characters");
    }
    runbook.metadata.name = *name;
  }
  if (auto service = reader.string("service", true)) {
    if (!isName(*service)) {
      sink.error(reader.where("service"), "service \"" + *service + "\" is not a valid name",
                 "use lower-case letters, digits, '-', '_' and '.', starting with a letter or "
                 "digit, at most 64 characters");
    }
    runbook.metadata.service = *service;
  }
  runbook.metadata.owner = reader.string("owner").value_or("");
  runbook.metadata.description = reader.string("description").value_or("");
}

void parseObjectives(const Node& root, Runbook& runbook, DiagnosticSink& sink) {
  const Node* table = root.find("objectives");
  if (table == nullptr) {
    return;
  }
  if (!table->isTable()) {
    sink.error(table->where,
               "'objectives' must be a table, not " + std::string(kindName(table->kind)));
    return;
  }
  TableReader reader(*table, "[objectives]", {"rto", "rpo"}, sink);
  // A location stays line 0 when the key is not written at all.
  runbook.objectives.rto = reader.duration("rto");
  if (reader.has("rto")) {
    runbook.objectives.rtoWhere = reader.where("rto");
  }
  runbook.objectives.rpo = reader.duration("rpo");
  if (reader.has("rpo")) {
    runbook.objectives.rpoWhere = reader.where("rpo");
  }
}

void parsePolicy(const Node& root, Runbook& runbook, DiagnosticSink& sink) {
  const Node* table = root.find("policy");
  if (table == nullptr) {
    return;
  }
  if (!table->isTable()) {
    sink.error(table->where, "'policy' must be a table, not " + std::string(kindName(table->kind)));
    return;
  }
  TableReader reader(*table, "[policy]",
                     {"automatic", "data_residency", "max_parallel", "default_timeout",
                      "run_timeout", "drill_may_touch_production"},
                     sink);
  Policy& policy = runbook.policy;
  policy.where = table->where;
  policy.automatic = reader.boolean("automatic").value_or(false);
  policy.dataResidency = reader.strings("data_residency").value_or(std::vector<std::string>{});
  policy.maxParallel = static_cast<int>(reader.integer("max_parallel", 1, 256).value_or(4));
  policy.defaultTimeout = reader.duration("default_timeout").value_or(policy.defaultTimeout);
  if (policy.defaultTimeout.count() == 0) {
    sink.error(reader.where("default_timeout"), "[policy] default_timeout must be longer than 0s");
  }
  policy.runTimeout = reader.duration("run_timeout");
  if (policy.runTimeout && policy.runTimeout->count() == 0) {
    sink.error(reader.where("run_timeout"), "[policy] run_timeout must be longer than 0s",
               "leave it out for no limit on the whole run");
  }
  policy.drillMayTouchProduction = reader.boolean("drill_may_touch_production").value_or(false);
}

void parseVariables(const Node& root, ParsedRunbook& parsed, DiagnosticSink& sink) {
  const Node* table = root.find("vars");
  if (table == nullptr) {
    return;
  }
  if (!table->isTable()) {
    sink.error(table->where, "'vars' must be a table, not " + std::string(kindName(table->kind)));
    return;
  }
  for (const auto& [name, value] : table->members) {
    if (!isVariableName(name)) {
      sink.error(value.where, "variable name " + inQuotes(name) + " is not valid",
                 "use letters, digits and '_', not starting with a digit");
      continue;
    }
    std::optional<std::string> text = variableText(value);
    if (!text) {
      sink.error(value.where, "variable " + inQuotes(name) +
                                  " must be a string, integer or boolean, not " +
                                  std::string(kindName(value.kind)));
      continue;
    }
    if (value.isString()) {
      parsed.strings.push_back({StringSite::Owner::variable, 0, value.where, *text});
    }
    parsed.runbook.variables.emplace_back(name, std::move(*text));
  }
}

void parseTargets(const Node& root, ParsedRunbook& parsed, DiagnosticSink& sink) {
  const Node* table = root.find("targets");
  if (table == nullptr) {
    return;
  }
  if (!table->isTable()) {
    sink.error(table->where, "'targets' must be a table, not " + std::string(kindName(table->kind)),
               "write each target as [targets.NAME]");
    return;
  }
  for (const auto& [name, value] : table->members) {
    if (!isName(name)) {
      sink.error(value.where, "target name " + inQuotes(name) + " is not a valid name",
                 "use lower-case letters, digits, '-', '_' and '.'");
      continue;
    }
    if (!value.isTable()) {
      sink.error(value.where, "target " + inQuotes(name) + " must be a table, not " +
                                  std::string(kindName(value.kind)));
      continue;
    }
    Target target;
    target.name = name;
    target.where = value.where;
    // Plugin-specific keys are allowed here and checked against the plugin's
    // description during validation; so read the common keys by hand.
    const std::string context = "target " + inQuotes(name);
    for (const auto& [key, field] : value.members) {
      if (key == "plugin" || key == "region" || key == "description") {
        if (!field.isString()) {
          sink.error(field.where, keyIn(key, context) + " must be a string, not " +
                                      std::string(kindName(field.kind)));
          continue;
        }
        if (field.text.find("${") != std::string::npos) {
          sink.error(field.where, keyIn(key, context) + " cannot hold a reference",
                     "write the value itself: it is checked before any run starts");
          continue;
        }
        if (key == "plugin") {
          target.plugin = field.text;
          target.pluginWhere = field.where;
        } else if (key == "region") {
          target.region = field.text;
          target.regionWhere = field.where;
        } else {
          target.description = field.text;
        }
      } else if (key == "production") {
        if (field.kind != Node::Kind::boolean) {
          sink.error(field.where, keyIn(key, context) + " must be a boolean (true or false), not " +
                                      std::string(kindName(field.kind)));
          continue;
        }
        target.production = field.boolean;
      } else {
        target.fields[key] = toJson(field);
        target.fieldLocations.emplace_back(key, field.where);
        collectStrings(field, StringSite::Owner::target, parsed.runbook.targets.size(),
                       parsed.strings);
      }
    }
    parsed.runbook.targets.push_back(std::move(target));
  }
}

void parseTriggers(const Node& root, ParsedRunbook& parsed, DiagnosticSink& sink) {
  const Node* list = root.find("trigger");
  if (list == nullptr) {
    return;
  }
  if (!list->isArray()) {
    sink.error(list->where, "'trigger' must be an array of tables",
               "write each trigger as [[trigger]]");
    return;
  }
  std::size_t number = 0;
  for (const Node& item : list->items) {
    ++number;
    if (!item.isTable()) {
      sink.error(item.where,
                 "each trigger must be a table, not " + std::string(kindName(item.kind)));
      continue;
    }
    const std::string context = "trigger #" + std::to_string(number);
    TableReader reader(item, context,
                       {"kind", "url", "method", "expect_status", "host", "port", "command",
                        "target", "action", "with", "alertname", "labels", "interval", "timeout",
                        "failures", "recoveries", "cooldown"},
                       sink);
    Trigger trigger;
    trigger.where = item.where;
    const std::optional<std::string> kind =
        reader.choice("kind", {"http", "tcp", "exec", "plugin", "alertmanager"});
    if (!reader.has("kind")) {
      reader.requireKey("kind");
    }
    if (!kind) {
      continue;
    }
    auto only = [&](std::initializer_list<std::string_view> keys, std::string_view forKind) {
      for (std::string_view key : keys) {
        if (reader.has(key)) {
          sink.error(reader.where(key), keyIn(key, context) + " does not apply to kind \"" +
                                            std::string(forKind) + "\"");
        }
      }
    };
    if (*kind == "http") {
      trigger.kind = TriggerKind::http;
      trigger.url = reader.string("url", true).value_or("");
      trigger.method = reader.choice("method", {"GET", "HEAD", "POST"}).value_or("GET");
      trigger.expectStatus =
          static_cast<int>(reader.integer("expect_status", 100, 599).value_or(200));
      if (!trigger.url.empty() && !trigger.url.starts_with("http://") &&
          !trigger.url.starts_with("https://")) {
        sink.error(reader.where("url"),
                   keyIn("url", context) + " must start with http:// or https://");
      }
      only({"host", "port", "command", "target", "action", "with", "alertname", "labels"}, *kind);
    } else if (*kind == "tcp") {
      trigger.kind = TriggerKind::tcp;
      trigger.host = reader.string("host", true).value_or("");
      trigger.port = static_cast<int>(reader.integer("port", 1, 65535).value_or(0));
      if (!reader.has("port")) {
        reader.requireKey("port");
      }
      only({"url", "method", "expect_status", "command", "target", "action", "with", "alertname",
            "labels"},
           *kind);
    } else if (*kind == "exec") {
      trigger.kind = TriggerKind::exec;
      trigger.command = reader.strings("command", true).value_or(std::vector<std::string>{});
      if (reader.has("command") && trigger.command.empty()) {
        sink.error(reader.where("command"), keyIn("command", context) + " must not be empty");
      }
      only({"url", "method", "expect_status", "host", "port", "target", "action", "with",
            "alertname", "labels"},
           *kind);
    } else if (*kind == "plugin") {
      trigger.kind = TriggerKind::plugin;
      trigger.target = reader.string("target", true).value_or("");
      trigger.action = reader.string("action", true).value_or("");
      if (const Node* with = reader.table("with")) {
        trigger.with = toJson(*with).as_object();
      }
      only({"url", "method", "expect_status", "host", "port", "command", "alertname", "labels"},
           *kind);
    } else {
      trigger.kind = TriggerKind::alertmanager;
      trigger.alertname = reader.string("alertname", true).value_or("");
      if (const Node* labels = reader.table("labels")) {
        for (const auto& [key, value] : labels->members) {
          if (!value.isString()) {
            sink.error(value.where, "label " + inQuotes(key) + " in " + context +
                                        " must be a string, not " +
                                        std::string(kindName(value.kind)));
            continue;
          }
          trigger.matchLabels.emplace_back(key, value.text);
        }
      }
      only({"url", "method", "expect_status", "host", "port", "command", "target", "action", "with",
            "interval", "timeout", "failures", "recoveries"},
           *kind);
    }
    trigger.interval = reader.duration("interval").value_or(trigger.interval);
    // A check must end before the next one starts: the default timeout is 5s
    // or the interval, whichever is shorter.
    trigger.timeout =
        reader.duration("timeout").value_or(std::min(trigger.timeout, trigger.interval));
    trigger.failures = static_cast<int>(reader.integer("failures", 1, 1000).value_or(3));
    trigger.recoveries = static_cast<int>(reader.integer("recoveries", 1, 1000).value_or(2));
    trigger.cooldown = reader.duration("cooldown").value_or(trigger.cooldown);
    if (trigger.kind != TriggerKind::alertmanager) {
      if (trigger.interval.count() < 100) {
        sink.error(reader.where("interval"),
                   keyIn("interval", context) + " must be at least 100ms");
      } else if (trigger.timeout > trigger.interval) {
        sink.error(reader.where("timeout"),
                   keyIn("timeout", context) + " (" + formatDuration(trigger.timeout) +
                       ") must not exceed the interval (" + formatDuration(trigger.interval) + ")");
      }
    }
    collectStrings(item, StringSite::Owner::trigger, parsed.runbook.triggers.size(),
                   parsed.strings);
    parsed.runbook.triggers.push_back(std::move(trigger));
  }
}

}  // namespace

ParsedRunbook parseModel(const Node& root, DiagnosticSink& sink) {
  ParsedRunbook parsed;
  {
    TableReader top(root, "the runbook",
                    {"runbook", "objectives", "policy", "vars", "targets", "trigger", "step"},
                    sink);
  }
  parseMetadata(root, parsed.runbook, sink);
  parseObjectives(root, parsed.runbook, sink);
  parsePolicy(root, parsed.runbook, sink);
  parseVariables(root, parsed, sink);
  parseTargets(root, parsed, sink);
  parseTriggers(root, parsed, sink);
  parseSteps(root, parsed, sink);
  return parsed;
}

}  // namespace lifeboat::runbook
