#include "lifeboat/runbook/plan.hpp"

#include <algorithm>
#include <map>

namespace lifeboat::runbook {
namespace {

bool readOnlyHttp(const Step& step) {
  const auto* http = std::get_if<HttpSpec>(&step.action);
  return step.kind == StepKind::http && http != nullptr &&
         (http->method == "GET" || http->method == "HEAD");
}

// Worst case for one step: every attempt runs into its timeout, with the
// backoffs between attempts; a wait window adds its length.
Milliseconds worstCase(const Step& step, const Policy& policy) {
  const Milliseconds timeout = step.effectiveTimeout(policy);
  Milliseconds total = step.wait ? std::max(step.wait->within, timeout) : timeout;
  if (const auto* decision = std::get_if<DecisionSpec>(&step.action)) {
    total = decision->deadline.value_or(timeout);
  }
  Milliseconds perAttempt = total;
  Milliseconds backoff = step.retry.backoff;
  for (int attempt = 1; attempt < step.retry.attempts; ++attempt) {
    total += backoff + perAttempt;
    backoff = std::min(step.retry.maxBackoff,
                       Milliseconds(static_cast<std::int64_t>(static_cast<double>(backoff.count()) *
                                                              step.retry.multiplier)));
  }
  return total;
}

}  // namespace

// Longest path by worst-case time through the main steps, in dependency
// order; a step that does not run in `mode` takes no time and is not listed.
static CriticalPath criticalPath(const Plan& plan, const std::vector<std::size_t>& order,
                                 const std::map<std::string_view, std::size_t>& index, Mode mode) {
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  const Runbook& runbook = *plan.runbook;
  std::vector<Milliseconds> finish(runbook.steps.size(), Milliseconds(0));
  std::vector<std::size_t> previous(runbook.steps.size(), kNone);
  std::size_t last = kNone;
  for (std::size_t i : order) {
    const Step& step = runbook.steps[i];
    if (step.cleanup) {
      continue;
    }
    Milliseconds start{0};
    for (const std::string& dependency : step.after) {
      const std::size_t d = index.at(dependency);
      if (finish[d] >= start) {
        start = finish[d];
        previous[i] = d;
      }
    }
    const PlannedStep& planned = plan.steps[i];
    const bool runs = mode == Mode::real ? planned.real.runs : planned.drill.runs;
    finish[i] = start + (runs ? planned.worstCase : Milliseconds(0));
    if (last == kNone || finish[i] > finish[last]) {
      last = i;
    }
  }
  CriticalPath path;
  for (std::size_t at = last; at != kNone; at = previous[at]) {
    const PlannedStep& planned = plan.steps[at];
    if (mode == Mode::real ? planned.real.runs : planned.drill.runs) {
      path.steps.push_back(at);
    }
  }
  std::reverse(path.steps.begin(), path.steps.end());
  if (last != kNone) {
    path.worstCase = finish[last];
  }
  return path;
}

StepDecision decideStep(const Runbook& runbook, const Step& step, Mode mode) {
  if (mode == Mode::real) {
    if (step.when == When::drill) {
      return {false, "when = \"drill\""};
    }
    return {};
  }
  if (step.when == When::real) {
    return {false, "when = \"real\""};
  }
  std::string targetName = step.target;
  if (const auto* action = std::get_if<PluginActionSpec>(&step.action)) {
    targetName = action->target;
  }
  if (!targetName.empty()) {
    const Target* target = runbook.findTarget(targetName);
    if (target != nullptr && target->production && !runbook.policy.drillMayTouchProduction) {
      return {false, "target '" + target->name + "' is production"};
    }
    return {};
  }
  if (step.when == When::always && !step.cleanup &&
      (step.kind == StepKind::exec || (step.kind == StepKind::http && !readOnlyHttp(step)))) {
    return {false, "names no target, so a drill cannot prove it is safe"};
  }
  return {};
}

Plan makePlan(const Runbook& runbook) {
  Plan plan;
  plan.runbook = &runbook;
  const std::size_t count = runbook.steps.size();
  plan.steps.resize(count);
  std::map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < count; ++i) {
    index.emplace(runbook.steps[i].id, i);
  }
  // Steps are topologically ordered by repeated relaxation in dependency
  // order: compute a topological order first (Kahn), then levels.
  std::vector<std::vector<std::size_t>> dependents(count);
  std::vector<std::size_t> pending(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    for (const std::string& dependency : runbook.steps[i].after) {
      const std::size_t d = index.at(dependency);
      dependents[d].push_back(i);
      ++pending[i];
    }
  }
  std::vector<std::size_t> order;
  order.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (pending[i] == 0) {
      order.push_back(i);
    }
  }
  for (std::size_t cursor = 0; cursor < order.size(); ++cursor) {
    for (std::size_t next : dependents[order[cursor]]) {
      if (--pending[next] == 0) {
        order.push_back(next);
      }
    }
  }
  std::vector<std::size_t> level(count, 0);
  std::size_t mainWaves = 0;
  std::size_t cleanupWaves = 0;
  for (std::size_t i : order) {
    const Step& step = runbook.steps[i];
    PlannedStep& planned = plan.steps[i];
    planned.step = &step;
    planned.worstCase = worstCase(step, runbook.policy);
    planned.real = decideStep(runbook, step, Mode::real);
    planned.drill = decideStep(runbook, step, Mode::drill);
    for (const std::string& dependency : step.after) {
      const std::size_t d = index.at(dependency);
      // Cleanup steps form their own waves after the main ones: only other
      // cleanup steps push them into a later cleanup wave.
      if (runbook.steps[d].cleanup == step.cleanup) {
        level[i] = std::max(level[i], level[d] + 1);
      }
    }
    if (step.cleanup) {
      cleanupWaves = std::max(cleanupWaves, level[i] + 1);
    } else {
      mainWaves = std::max(mainWaves, level[i] + 1);
    }
  }
  plan.waves.assign(mainWaves, {});
  std::vector<std::vector<std::size_t>> cleanupByLevel(cleanupWaves);
  for (std::size_t i = 0; i < count; ++i) {
    plan.steps[i].wave = runbook.steps[i].cleanup ? mainWaves + level[i] : level[i];
    if (runbook.steps[i].cleanup) {
      cleanupByLevel[level[i]].push_back(i);
    } else {
      plan.waves[level[i]].push_back(i);
    }
  }
  for (const auto& wave : cleanupByLevel) {
    plan.cleanup.insert(plan.cleanup.end(), wave.begin(), wave.end());
  }
  plan.real = criticalPath(plan, order, index, Mode::real);
  plan.drill = criticalPath(plan, order, index, Mode::drill);
  return plan;
}

}  // namespace lifeboat::runbook
