#include "step_parser.hpp"

#include <boost/json/value.hpp>
#include <set>

#include "lifeboat/common/text.hpp"
#include "lifeboat/runbook/table_reader.hpp"

namespace lifeboat::runbook {
namespace {

bool isStepId(std::string_view text) {
  if (text.empty() || text.size() > 64) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) {
      return false;
    }
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> stringTable(const Node& table,
                                                             std::string_view what,
                                                             std::string_view context,
                                                             DiagnosticSink& sink) {
  std::vector<std::pair<std::string, std::string>> result;
  for (const auto& [key, value] : table.members) {
    if (!value.isString()) {
      sink.error(value.where, std::string(what) + " " + inQuotes(key) + " in " +
                                  std::string(context) + " must be a string, not " +
                                  std::string(kindName(value.kind)));
      continue;
    }
    result.emplace_back(key, value.text);
  }
  return result;
}

std::optional<ExecSpec> parseExec(const Node& node, const std::string& context,
                                  DiagnosticSink& sink) {
  ExecSpec spec;
  if (node.isArray()) {
    for (const Node& item : node.items) {
      if (!item.isString()) {
        sink.error(item.where, "'exec' in " + context + " must hold only strings, not " +
                                   std::string(kindName(item.kind)));
        return std::nullopt;
      }
      spec.argv.push_back(item.text);
    }
  } else if (node.isTable()) {
    const std::string execContext = "'exec' of " + context;
    TableReader reader(node, execContext, {"argv", "env", "cwd", "shell"}, sink);
    spec.argv = reader.strings("argv", true).value_or(std::vector<std::string>{});
    if (const Node* env = reader.table("env")) {
      spec.environment = stringTable(*env, "variable", execContext, sink);
    }
    spec.workingDirectory = reader.string("cwd").value_or("");
    spec.shell = reader.boolean("shell").value_or(false);
    if (spec.shell && spec.argv.size() != 1) {
      sink.error(reader.where("argv"),
                 "with shell = true, 'argv' in " + execContext + " must hold exactly one string",
                 "the script text run by /bin/sh -c");
    }
    if (!reader.has("argv")) {
      return std::nullopt;
    }
  } else {
    sink.error(node.where,
               "'exec' in " + context + " must be an array of strings or a table, not " +
                   std::string(kindName(node.kind)),
               "write exec = [\"/path/to/program\", \"arg\"]");
    return std::nullopt;
  }
  if (spec.argv.empty()) {
    sink.error(node.where, "'exec' in " + context + " names no program",
               "write exec = [\"/path/to/program\", \"arg\"]");
    return std::nullopt;
  }
  return spec;
}

std::optional<HttpSpec> parseHttp(const Node& node, const std::string& context,
                                  DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(node.where,
               "'http' in " + context + " must be a table, not " + std::string(kindName(node.kind)),
               "write http = { url = \"http://127.0.0.1:8080/health\", expect_status = 200 }");
    return std::nullopt;
  }
  const std::string httpContext = "'http' of " + context;
  TableReader reader(node, httpContext,
                     {"url", "method", "headers", "body", "expect_status", "expect_body", "ca_file",
                      "client_cert", "client_key", "insecure_skip_verify"},
                     sink);
  HttpSpec spec;
  spec.url = reader.string("url", true).value_or("");
  if (!spec.url.empty() && !spec.url.starts_with("http://") && !spec.url.starts_with("https://") &&
      !spec.url.starts_with("${")) {
    sink.error(reader.where("url"),
               keyIn("url", httpContext) + " must start with http:// or https://");
  }
  spec.method =
      reader.choice("method", {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}).value_or("GET");
  if (const Node* headers = reader.table("headers")) {
    spec.headers = stringTable(*headers, "header", httpContext, sink);
  }
  spec.body = reader.string("body").value_or("");
  if (const Node* status = reader.node("expect_status")) {
    spec.expectStatus.clear();
    auto addStatus = [&](const Node& item) {
      if (item.kind != Node::Kind::integer || item.integer < 100 || item.integer > 599) {
        sink.error(item.where, keyIn("expect_status", httpContext) +
                                   " must be an HTTP status from 100 to 599 or an array of them");
        return;
      }
      spec.expectStatus.push_back(static_cast<int>(item.integer));
    };
    if (status->isArray()) {
      for (const Node& item : status->items) {
        addStatus(item);
      }
      if (status->items.empty()) {
        sink.error(status->where, keyIn("expect_status", httpContext) + " is empty",
                   "list the statuses that mean success, e.g. [200, 204]");
      }
    } else {
      addStatus(*status);
    }
  }
  spec.expectBody = reader.string("expect_body").value_or("");
  spec.caFile = reader.string("ca_file").value_or("");
  spec.clientCertificate = reader.string("client_cert").value_or("");
  spec.clientKey = reader.string("client_key").value_or("");
  if (spec.clientCertificate.empty() != spec.clientKey.empty()) {
    sink.error(node.where, httpContext + " needs both client_cert and client_key, or neither");
  }
  spec.insecureSkipVerify = reader.boolean("insecure_skip_verify").value_or(false);
  if (spec.url.empty()) {
    return std::nullopt;
  }
  return spec;
}

std::optional<DecisionSpec> parseDecision(const Node& node, const std::string& context,
                                          DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(node.where, "'decision' in " + context + " must be a table, not " +
                               std::string(kindName(node.kind)));
    return std::nullopt;
  }
  const std::string decisionContext = "'decision' of " + context;
  TableReader reader(
      node, decisionContext,
      {"question", "options", "approvers", "deadline", "default", "require_rationale"}, sink);
  DecisionSpec spec;
  spec.question = reader.string("question", true).value_or("");
  spec.approvers = reader.strings("approvers").value_or(std::vector<std::string>{});
  spec.deadline = reader.duration("deadline");
  spec.defaultOption = reader.string("default").value_or("");
  spec.requireRationale = reader.boolean("require_rationale").value_or(true);
  const Node* options = reader.node("options");
  if (options == nullptr) {
    reader.requireKey("options");
  } else if (!options->isArray()) {
    reader.wrongType("options", *options, "an array of tables",
                     "write each option as [[step.decision.options]] with id, label and impact");
  } else {
    std::set<std::string, std::less<>> seen;
    for (const Node& item : options->items) {
      if (!item.isTable()) {
        sink.error(item.where, "each option of " + decisionContext + " must be a table, not " +
                                   std::string(kindName(item.kind)));
        continue;
      }
      TableReader optionReader(item, "an option of " + decisionContext, {"id", "label", "impact"},
                               sink);
      DecisionOption option;
      option.id = optionReader.string("id", true).value_or("");
      if (optionReader.has("id") && !isStepId(option.id)) {
        sink.error(optionReader.where("id"),
                   "option id \"" + option.id + "\" of " + decisionContext + " is not valid",
                   "use letters, digits, '-' and '_', starting with a letter or digit");
      }
      option.label = optionReader.string("label").value_or(option.id);
      option.impact = optionReader.string("impact", true).value_or("");
      if (!option.id.empty() && !seen.insert(option.id).second) {
        sink.error(optionReader.where("id"),
                   "duplicate option id " + inQuotes(option.id) + " in " + decisionContext);
      }
      spec.options.push_back(std::move(option));
    }
    if (spec.options.size() < 2) {
      sink.error(options->where, decisionContext + " must offer at least two options",
                 "a decision lists the alternatives and the impact of each");
    }
  }
  if (!spec.defaultOption.empty()) {
    bool known = false;
    std::vector<std::string> ids;
    for (const DecisionOption& option : spec.options) {
      known = known || option.id == spec.defaultOption;
      ids.push_back(option.id);
    }
    if (!known && !spec.options.empty()) {
      std::string hint;
      if (auto suggestion = closestMatch(spec.defaultOption, ids)) {
        hint = "did you mean " + inQuotes(*suggestion) + "?";
      }
      sink.error(reader.where("default"),
                 "default option " + inQuotes(spec.defaultOption) + " of " + decisionContext +
                     " is not one of its options",
                 hint);
    }
    if (!spec.deadline) {
      sink.error(reader.where("default"), decisionContext + " has a default but no deadline",
                 "the default is taken when the deadline passes: add deadline = \"15m\"");
    }
  }
  return spec;
}

std::optional<NotifySpec> parseNotify(const Node& node, const std::string& context,
                                      DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(
        node.where,
        "'notify' in " + context + " must be a table, not " + std::string(kindName(node.kind)),
        "write notify = { audience = \"customers\", template = \"restored\" }");
    return std::nullopt;
  }
  const std::string notifyContext = "'notify' of " + context;
  TableReader reader(node, notifyContext, {"audience", "template", "message"}, sink);
  NotifySpec spec;
  spec.audience = reader.string("audience", true).value_or("");
  spec.templateName = reader.string("template").value_or("");
  spec.message = reader.string("message").value_or("");
  if (!reader.has("template") && !reader.has("message")) {
    sink.error(node.where, notifyContext + " needs a template or a message");
  }
  return spec;
}

std::optional<RetryPolicy> parseRetry(const Node& node, const std::string& context,
                                      DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(
        node.where,
        "'retry' in " + context + " must be a table, not " + std::string(kindName(node.kind)),
        "write retry = { attempts = 3, backoff = \"2s\" }");
    return std::nullopt;
  }
  const std::string retryContext = "'retry' of " + context;
  TableReader reader(node, retryContext,
                     {"attempts", "backoff", "multiplier", "max_backoff", "jitter"}, sink);
  RetryPolicy retry;
  retry.attempts = static_cast<int>(reader.integer("attempts", 1, 100).value_or(retry.attempts));
  retry.backoff = reader.duration("backoff").value_or(retry.backoff);
  if (const Node* multiplier = reader.node("multiplier")) {
    const bool number =
        multiplier->kind == Node::Kind::floating || multiplier->kind == Node::Kind::integer;
    const double value = multiplier->kind == Node::Kind::floating
                             ? multiplier->floating
                             : static_cast<double>(multiplier->integer);
    if (!number || !(value >= 1.0 && value <= 10.0)) {
      sink.error(multiplier->where,
                 keyIn("multiplier", retryContext) + " must be a number from 1 to 10");
    } else {
      retry.multiplier = value;
    }
  }
  retry.maxBackoff =
      reader.duration("max_backoff").value_or(std::max(retry.maxBackoff, retry.backoff));
  retry.jitter = reader.boolean("jitter").value_or(true);
  if (retry.maxBackoff < retry.backoff) {
    sink.error(reader.where("max_backoff"),
               keyIn("max_backoff", retryContext) + " is shorter than the backoff");
  }
  return retry;
}

std::optional<WaitModifier> parseWait(const Node& node, const std::string& context,
                                      DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(node.where,
               "'wait' in " + context + " must be a table, not " + std::string(kindName(node.kind)),
               "write wait = { within = \"60s\", every = \"1s\" }");
    return std::nullopt;
  }
  const std::string waitContext = "'wait' of " + context;
  TableReader reader(node, waitContext, {"within", "every"}, sink);
  WaitModifier wait;
  std::optional<Milliseconds> within = reader.duration("within", true);
  wait.every = reader.duration("every").value_or(wait.every);
  if (!within) {
    return std::nullopt;
  }
  wait.within = *within;
  if (wait.every.count() < 10) {
    sink.error(reader.where("every"), keyIn("every", waitContext) + " must be at least 10ms");
  } else if (wait.every > wait.within) {
    sink.error(reader.where("every"),
               keyIn("every", waitContext) + " (" + formatDuration(wait.every) +
                   ") is longer than 'within' (" + formatDuration(wait.within) + ")");
  }
  return wait;
}

std::optional<RollbackSpec> parseRollback(const Node& node, const std::string& context,
                                          std::size_t stepIndex, ParsedRunbook& parsed,
                                          DiagnosticSink& sink) {
  if (!node.isTable()) {
    sink.error(
        node.where,
        "'rollback' in " + context + " must be a table, not " + std::string(kindName(node.kind)),
        "write rollback = { target = \"standby\", action = \"demote\" } or rollback = { "
        "exec = [...] }");
    return std::nullopt;
  }
  const std::string rollbackContext = "'rollback' of " + context;
  TableReader reader(node, rollbackContext, {"target", "action", "with", "exec"}, sink);
  collectStrings(node, StringSite::Owner::rollback, stepIndex, parsed.strings);
  RollbackSpec rollback;
  rollback.where = node.where;
  if (reader.has("exec")) {
    if (reader.has("action") || reader.has("with") || reader.has("target")) {
      sink.error(node.where, rollbackContext + " mixes exec with target/action/with",
                 "give either exec = [...] or target + action (+ with)");
      return std::nullopt;
    }
    std::optional<ExecSpec> exec = parseExec(*reader.node("exec"), rollbackContext, sink);
    if (!exec) {
      return std::nullopt;
    }
    rollback.action = std::move(*exec);
    return rollback;
  }
  PluginActionSpec action;
  std::optional<std::string> actionName = reader.string("action");
  if (!actionName) {
    if (!reader.has("action")) {
      sink.error(node.where, rollbackContext + " needs either exec = [...] or target + action");
    }
    return std::nullopt;
  }
  action.action = *actionName;
  action.actionWhere = reader.where("action");
  action.target = reader.string("target", true).value_or("");
  action.targetWhere = reader.where("target");
  if (const Node* with = reader.table("with")) {
    action.with = toJson(*with).as_object();
    for (const auto& [key, value] : with->members) {
      action.withLocations.emplace_back(key, value.where);
    }
  }
  rollback.action = std::move(action);
  return rollback;
}

}  // namespace

void parseSteps(const Node& root, ParsedRunbook& parsed, DiagnosticSink& sink) {
  const Node* list = root.find("step");
  if (list == nullptr) {
    sink.error(root.where, "the runbook has no steps", "add at least one [[step]]");
    return;
  }
  if (!list->isArray()) {
    sink.error(list->where, "'step' must be an array of tables", "write each step as [[step]]");
    return;
  }
  std::size_t number = 0;
  for (const Node& item : list->items) {
    ++number;
    if (!item.isTable()) {
      sink.error(item.where, "each step must be a table, not " + std::string(kindName(item.kind)));
      continue;
    }
    Step step;
    step.where = item.where;
    std::string context = "step #" + std::to_string(number);
    if (const Node* id = item.find("id"); id != nullptr && id->isString() && isStepId(id->text)) {
      step.id = id->text;
      context = "step " + inQuotes(step.id);
    }
    TableReader reader(item, context,
                       {"id",
                        "name",
                        "after",
                        "timeout",
                        "retry",
                        "on_failure",
                        "rollback",
                        "when",
                        "cleanup",
                        "idempotent",
                        "restores_service",
                        "measures",
                        "wait",
                        "target",
                        "exec",
                        "http",
                        "action",
                        "with",
                        "decision",
                        "notify"},
                       sink);
    if (step.id.empty()) {
      if (std::optional<std::string> id = reader.string("id", true)) {
        sink.error(reader.where("id"), "step id \"" + *id + "\" is not valid",
                   "use letters, digits, '-' and '_', starting with a letter or digit, at most 64 "
                   "characters");
      }
      parsed.complete = false;
    }
    step.name = reader.string("name").value_or(step.id);
    if (auto after = reader.strings("after")) {
      step.after = *after;
      const Node* afterNode = reader.node("after");
      for (const Node& entry : afterNode->items) {
        step.afterLocations.push_back(entry.where);
      }
    }
    step.timeout = reader.duration("timeout");
    if (step.timeout && step.timeout->count() == 0) {
      sink.error(reader.where("timeout"), keyIn("timeout", context) + " must be longer than 0s");
    }
    if (const Node* retry = reader.node("retry")) {
      step.retry = parseRetry(*retry, context, sink).value_or(RetryPolicy{});
    }
    if (auto onFailure = reader.choice("on_failure", {"abort", "continue", "rollback"})) {
      step.onFailure = *onFailure == "abort"      ? OnFailure::abort
                       : *onFailure == "continue" ? OnFailure::continueRun
                                                  : OnFailure::rollback;
    }
    if (auto when = reader.choice("when", {"always", "drill", "real"})) {
      step.when = *when == "always" ? When::always : *when == "drill" ? When::drill : When::real;
    }
    step.cleanup = reader.boolean("cleanup").value_or(false);
    step.idempotent = reader.boolean("idempotent").value_or(false);
    step.restoresService = reader.boolean("restores_service").value_or(false);
    if (auto measures = reader.choice("measures", {"rpo"})) {
      step.measures = Measures::rpo;
      step.measuresWhere = reader.where("measures");
    }
    if (const Node* wait = reader.node("wait")) {
      step.wait = parseWait(*wait, context, sink);
    }
    step.target = reader.string("target").value_or("");
    step.targetWhere = reader.where("target");

    // Exactly one kind.
    std::vector<std::string_view> kinds;
    for (std::string_view key : {"exec", "http", "action", "decision", "notify"}) {
      if (reader.has(key)) {
        kinds.push_back(key);
      }
    }
    const std::size_t stepIndex = parsed.runbook.steps.size();
    bool kindOk = false;
    if (kinds.empty()) {
      sink.error(item.where, context + " has no kind",
                 "give exactly one of exec, http, action (with target), decision or notify");
    } else if (kinds.size() > 1) {
      std::string list;
      for (std::string_view kind : kinds) {
        list += list.empty() ? "" : ", ";
        list += kind;
      }
      sink.error(reader.where(kinds[1]),
                 context + " has " + std::to_string(kinds.size()) + " kinds (" + list + ")",
                 "give exactly one of exec, http, action (with target), decision or notify; "
                 "split it into several steps");
    } else {
      const std::string_view kind = kinds.front();
      const Node& body = *reader.node(kind);
      step.kindWhere = body.where;
      if (kind == "exec") {
        step.kind = StepKind::exec;
        if (auto spec = parseExec(body, context, sink)) {
          step.action = std::move(*spec);
          kindOk = true;
        }
      } else if (kind == "http") {
        step.kind = StepKind::http;
        if (auto spec = parseHttp(body, context, sink)) {
          step.action = std::move(*spec);
          kindOk = true;
        }
      } else if (kind == "action") {
        step.kind = StepKind::plugin;
        PluginActionSpec spec;
        if (auto action = reader.string("action")) {
          spec.action = *action;
          spec.actionWhere = body.where;
          spec.target = step.target;
          spec.targetWhere = step.targetWhere;
          if (!reader.has("target")) {
            sink.error(item.where,
                       context + " runs action " + inQuotes(*action) + " but names no target",
                       "add target = \"NAME\" naming a [targets.NAME] that has a plugin");
          }
          if (const Node* with = reader.table("with")) {
            spec.with = toJson(*with).as_object();
            for (const auto& [key, value] : with->members) {
              spec.withLocations.emplace_back(key, value.where);
            }
          }
          step.action = std::move(spec);
          kindOk = true;
        }
      } else if (kind == "decision") {
        step.kind = StepKind::decision;
        if (auto spec = parseDecision(body, context, sink)) {
          step.action = std::move(*spec);
          kindOk = true;
        }
      } else {
        step.kind = StepKind::notify;
        if (auto spec = parseNotify(body, context, sink)) {
          step.action = std::move(*spec);
          kindOk = true;
        }
      }
    }
    if (reader.has("with") && !(kinds.size() == 1 && kinds.front() == "action")) {
      sink.error(reader.where("with"), keyIn("with", context) + " only applies to plugin actions",
                 "'with' holds the parameters of 'action'");
    }
    if (kindOk && (step.kind == StepKind::decision || step.kind == StepKind::notify) &&
        reader.has("target")) {
      sink.error(step.targetWhere, keyIn("target", context) + " does not apply to a " +
                                       std::string(stepKindName(step.kind)) + " step");
    }
    if (const Node* rollback = reader.node("rollback")) {
      step.rollback = parseRollback(*rollback, context, stepIndex, parsed, sink);
      if (step.rollback) {
        step.rollback->where = rollback->where;
      }
    }
    if (!kindOk) {
      parsed.complete = false;
    }
    parsed.stepKindKnown.push_back(kindOk);
    // References inside the step's own body (rollback strings were collected above).
    for (const auto& [key, value] : item.members) {
      if (key != "rollback") {
        collectStrings(value, StringSite::Owner::step, stepIndex, parsed.strings);
      }
    }
    parsed.runbook.steps.push_back(std::move(step));
  }
}

}  // namespace lifeboat::runbook
