#include "plan_render.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <set>

#include "lifeboat/common/duration.hpp"

namespace lifeboat::cli {
namespace {

using runbook::Mode;
using runbook::PlannedStep;
using runbook::Step;
using runbook::StepKind;

std::string targetOf(const Step& step) {
  if (const auto* action = std::get_if<runbook::PluginActionSpec>(&step.action)) {
    return action->target;
  }
  return step.target;
}

std::string describeAction(const runbook::Runbook& book, const Step& step) {
  switch (step.kind) {
    case StepKind::exec: {
      const auto& exec = std::get<runbook::ExecSpec>(step.action);
      return exec.shell ? "exec (shell script)" : "exec " + exec.argv.front();
    }
    case StepKind::http: {
      const auto& http = std::get<runbook::HttpSpec>(step.action);
      return "http " + http.method + " " + http.url;
    }
    case StepKind::plugin: {
      const auto& action = std::get<runbook::PluginActionSpec>(step.action);
      const runbook::Target* target = book.findTarget(action.target);
      return (target != nullptr ? target->plugin : std::string("?")) + "." + action.action;
    }
    case StepKind::decision: {
      const auto& decision = std::get<runbook::DecisionSpec>(step.action);
      std::string text = "decision (" + std::to_string(decision.options.size()) + " options";
      if (decision.deadline) {
        text +=
            ", default " + decision.defaultOption + " after " + formatDuration(*decision.deadline);
      }
      return text + ")";
    }
    case StepKind::notify:
      return "notify " + std::get<runbook::NotifySpec>(step.action).audience;
  }
  return "?";
}

std::string limits(const runbook::Policy& policy, const Step& step) {
  std::string text = "timeout " + formatDuration(step.effectiveTimeout(policy));
  if (step.retry.attempts > 1) {
    text += ", " + std::to_string(step.retry.attempts) + " attempts";
  }
  if (step.wait) {
    text += ", wait " + formatDuration(step.wait->within);
  }
  return text;
}

std::string verdict(const runbook::StepDecision& decision) {
  return decision.runs ? "runs" : "skipped (" + decision.reason + ")";
}

struct Row {
  std::string id;
  std::string action;
  std::string target;
  std::string limits;
  std::string modes;
};

struct Widths {
  std::size_t columns[4] = {0, 0, 0, 0};
};

Widths measure(const std::vector<std::vector<Row>>& groups) {
  Widths widths;
  for (const auto& rows : groups) {
    for (const Row& row : rows) {
      widths.columns[0] = std::max(widths.columns[0], row.id.size());
      widths.columns[1] = std::max(widths.columns[1], row.action.size());
      widths.columns[2] = std::max(widths.columns[2], row.target.size());
      widths.columns[3] = std::max(widths.columns[3], row.limits.size());
    }
  }
  return widths;
}

void printRows(const std::vector<Row>& rows, const Widths& columnWidths, std::ostream& out) {
  const std::size_t* widths = columnWidths.columns;
  auto pad = [](const std::string& text, std::size_t width) {
    return text + std::string(width - text.size(), ' ');
  };
  for (const Row& row : rows) {
    out << "  " << pad(row.id, widths[0]) << "  " << pad(row.action, widths[1]) << "  "
        << pad(row.target, widths[2]) << "  " << pad(row.limits, widths[3]) << "  " << row.modes
        << '\n';
  }
}

Row makeRow(const runbook::Plan& plan, const PlannedStep& planned, std::optional<Mode> mode) {
  const Step& step = *planned.step;
  const runbook::Runbook& book = *plan.runbook;
  Row row;
  row.id = step.id;
  row.action = describeAction(book, step);
  const std::string target = targetOf(step);
  if (target.empty()) {
    row.target = "-";
  } else {
    const runbook::Target* found = book.findTarget(target);
    row.target = "on " + target + (found != nullptr && found->production ? " (production)" : "");
  }
  row.limits = limits(book.policy, step);
  if (!mode) {
    row.modes = "real: " + verdict(planned.real) + "   drill: " + verdict(planned.drill);
  } else {
    row.modes = verdict(*mode == Mode::real ? planned.real : planned.drill);
  }
  return row;
}

void printTouches(const runbook::Plan& plan, Mode mode, std::ostream& out) {
  std::set<std::string> touched;
  for (const PlannedStep& planned : plan.steps) {
    const runbook::StepDecision& decision = mode == Mode::real ? planned.real : planned.drill;
    const std::string target = targetOf(*planned.step);
    if (decision.runs && !target.empty()) {
      const runbook::Target* found = plan.runbook->findTarget(target);
      touched.insert(target + (found != nullptr && found->production ? " (production)" : ""));
    }
  }
  out << (mode == Mode::real ? "a real run touches: " : "a drill touches: ");
  if (touched.empty()) {
    out << "no targets";
  }
  bool first = true;
  for (const std::string& target : touched) {
    out << (first ? "" : ", ") << target;
    first = false;
  }
  out << '\n';
}

void printCriticalPath(const runbook::Plan& plan, Mode mode, std::ostream& out) {
  const runbook::Runbook& book = *plan.runbook;
  const runbook::CriticalPath& path = plan.criticalPath(mode);
  out << (mode == Mode::real ? "critical path (real): " : "critical path (drill): ");
  if (path.steps.empty()) {
    out << "no steps run\n";
    return;
  }
  for (std::size_t i = 0; i < path.steps.size(); ++i) {
    out << (i == 0 ? "" : " -> ") << book.steps[path.steps[i]].id;
  }
  out << " (worst case " << formatDuration(path.worstCase);
  if (book.objectives.rto) {
    out << (path.worstCase > *book.objectives.rto ? ", longer than" : ", within") << " the RTO of "
        << formatDuration(*book.objectives.rto);
  }
  out << ")\n";
}

}  // namespace

void renderPlanText(const runbook::Plan& plan, std::optional<Mode> mode, std::ostream& out) {
  const runbook::Runbook& book = *plan.runbook;
  out << book.metadata.name << ": service " << book.metadata.service;
  if (!book.metadata.owner.empty()) {
    out << ", owner " << book.metadata.owner;
  }
  out << '\n';
  out << "objectives: RTO "
      << (book.objectives.rto ? formatDuration(*book.objectives.rto) : std::string("not set"))
      << ", RPO "
      << (book.objectives.rpo ? formatDuration(*book.objectives.rpo) : std::string("not set"))
      << '\n';
  if (mode) {
    out << "mode: " << (*mode == Mode::real ? "real failover" : "drill") << '\n';
  }
  out << book.steps.size() << " steps in " << plan.waves.size()
      << (plan.waves.size() == 1 ? " wave" : " waves") << ", at most " << book.policy.maxParallel
      << " at once\n";
  std::vector<std::vector<Row>> groups;
  for (const auto& wave : plan.waves) {
    std::vector<Row>& rows = groups.emplace_back();
    for (std::size_t index : wave) {
      rows.push_back(makeRow(plan, plan.steps[index], mode));
    }
  }
  std::vector<Row> cleanupRows;
  for (std::size_t index : plan.cleanup) {
    cleanupRows.push_back(makeRow(plan, plan.steps[index], mode));
  }
  groups.push_back(cleanupRows);
  const Widths widths = measure(groups);
  for (std::size_t wave = 0; wave < plan.waves.size(); ++wave) {
    out << "\nwave " << wave + 1 << '\n';
    printRows(groups[wave], widths, out);
  }
  if (!cleanupRows.empty()) {
    out << "\ncleanup (at the end, also after a failure)\n";
    printRows(cleanupRows, widths, out);
  }
  out << '\n';
  if (!mode || *mode == Mode::real) {
    printCriticalPath(plan, Mode::real, out);
  }
  if (!mode || *mode == Mode::drill) {
    printCriticalPath(plan, Mode::drill, out);
  }
  if (!mode || *mode == Mode::real) {
    printTouches(plan, Mode::real, out);
  }
  if (!mode || *mode == Mode::drill) {
    printTouches(plan, Mode::drill, out);
  }
}

void renderPlanJson(const runbook::Plan& plan, std::ostream& out) {
  const runbook::Runbook& book = *plan.runbook;
  boost::json::object root;
  root["runbook"] = {{"name", book.metadata.name},
                     {"service", book.metadata.service},
                     {"owner", book.metadata.owner},
                     {"path", book.path},
                     {"sha256", book.sha256}};
  boost::json::object objectives;
  objectives["rto_ms"] = book.objectives.rto ? boost::json::value(book.objectives.rto->count())
                                             : boost::json::value(nullptr);
  objectives["rpo_ms"] = book.objectives.rpo ? boost::json::value(book.objectives.rpo->count())
                                             : boost::json::value(nullptr);
  root["objectives"] = std::move(objectives);
  root["max_parallel"] = book.policy.maxParallel;
  boost::json::array waves;
  for (const auto& wave : plan.waves) {
    boost::json::array ids;
    for (std::size_t index : wave) {
      ids.push_back(boost::json::value(book.steps[index].id));
    }
    waves.push_back(std::move(ids));
  }
  root["waves"] = std::move(waves);
  boost::json::array cleanup;
  for (std::size_t index : plan.cleanup) {
    cleanup.push_back(boost::json::value(book.steps[index].id));
  }
  root["cleanup"] = std::move(cleanup);
  boost::json::array steps;
  for (const PlannedStep& planned : plan.steps) {
    const Step& step = *planned.step;
    boost::json::object item;
    item["id"] = step.id;
    item["kind"] = runbook::stepKindName(step.kind);
    item["action"] = describeAction(book, step);
    const std::string target = targetOf(step);
    item["target"] = target.empty() ? boost::json::value(nullptr) : boost::json::value(target);
    const runbook::Target* found = book.findTarget(target);
    item["production"] = found != nullptr && found->production;
    boost::json::array after;
    for (const std::string& dependency : step.after) {
      after.push_back(boost::json::value(dependency));
    }
    item["after"] = std::move(after);
    item["wave"] = planned.wave + 1;
    item["when"] = runbook::whenName(step.when);
    item["cleanup"] = step.cleanup;
    item["timeout_ms"] = step.effectiveTimeout(book.policy).count();
    item["attempts"] = step.retry.attempts;
    item["worst_case_ms"] = planned.worstCase.count();
    item["on_failure"] = runbook::onFailureName(step.onFailure);
    item["restores_service"] = step.restoresService;
    item["measures_rpo"] = step.measures == runbook::Measures::rpo;
    item["real"] = {{"runs", planned.real.runs}, {"reason", planned.real.reason}};
    item["drill"] = {{"runs", planned.drill.runs}, {"reason", planned.drill.reason}};
    steps.push_back(std::move(item));
  }
  root["steps"] = std::move(steps);
  for (Mode mode : {Mode::real, Mode::drill}) {
    boost::json::array ids;
    for (std::size_t index : plan.criticalPath(mode).steps) {
      ids.push_back(boost::json::value(book.steps[index].id));
    }
    root[mode == Mode::real ? "critical_path" : "drill_critical_path"] = {
        {"steps", std::move(ids)}, {"worst_case_ms", plan.criticalPath(mode).worstCase.count()}};
  }
  out << boost::json::serialize(root) << '\n';
}

}  // namespace lifeboat::cli
