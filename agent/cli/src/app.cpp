#include "lifeboat/cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "lifeboat/plugin_host/catalog.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/runbook/plan.hpp"
#include "options.hpp"
#include "plan_render.hpp"
#include "run_commands.hpp"
#include "runbook_files.hpp"
#include "watch_commands.hpp"

#ifndef LIFEBOAT_VERSION
#define LIFEBOAT_VERSION "0.0.0"
#endif

namespace lifeboat::cli {
namespace {

boost::json::object diagnosticsJson(const LoadedFile& file) {
  boost::json::array diagnostics;
  for (const Diagnostic& diagnostic : file.diagnostics.sorted()) {
    diagnostics.push_back(boost::json::object{
        {"severity", diagnostic.severity == Severity::error ? "error" : "warning"},
        {"line", diagnostic.where.line},
        {"column", diagnostic.where.column},
        {"message", diagnostic.message},
        {"hint", diagnostic.hint}});
  }
  return boost::json::object{{"path", file.path},
                             {"valid", !file.diagnostics.hasErrors()},
                             {"errors", file.diagnostics.errorCount()},
                             {"warnings", file.diagnostics.warningCount()},
                             {"diagnostics", std::move(diagnostics)}};
}

int runValidate(const std::vector<std::string>& files, const CommonOptions& options) {
  auto variables = parseVariables(options.variables);
  if (!variables) {
    return kExitInvalid;
  }
  process::PosixRunner runner;
  plugin_host::Catalog catalog(searchPath(options), runner);
  bool allValid = true;
  boost::json::array results;
  for (const std::string& path : files) {
    LoadedFile file = loadFile(path, catalog, *variables);
    allValid = allValid && file.runbook.has_value();
    if (options.output == "json") {
      results.push_back(diagnosticsJson(file));
      continue;
    }
    printDiagnostics(file, std::cerr);
    if (file.runbook) {
      const runbook::Runbook& book = *file.runbook;
      std::cout << path << ": valid (" << book.steps.size()
                << (book.steps.size() == 1 ? " step, " : " steps, ") << book.targets.size()
                << (book.targets.size() == 1 ? " target, " : " targets, ") << book.triggers.size()
                << (book.triggers.size() == 1 ? " trigger" : " triggers");
      const std::size_t warnings = file.diagnostics.warningCount();
      if (warnings > 0) {
        std::cout << "; " << warnings << (warnings == 1 ? " warning" : " warnings");
      }
      std::cout << ")\n";
    }
  }
  if (options.output == "json") {
    std::cout << boost::json::serialize(boost::json::object{{"files", std::move(results)}}) << '\n';
  }
  return allValid ? kExitOk : kExitInvalid;
}

int runPlan(const std::string& path, const CommonOptions& options, bool drill, bool real) {
  auto variables = parseVariables(options.variables);
  if (!variables) {
    return kExitInvalid;
  }
  process::PosixRunner runner;
  plugin_host::Catalog catalog(searchPath(options), runner);
  LoadedFile file = loadFile(path, catalog, *variables);
  if (!file.runbook) {
    if (options.output == "json") {
      std::cout << boost::json::serialize(diagnosticsJson(file)) << '\n';
    } else {
      printDiagnostics(file, std::cerr);
    }
    return kExitInvalid;
  }
  const runbook::Plan plan = runbook::makePlan(*file.runbook);
  if (options.output == "json") {
    renderPlanJson(plan, std::cout);
    return kExitOk;
  }
  printDiagnostics(file, std::cerr);  // warnings, if any
  std::optional<runbook::Mode> mode;
  if (drill) {
    mode = runbook::Mode::drill;
  } else if (real) {
    mode = runbook::Mode::real;
  }
  renderPlanText(plan, mode, std::cout);
  return kExitOk;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{
      "Lifeboat: disaster-recovery runbooks with measured RTO and RPO.\n"
      "Exit codes: 0 ok, 1 run failed, 2 invalid input or usage, 3 objective breached or "
      "unknown, 4 interrupted.",
      "lifeboat"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lifeboat " LIFEBOAT_VERSION);

  CommonOptions validateOptions;
  std::vector<std::string> validateFiles;
  CLI::App* validate =
      app.add_subcommand("validate", "Check runbooks and report every problem, compiler style");
  validate->add_option("files", validateFiles, "Runbook files (TOML)")->required();
  addCommonOptions(*validate, validateOptions);

  CommonOptions planOptions;
  std::string planFile;
  bool drill = false;
  bool real = false;
  CLI::App* plan = app.add_subcommand(
      "plan", "Show the steps as parallel waves, the critical path, and what a drill skips");
  plan->add_option("file", planFile, "Runbook file (TOML)")->required();
  auto* drillFlag = plan->add_flag("--drill", drill, "Show only what a drill runs and touches");
  plan->add_flag("--real", real, "Show only what a real failover runs and touches")
      ->excludes(drillFlag);
  addCommonOptions(*plan, planOptions);

  RunCommands runCommands(app);
  WatchCommands watchCommands(app);
  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitInvalid;
  }
  if (validate->parsed()) {
    return runValidate(validateFiles, validateOptions);
  }
  if (plan->parsed()) {
    return runPlan(planFile, planOptions, drill, real);
  }
  if (std::optional<int> code = runCommands.dispatch()) {
    return *code;
  }
  if (std::optional<int> code = watchCommands.dispatch()) {
    return *code;
  }
  if (version->parsed()) {
    std::cout << "lifeboat " LIFEBOAT_VERSION << '\n';
    return kExitOk;
  }
  return kExitInvalid;
}

}  // namespace lifeboat::cli
