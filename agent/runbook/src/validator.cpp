#include "validator.hpp"

#include <algorithm>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include "lifeboat/common/text.hpp"
#include "lifeboat/runbook/plan.hpp"
#include "lifeboat/runbook/references.hpp"
#include "param_check.hpp"

namespace lifeboat::runbook {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  if (std::optional<std::string> suggestion = closestMatch(word, candidates)) {
    return "did you mean " + inQuotes(*suggestion) + "?";
  }
  return {};
}

class Validator {
 public:
  Validator(ParsedRunbook& parsed, const LoadOptions& options, DiagnosticSink& sink)
      : parsed_(parsed), runbook_(parsed.runbook), options_(options), sink_(sink) {}

  void run() {
    indexSteps();
    checkDependencies();
    checkCycles();
    computeAncestors();
    checkTargets();
    checkPlugins();
    checkSteps();
    checkReferences();
    checkObjectives();
  }

 private:
  // ---- steps and dependencies ------------------------------------------

  void indexSteps() {
    for (std::size_t i = 0; i < runbook_.steps.size(); ++i) {
      const Step& step = runbook_.steps[i];
      if (step.id.empty()) {
        continue;
      }
      auto [it, inserted] = stepIndex_.emplace(step.id, i);
      if (!inserted) {
        sink_.error(step.where, "duplicate step id " + inQuotes(step.id),
                    "the first step with this id is at line " +
                        std::to_string(runbook_.steps[it->second].where.line) +
                        "; step ids must be unique");
      } else {
        stepIds_.push_back(step.id);
      }
    }
    edges_.assign(runbook_.steps.size(), {});
  }

  std::size_t findStep(std::string_view id) const {
    auto it = stepIndex_.find(std::string(id));
    return it == stepIndex_.end() ? kNone : it->second;
  }

  void checkDependencies() {
    for (std::size_t i = 0; i < runbook_.steps.size(); ++i) {
      const Step& step = runbook_.steps[i];
      std::set<std::string> seen;
      for (std::size_t k = 0; k < step.after.size(); ++k) {
        const std::string& name = step.after[k];
        const SourceLocation where =
            k < step.afterLocations.size() ? step.afterLocations[k] : step.where;
        if (!seen.insert(name).second) {
          sink_.warning(where, "step " + inQuotes(step.id) + " lists " + inQuotes(name) +
                                   " in 'after' twice");
          continue;
        }
        if (name == step.id) {
          sink_.error(where, "step " + inQuotes(step.id) + " cannot run after itself");
          continue;
        }
        const std::size_t dependency = findStep(name);
        if (dependency == kNone) {
          sink_.error(where,
                      "step " + inQuotes(step.id) + " runs after unknown step " + inQuotes(name),
                      didYouMean(name, stepIds_));
          continue;
        }
        if (!step.cleanup && runbook_.steps[dependency].cleanup) {
          sink_.error(where,
                      "step " + inQuotes(step.id) + " runs after cleanup step " + inQuotes(name),
                      "cleanup steps run at the very end; only other cleanup steps may wait for "
                      "them");
          continue;
        }
        edges_[i].push_back(dependency);
      }
    }
  }

  void checkCycles() {
    enum class Color { white, grey, black };
    std::vector<Color> color(runbook_.steps.size(), Color::white);
    std::vector<std::size_t> stack;
    std::set<std::vector<std::size_t>> reported;
    // Iterative DFS would be kinder to the stack, but runbooks are parsed on
    // a thread with a large stack and 10,000 steps deep is fine there.
    std::function<void(std::size_t)> visit = [&](std::size_t node) {
      color[node] = Color::grey;
      stack.push_back(node);
      for (std::size_t next : edges_[node]) {
        if (color[next] == Color::grey) {
          auto begin = std::find(stack.begin(), stack.end(), next);
          std::vector<std::size_t> cycle(begin, stack.end());
          reportCycle(cycle, reported);
        } else if (color[next] == Color::white) {
          visit(next);
        }
      }
      stack.pop_back();
      color[node] = Color::black;
    };
    for (std::size_t i = 0; i < runbook_.steps.size(); ++i) {
      if (color[i] == Color::white) {
        visit(i);
      }
    }
    acyclic_ = reported.empty();
  }

  void reportCycle(std::vector<std::size_t> cycle, std::set<std::vector<std::size_t>>& reported) {
    // The DFS walks "runs after" edges; print the cycle in execution order
    // (each step before the one that waits for it), starting at the step
    // written first in the file.
    std::reverse(cycle.begin(), cycle.end());
    auto first = std::min_element(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), first, cycle.end());
    if (!reported.insert(cycle).second) {
      return;
    }
    std::string path;
    for (std::size_t node : cycle) {
      path += runbook_.steps[node].id + " -> ";
    }
    path += runbook_.steps[cycle.front()].id;
    sink_.error(runbook_.steps[cycle.front()].where, "dependency cycle: " + path,
                "remove one of these 'after' entries");
  }

  // ancestors_[i]: a bit set of every step that finishes before step i
  // (transitively). Bit sets keep a 10,000-step chain at 12 MB and fast.
  void computeAncestors() {
    const bool needed = std::any_of(
        parsed_.strings.begin(), parsed_.strings.end(),
        [](const StringSite& site) { return site.text.find("${steps.") != std::string::npos; });
    if (!acyclic_ || !needed) {
      return;
    }
    const std::size_t count = runbook_.steps.size();
    const std::size_t words = (count + 63) / 64;
    ancestors_.assign(count, std::vector<std::uint64_t>(words, 0));
    std::vector<bool> done(count, false);
    // Iterative post-order so that no recursion depends on the runbook's depth.
    std::vector<std::pair<std::size_t, std::size_t>> stack;
    for (std::size_t root = 0; root < count; ++root) {
      if (done[root]) {
        continue;
      }
      stack.emplace_back(root, 0);
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < edges_[node].size()) {
          const std::size_t dependency = edges_[node][next++];
          if (!done[dependency]) {
            stack.emplace_back(dependency, 0);
          }
          continue;
        }
        for (std::size_t dependency : edges_[node]) {
          ancestors_[node][dependency / 64] |= std::uint64_t{1} << (dependency % 64);
          for (std::size_t w = 0; w < words; ++w) {
            ancestors_[node][w] |= ancestors_[dependency][w];
          }
        }
        done[node] = true;
        stack.pop_back();
      }
    }
  }

  bool runsBefore(std::size_t producer, std::size_t consumer) const {
    if (ancestors_.empty()) {
      return true;  // not computed: the graph has a cycle, already reported
    }
    return (ancestors_[consumer][producer / 64] >> (producer % 64)) & 1U;
  }

  // ---- targets and plugins -------------------------------------------------

  const Target* findTarget(std::string_view name) const { return runbook_.findTarget(name); }

  std::vector<std::string> targetNames() const {
    std::vector<std::string> names;
    for (const Target& target : runbook_.targets) {
      names.push_back(target.name);
    }
    return names;
  }

  void checkTargets() {
    const std::vector<std::string>& residency = runbook_.policy.dataResidency;
    for (const Target& target : runbook_.targets) {
      if (residency.empty()) {
        continue;
      }
      std::string list;
      for (const std::string& pattern : residency) {
        list += list.empty() ? "" : ", ";
        list += '"' + pattern + '"';
      }
      if (target.region.empty()) {
        sink_.error(target.where,
                    "target " + inQuotes(target.name) +
                        " has no region, but [policy] data_residency requires one of " + list,
                    "add region = \"...\" to the target");
        continue;
      }
      const bool allowed =
          std::any_of(residency.begin(), residency.end(),
                      [&](const std::string& p) { return globMatch(p, target.region); });
      if (!allowed) {
        sink_.error(target.regionWhere,
                    "target " + inQuotes(target.name) + " is in region " + inQuotes(target.region) +
                        ", which [policy] data_residency does not allow (" + list + ")",
                    "fail over only to a region the policy allows, or change the policy with the "
                    "data owner's approval");
      }
    }
  }

  const plugin::PluginDescription* describe(const Target& target) {
    if (target.plugin.empty() || !options_.describePlugin) {
      return nullptr;
    }
    auto cached = described_.find(target.plugin);
    if (cached != described_.end()) {
      return cached->second;
    }
    Result<const plugin::PluginDescription*> result = options_.describePlugin(target.plugin);
    const plugin::PluginDescription* description = nullptr;
    if (result) {
      description = *result;
    } else {
      sink_.error(target.pluginWhere,
                  "plugin " + inQuotes(target.plugin) + " of target " + inQuotes(target.name) +
                      ": " + result.error().message,
                  result.error().hint);
    }
    described_.emplace(target.plugin, description);
    return description;
  }

  void checkPlugins() {
    for (const Target& target : runbook_.targets) {
      if (target.plugin.empty()) {
        for (const auto& [key, where] : target.fieldLocations) {
          sink_.error(where, "unknown key " + inQuotes(key) + " in target " + inQuotes(target.name),
                      "a target without a plugin takes only region, production and description; "
                      "set plugin = \"...\" to pass other fields to a plugin");
        }
        continue;
      }
      const plugin::PluginDescription* description = describe(target);
      if (description == nullptr) {
        continue;
      }
      checkParams(description->targetParams, target.fields, target.fieldLocations, target.where,
                  "target " + inQuotes(target.name) + " (plugin " + inQuotes(target.plugin) + ")",
                  sink_);
    }
  }

  // Checks a plugin action (a step's, a rollback's or a trigger's) against
  // its target and the plugin's description; returns the action's schema.
  const plugin::ActionSchema* checkAction(const PluginActionSpec& spec, std::string_view context,
                                          SourceLocation fallback) {
    if (spec.target.empty()) {
      return nullptr;
    }
    const Target* target = findTarget(spec.target);
    if (target == nullptr) {
      sink_.error(spec.targetWhere.line ? spec.targetWhere : fallback,
                  std::string(context) + " names unknown target " + inQuotes(spec.target),
                  didYouMean(spec.target, targetNames()));
      return nullptr;
    }
    if (target->plugin.empty()) {
      sink_.error(spec.targetWhere.line ? spec.targetWhere : fallback,
                  std::string(context) + " runs action " + inQuotes(spec.action) + " on target " +
                      inQuotes(spec.target) + ", which has no plugin",
                  "set plugin = \"...\" in [targets." + spec.target + "]");
      return nullptr;
    }
    const plugin::PluginDescription* description = describe(*target);
    if (description == nullptr) {
      return nullptr;
    }
    const plugin::ActionSchema* action = description->findAction(spec.action);
    if (action == nullptr) {
      std::vector<std::string> names;
      for (const plugin::ActionSchema& candidate : description->actions) {
        names.push_back(candidate.name);
      }
      std::string hint = didYouMean(spec.action, names);
      if (hint.empty()) {
        hint = "plugin " + inQuotes(target->plugin) + " offers:";
        for (const std::string& name : names) {
          hint += ' ' + name;
        }
      }
      sink_.error(spec.actionWhere.line ? spec.actionWhere : fallback,
                  "plugin " + inQuotes(target->plugin) + " has no action " + inQuotes(spec.action) +
                      " (" + std::string(context) + ")",
                  std::move(hint));
      return nullptr;
    }
    checkParams(action->params, spec.with, spec.withLocations,
                spec.actionWhere.line ? spec.actionWhere : fallback,
                "'with' of " + std::string(context) + " (action " + inQuotes(spec.action) + ")",
                sink_);
    return action;
  }

  // ---- per-step rules ---------------------------------------------------------

  void checkSteps() {
    for (std::size_t i = 0; i < runbook_.steps.size(); ++i) {
      if (parsed_.stepKindKnown[i]) {
        checkStep(i);
      }
    }
    for (std::size_t t = 0; t < runbook_.triggers.size(); ++t) {
      const Trigger& trigger = runbook_.triggers[t];
      if (trigger.kind != TriggerKind::plugin || trigger.target.empty()) {
        continue;
      }
      PluginActionSpec spec;
      spec.target = trigger.target;
      spec.action = trigger.action;
      spec.with = trigger.with;
      const std::string context = "trigger #" + std::to_string(t + 1);
      const plugin::ActionSchema* action = checkAction(spec, context, trigger.where);
      checkTargetOutsideRuns(trigger.target, context);
      if (action != nullptr && !action->probe) {
        sink_.error(trigger.where,
                    context + " uses action " + inQuotes(trigger.action) +
                        ", which is not a probe: a health check must not change anything",
                    "use an action the plugin describes with \"probe\": true");
      }
    }
    if (runbook_.policy.automatic && runbook_.triggers.empty()) {
      sink_.warning(runbook_.policy.where,
                    "[policy] automatic = true, but the runbook has no [[trigger]]",
                    "without a trigger nothing starts it automatically");
    }
  }

  void checkStep(std::size_t index) {
    Step& step = runbook_.steps[index];
    const std::string context =
        "step " + inQuotes(step.id.empty() ? "#" + std::to_string(index + 1) : step.id);

    // What the step touches.
    const Target* target = nullptr;
    if (!step.target.empty() && (step.kind == StepKind::exec || step.kind == StepKind::http)) {
      target = findTarget(step.target);
      if (target == nullptr) {
        sink_.error(step.targetWhere, context + " names unknown target " + inQuotes(step.target),
                    didYouMean(step.target, targetNames()));
      }
    }
    const plugin::ActionSchema* action = nullptr;
    if (const auto* spec = std::get_if<PluginActionSpec>(&step.action);
        spec != nullptr && step.kind == StepKind::plugin) {
      action = checkAction(*spec, context, step.where);
      target = findTarget(spec->target);
      if (action != nullptr) {
        actions_[index] = action;
      }
    }

    if (step.rollback) {
      if (step.kind == StepKind::decision || step.kind == StepKind::notify) {
        sink_.error(step.rollback->where,
                    context + " is a " + std::string(stepKindName(step.kind)) +
                        " step and cannot have a rollback",
                    "a rollback undoes a side effect; decision and notify steps have none");
      } else if (step.cleanup) {
        sink_.error(step.rollback->where, context + " is a cleanup step and cannot have a rollback",
                    "cleanup runs at the end of the run, after any rollback");
      } else if (const auto* undo = std::get_if<PluginActionSpec>(&step.rollback->action)) {
        checkAction(*undo, "rollback of " + context, step.rollback->where);
      }
    }
    if (step.wait) {
      if (step.kind == StepKind::decision || step.kind == StepKind::notify) {
        sink_.error(step.where,
                    context + " is a " + std::string(stepKindName(step.kind)) +
                        " step and cannot have 'wait'",
                    "wait repeats a check (exec, http or a probe action) until it passes");
      } else if (action != nullptr && !action->probe) {
        sink_.error(step.where,
                    context + " repeats action " + inQuotes(action->name) +
                        " with 'wait', but that action is not a probe",
                    "wait runs the action again and again as a check; only probe actions (no side "
                    "effects) may be repeated");
      }
    }
    if (step.measures == Measures::rpo) {
      if (step.kind != StepKind::plugin && step.kind != StepKind::exec) {
        sink_.error(step.measuresWhere,
                    context +
                        " cannot measure RPO: only plugin actions and exec steps report "
                        "measurements");
      } else if (action != nullptr && !action->measuresRpo) {
        sink_.warning(step.measuresWhere, context + " measures RPO, but action " +
                                              inQuotes(action->name) +
                                              " does not say it reports rpo_seconds");
      }
    }
    if (step.cleanup && step.restoresService) {
      sink_.error(step.where, context + " is a cleanup step and cannot restore the service",
                  "cleanup runs after everything else; mark the step that proves the service is "
                  "back instead");
    }
    if (step.onFailure == OnFailure::rollback && !anyRollback()) {
      sink_.warning(step.where,
                    context + " has on_failure = \"rollback\", but no step has a rollback",
                    "add rollback = {...} to the steps whose effects must be undone");
    }
    if (const auto* decision = std::get_if<DecisionSpec>(&step.action)) {
      if (decision->approvers.empty()) {
        sink_.error(step.kindWhere, context + " names no approvers",
                    "a decision needs named approvers: approvers = [\"incident-commander\"]");
      }
    }
    // Drill safety.
    const bool drillSkipsProduction =
        target != nullptr && target->production && !runbook_.policy.drillMayTouchProduction;
    if (step.when == When::drill && drillSkipsProduction) {
      sink_.error(step.where,
                  context + " runs only in drills, but its target " + inQuotes(target->name) +
                      " is production, which drills skip: it can never run",
                  "point it at a non-production target, or set [policy] "
                  "drill_may_touch_production = true");
    }
    // The planner decides what a drill runs; warn when its rule for steps that
    // name no target makes a drill skip this one.
    if (step.when == When::always && step.target.empty()) {
      const StepDecision drill = decideStep(runbook_, step, Mode::drill);
      if (!drill.runs) {
        sink_.warning(step.where,
                      context + " does not name what it touches, so drills will skip it",
                      "set target = \"...\" (a [targets] entry) or when = \"real\" / \"drill\"");
      }
    }
  }

  // A plugin trigger sends its target's fields while no run exists: run
  // values there could never be resolved.
  void checkTargetOutsideRuns(std::string_view targetName, const std::string& context) {
    for (std::size_t t = 0; t < runbook_.targets.size(); ++t) {
      if (runbook_.targets[t].name != targetName) {
        continue;
      }
      for (const StringSite& site : parsed_.strings) {
        if (site.owner != StringSite::Owner::target || site.index != t) {
          continue;
        }
        Result<std::vector<Reference>> references = findReferences(site.text);
        if (!references) {
          continue;  // reported by checkReferences
        }
        for (const Reference& reference : *references) {
          if (reference.kind == ReferenceKind::run) {
            sink_.error(site.where,
                        "${run." + reference.name + "} in target " + inQuotes(targetName) +
                            " cannot be resolved for " + context + ", which checks outside runs",
                        "use a separate target for the health check, without run values");
          }
        }
      }
    }
  }

  bool anyRollback() const {
    return std::any_of(runbook_.steps.begin(), runbook_.steps.end(),
                       [](const Step& step) { return step.rollback.has_value(); });
  }

  // ---- references -----------------------------------------------------------------

  void checkReferences() {
    std::set<std::string> variables;
    for (const auto& [name, value] : runbook_.variables) {
      variables.insert(name);
    }
    for (const auto& [name, value] : options_.variables) {
      variables.insert(name);
    }
    const std::vector<std::string> variableNames(variables.begin(), variables.end());
    for (const StringSite& site : parsed_.strings) {
      Result<std::vector<Reference>> references = findReferences(site.text);
      if (!references) {
        sink_.error(site.where, references.error().message, references.error().hint);
        continue;
      }
      for (const Reference& reference : *references) {
        checkReference(site, reference, variables, variableNames);
      }
    }
  }

  void checkReference(const StringSite& site, const Reference& reference,
                      const std::set<std::string>& variables,
                      const std::vector<std::string>& variableNames) {
    const bool inStep =
        site.owner == StringSite::Owner::step || site.owner == StringSite::Owner::rollback;
    switch (reference.kind) {
      case ReferenceKind::variable:
        if (site.owner == StringSite::Owner::variable) {
          sink_.error(site.where, "variables cannot refer to other values",
                      "write the value itself, or pass it with --var");
        } else if (!variables.contains(reference.name)) {
          std::string hint = didYouMean(reference.name, variableNames);
          if (hint.empty()) {
            hint = "define it under [vars] or pass --var " + reference.name + "=VALUE";
          }
          sink_.error(site.where, "undefined variable " + inQuotes(reference.name),
                      std::move(hint));
        }
        return;
      case ReferenceKind::secretEnv:
      case ReferenceKind::secretFile:
        if (site.owner == StringSite::Owner::variable) {
          sink_.error(site.where, "variables cannot refer to secrets",
                      "use ${secret:...} directly where the value is needed");
        }
        return;
      case ReferenceKind::run:
        if (site.owner == StringSite::Owner::variable || site.owner == StringSite::Owner::trigger) {
          sink_.error(site.where, "${run." + reference.name + "} is not known here",
                      "run values exist only once a run has started: use them in steps");
        }
        return;
      case ReferenceKind::lock:
        if (!inStep) {
          sink_.error(site.where, "${lock.fencing_token} is not known here",
                      "the fencing token exists only while a run holds its lock: use it in steps");
        }
        return;
      case ReferenceKind::stepOutput:
        checkStepOutputReference(site, reference, inStep);
        return;
    }
  }

  void checkStepOutputReference(const StringSite& site, const Reference& reference, bool inStep) {
    const std::string text = "${steps." + reference.step + ".outputs." + reference.name + "}";
    if (!inStep) {
      sink_.error(site.where, text + " is not known here",
                  "step outputs can be used only in later steps");
      return;
    }
    const std::size_t producer = findStep(reference.step);
    const Step& consumer = runbook_.steps[site.index];
    if (producer == kNone) {
      sink_.error(site.where, text + " names unknown step " + inQuotes(reference.step),
                  didYouMean(reference.step, stepIds_));
      return;
    }
    const bool selfInRollback = site.owner == StringSite::Owner::rollback && producer == site.index;
    if (!selfInRollback && !runsBefore(producer, site.index)) {
      sink_.error(site.where,
                  text + " in step " + inQuotes(consumer.id) + " names step " +
                      inQuotes(reference.step) + ", which does not run before it",
                  "add " + inQuotes(reference.step) + " to the 'after' of " +
                      inQuotes(consumer.id) + " (directly or through another step)");
      return;
    }
    const Step& producerStep = runbook_.steps[producer];
    // Drill consistency: a step that runs in a drill cannot read outputs of
    // one that a drill skips.
    if (parsed_.stepKindKnown[site.index] && parsed_.stepKindKnown[producer] &&
        decideStep(runbook_, consumer, Mode::drill).runs &&
        !decideStep(runbook_, producerStep, Mode::drill).runs) {
      sink_.warning(site.where,
                    text + " in step " + inQuotes(consumer.id) + " reads an output of " +
                        inQuotes(producerStep.id) + ", which drills skip",
                    "give " + inQuotes(consumer.id) + " when = \"real\", or a drill twin of " +
                        inQuotes(producerStep.id));
    }
    if (producerStep.kind == StepKind::decision) {
      if (reference.name != "choice" && reference.name != "approver" &&
          reference.name != "rationale") {
        sink_.error(site.where,
                    text + ": decision step " + inQuotes(producerStep.id) + " has no output " +
                        inQuotes(reference.name),
                    "decision outputs are choice, approver and rationale");
      }
      return;
    }
    if (producerStep.kind == StepKind::notify) {
      sink_.error(site.where,
                  text + ": notify step " + inQuotes(producerStep.id) + " has no outputs");
      return;
    }
    auto action = actions_.find(producer);
    if (action != actions_.end() && !action->second->outputs.empty()) {
      std::vector<std::string> names;
      for (const plugin::OutputSchema& output : action->second->outputs) {
        if (output.name == reference.name) {
          return;
        }
        names.push_back(output.name);
      }
      std::string hint = didYouMean(reference.name, names);
      if (hint.empty()) {
        hint = "action " + inQuotes(action->second->name) + " outputs:";
        for (const std::string& name : names) {
          hint += ' ' + name;
        }
      }
      sink_.error(site.where,
                  text + ": action " + inQuotes(action->second->name) + " of step " +
                      inQuotes(producerStep.id) + " has no output " + inQuotes(reference.name),
                  std::move(hint));
      return;
    }
  }

  // ---- objectives ---------------------------------------------------------------

  void checkObjectives() {
    const Objectives& objectives = runbook_.objectives;
    const bool restores = std::any_of(runbook_.steps.begin(), runbook_.steps.end(),
                                      [](const Step& step) { return step.restoresService; });
    const bool measures =
        std::any_of(runbook_.steps.begin(), runbook_.steps.end(),
                    [](const Step& step) { return step.measures == Measures::rpo; });
    if (objectives.rto && !restores) {
      sink_.warning(objectives.rtoWhere,
                    "no step has restores_service = true, so the RTO cannot be measured "
                    "(the verdict will be unknown)",
                    "mark the step that proves the service is back with restores_service = true");
    }
    if (objectives.rpo && !measures) {
      sink_.warning(objectives.rpoWhere,
                    "no step has measures = \"rpo\", so the RPO cannot be measured "
                    "(the verdict will be unknown)",
                    "add measures = \"rpo\" to a step that reports rpo_seconds");
    }
    // Only when none is written: a malformed one is already an error.
    const bool written = objectives.rtoWhere.line != 0 || objectives.rpoWhere.line != 0;
    if (!objectives.rto && !objectives.rpo && !written && !runbook_.steps.empty()) {
      sink_.warning(SourceLocation{1, 1}, "the runbook sets no recovery objectives",
                    "add [objectives] with rto and rpo so runs can be judged against them");
    }
  }

  ParsedRunbook& parsed_;
  Runbook& runbook_;
  const LoadOptions& options_;
  DiagnosticSink& sink_;
  std::map<std::string, std::size_t> stepIndex_;
  std::vector<std::string> stepIds_;
  std::vector<std::vector<std::size_t>> edges_;
  std::vector<std::vector<std::uint64_t>> ancestors_;
  bool acyclic_ = true;
  std::map<std::string, const plugin::PluginDescription*, std::less<>> described_;
  std::map<std::size_t, const plugin::ActionSchema*> actions_;
};

}  // namespace

void validate(ParsedRunbook& parsed, const LoadOptions& options, DiagnosticSink& sink) {
  Validator(parsed, options, sink).run();
}

}  // namespace lifeboat::runbook
