#include "run_commands.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <set>

#include "decisions.hpp"
#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/host.hpp"
#include "lifeboat/engine/run.hpp"
#include "lifeboat/engine/state_directory.hpp"
#include "lifeboat/journal/journal.hpp"
#include "lifeboat/live/text.hpp"
#include "lifeboat/live/view.hpp"
#include "lifeboat/locks/etcd_run_lock.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/report/render.hpp"
#include "lifeboat/report/run_record.hpp"
#include "lifeboat/stream/agent_stream.hpp"
#include "runbook_files.hpp"

#ifndef LIFEBOAT_VERSION
#define LIFEBOAT_VERSION "0.0.0"
#endif

namespace lifeboat::cli {
namespace {

constexpr int kExitFailed = engine::kExitFailed;

// Parsing a large runbook happens on a thread of its own, and steps on worker
// threads, whose malloc arenas keep freed pages resident; an agent that may
// run for hours gives them back.
void releaseFreedMemory() {
  ::malloc_trim(0);
}

void addExecutionOptions(CLI::App& command, CommonOptions& common,
                         std::optional<std::string>& stateDirectory, std::string& configFile) {
  addCommonOptions(command, common);
  command.add_option("--config", configFile,
                     "Agent config: the agent's name, state_dir and [coordinator] (default: "
                     "$LIFEBOAT_CONFIG, else /etc/lifeboat/agent.toml when it exists)");
  command.add_option("--state-dir", stateDirectory,
                     "Where runs are kept (default: $LIFEBOAT_STATE_DIR, /var/lib/lifeboat for "
                     "root, else $XDG_STATE_HOME/lifeboat)");
}

// RFC 3339 in UTC, with or without milliseconds: 2026-11-24T22:56:10Z or
// 2026-11-24T22:56:10.123Z (or +00:00 for Z).
Result<Timestamp> parseOutageStart(std::string text) {
  if (text.size() == 20 && text.back() == 'Z') {
    text.insert(19, ".000");
  } else if (text.size() == 25 && text.ends_with("+00:00")) {
    text.insert(19, ".000");
  }
  Result<Timestamp> parsed = parseTimestamp(text);
  if (!parsed) {
    return Error{"--outage-start " + text + ": " + parsed.error().message,
                 "give the time in UTC, e.g. 2026-11-24T22:56:10Z"};
  }
  return parsed;
}

bool isTerminal(int fd) {
  return ::isatty(fd) == 1;
}

// The live view, serialised: the engine calls it under its event lock, the
// decision prompt pauses it from a worker thread.
class GuardedView {
 public:
  explicit GuardedView(std::unique_ptr<live::View> view) : view_(std::move(view)) {}
  void onEvent(const Event& event) {
    std::lock_guard lock(mutex_);
    view_->onEvent(event);
  }
  void tick(Timestamp now) {
    std::lock_guard lock(mutex_);
    view_->tick(now);
  }
  void pause(bool paused) {
    std::lock_guard lock(mutex_);
    if (paused) {
      view_->suspend();
    } else {
      view_->resume();
    }
  }
  void finish() {
    std::lock_guard lock(mutex_);
    view_->finish();
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<live::View> view_;
};

// Folds the journal event by event: a long run's events are never all in
// memory at once.
Result<report::RunRecord> recordOf(const std::filesystem::path& directory) {
  report::RunRecordBuilder builder;
  Result<bool> scanned = journal::scanJournal(directory / journal::kJournalFileName,
                                              [&builder](Event&& event) -> Result<journal::Done> {
                                                Result<std::monostate> added = builder.add(event);
                                                if (!added) {
                                                  return added.error();
                                                }
                                                return journal::Done{};
                                              });
  if (!scanned) {
    return scanned.error();
  }
  return std::move(builder).finish();
}

// Writes `text` to `file` through a temporary file and a rename, so a reader
// never sees half a report.
bool writeFileAtomically(const std::filesystem::path& file,
                         const std::function<void(std::ostream&)>& write) {
  const std::filesystem::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    write(out);
    if (!out.flush()) {
      return false;
    }
  }
  ::chmod(temporary.c_str(), 0600);
  std::error_code error;
  std::filesystem::rename(temporary, file, error);
  return !error;
}

bool writeFileAtomically(const std::filesystem::path& file, const std::string& text) {
  return writeFileAtomically(file, [&text](std::ostream& out) { out << text; });
}

// The end of a run in a few lines: outcome, verdicts, where the evidence is.
void printVerdict(const report::RunRecord& record, const std::filesystem::path& directory,
                  std::ostream& out) {
  out << "\n"
      << (record.drill ? "Drill " : "Run ") << record.runId << " of " << record.runbookName << ": "
      << report::outcomeName(record.outcome);
  if (record.exitCode) {
    out << " (exit " << *record.exitCode << ")";
  }
  out << '\n';
  if (!record.error.empty()) {
    out << "  error: " << record.error << '\n';
  }
  if (!record.failedSteps.empty()) {
    out << "  failed steps:";
    for (const std::string& step : record.failedSteps) {
      out << ' ' << step;
    }
    out << '\n';
  }
  if (record.objectives.empty()) {
    out << "  objectives: none set in the runbook\n";
  }
  for (const report::ObjectiveRecord& objective : record.objectives) {
    std::string name = objective.objective;
    for (char& c : name) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    out << "  " << name << ": ";
    if (objective.valueMs) {
      out << live::formatElapsed(std::chrono::milliseconds(*objective.valueMs));
    } else {
      out << "not measured";
    }
    if (objective.targetMs) {
      out << " (objective " << live::formatElapsed(std::chrono::milliseconds(*objective.targetMs))
          << ")";
    }
    out << " -> " << report::verdictName(objective.verdict);
    if (objective.objective == "rto" && !objective.outageStartSource.empty()) {
      out << ", from the "
          << (objective.outageStartSource == "run_start" ? "run's start"
              : objective.outageStartSource == "flag"    ? "--outage-start time"
                                                         : "trigger's first failure");
    }
    out << '\n';
  }
  out << "  journal: " << (directory / journal::kJournalFileName).string() << '\n'
      << "  report:  " << (directory / "report.json").string() << "  (also: lifeboat report "
      << record.runId << " --format html|junit)\n";
}

// After a run: report.json in the run's folder and, for people, the verdict.
void finishRun(const engine::RunResult& result, bool json) {
  releaseFreedMemory();  // the run's worker threads are gone, their arenas not
  Result<report::RunRecord> record = recordOf(result.directory);
  if (!record) {
    std::cerr << "lifeboat: warning: cannot read back run " << result.runId << ": "
              << record.error().message << '\n';
    return;
  }
  if (!writeFileAtomically(result.directory / "report.json",
                           [&record](std::ostream& out) { report::renderJson(*record, out); })) {
    std::cerr << "lifeboat: warning: cannot write " << (result.directory / "report.json").string()
              << '\n';
  }
  if (!json) {
    printVerdict(*record, result.directory, std::cout);
  }
}

// Asks on the terminal before a real failover; false when not confirmed.
bool confirmRealRun(const runbook::Runbook& book) {
  const runbook::Plan plan = runbook::makePlan(book);
  std::set<std::string> targets;
  std::size_t running = 0;
  for (const runbook::PlannedStep& planned : plan.steps) {
    if (!planned.real.runs) {
      continue;
    }
    ++running;
    if (!planned.step->target.empty()) {
      targets.insert(planned.step->target);
    }
    if (const auto* action = std::get_if<runbook::PluginActionSpec>(&planned.step->action)) {
      targets.insert(action->target);
    }
  }
  std::cerr << "This is a REAL failover of service " << book.metadata.service << " ("
            << book.metadata.name << "): " << running << " steps will run";
  if (!targets.empty()) {
    std::cerr << ", touching";
    for (const std::string& target : targets) {
      std::cerr << ' ' << target;
    }
  }
  std::cerr << ".\nType the service name (" << book.metadata.service
            << ") to go ahead: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    return false;
  }
  while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) {
    answer.pop_back();
  }
  return answer == book.metadata.service;
}

std::optional<std::map<std::string, std::string>> parseDecide(const std::vector<std::string>& raw,
                                                              const runbook::Runbook& book) {
  std::map<std::string, std::string> choices;
  for (const std::string& entry : raw) {
    const std::size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      std::cerr << "lifeboat: error: --decide " << entry << " must look like STEP=OPTION\n";
      return std::nullopt;
    }
    const std::string step = entry.substr(0, equals);
    const runbook::Step* found = book.findStep(step);
    if (found == nullptr || found->kind != runbook::StepKind::decision) {
      std::cerr << "lifeboat: error: --decide " << entry << ": " << step
                << " is not a decision step of " << book.path << '\n';
      return std::nullopt;
    }
    choices[step] = entry.substr(equals + 1);
  }
  return choices;
}

struct Session {
  process::PosixRunner runner;
  std::unique_ptr<plugin_host::Catalog> catalog;
  std::unique_ptr<GuardedView> view;
  std::unique_ptr<TerminalDecisions> decisions;
  engine::RunEnvironment environment;
  bool json = false;
  // Streaming to the coordinator, when the agent config has [coordinator].
  std::unique_ptr<stream::AgentStream> stream;
  std::chrono::milliseconds flushTimeout{0};
};

// What run, drill and resume share: the catalog, the view, the decisions.
void prepareSession(Session& session, const CommonOptions& common,
                    const std::filesystem::path& stateDirectory, const std::string& agentName,
                    DecisionOptions decisions, const std::vector<std::string>& etcdEndpoints) {
  session.json = common.output == "json";
  if (!session.catalog) {
    session.catalog = std::make_unique<plugin_host::Catalog>(searchPath(common), session.runner);
  }
  live::ViewOptions viewOptions = live::optionsForTerminal(STDERR_FILENO);
  if (session.json) {
    viewOptions.style = live::Style::json;
  }
  session.view = std::make_unique<GuardedView>(
      live::View::make(viewOptions, session.json ? std::cout : std::cerr));
  decisions.interactive = isTerminal(STDIN_FILENO) && !session.json;
  GuardedView* view = session.view.get();
  session.decisions = std::make_unique<TerminalDecisions>(
      std::move(decisions), [view](bool paused) { view->pause(paused); });

  engine::RunEnvironment& environment = session.environment;
  environment.stateDirectory = stateDirectory;
  environment.agentName = agentName;
  environment.catalog = session.catalog.get();
  environment.runner = &session.runner;
  environment.decisions = session.decisions.get();
  environment.observer = [view](const Event& event) { view->onEvent(event); };
  environment.tick = [view](Timestamp now) { view->tick(now); };
  if (!etcdEndpoints.empty()) {
    locks::EtcdOptions options;
    options.endpoints = etcdEndpoints;
    environment.lockProvider = locks::etcdLockProvider(std::move(options));
  }
  environment.warn = [](const std::string& warning) {
    std::cerr << "lifeboat: warning: " << warning << '\n';
  };
}

// Starts the spool and the stream when the agent config names a coordinator.
// False after printing why it cannot (a TLS file, the state directory).
bool startStream(Session& session, const std::optional<daemon::AgentConfig>& config) {
  if (!config || config->coordinator.url.empty()) {
    return true;
  }
  engine::RunEnvironment& environment = session.environment;
  Result<std::filesystem::path> state = engine::ensureStateDirectory(environment.stateDirectory);
  if (!state) {
    printError(state.error());
    return false;
  }
  Result<journal::SequenceStore> store = journal::SequenceStore::open(environment.stateDirectory);
  if (!store) {
    printError(store.error());
    return false;
  }
  environment.sequence = std::make_shared<journal::SharedSequence>(std::move(*store));
  stream::AgentStreamSettings settings;
  settings.stateDirectory = environment.stateDirectory;
  settings.agent = environment.agentName;
  settings.agentVersion = LIFEBOAT_VERSION;
  settings.url = config->coordinator.url;
  settings.tls.ca = config->coordinator.caFile;
  settings.tls.certificate = config->coordinator.certificate;
  settings.tls.privateKey = config->coordinator.privateKey;
  settings.tls.pinSha256 = config->coordinator.pinSha256;
  settings.spoolMax = config->coordinator.spoolMax;
  settings.sequence = environment.sequence;
  settings.log = [](const std::string& line) { std::cerr << "lifeboat: stream: " << line << '\n'; };
  Result<std::unique_ptr<stream::AgentStream>> started =
      stream::AgentStream::start(std::move(settings));
  if (!started) {
    printError(Error{"[coordinator] in " + config->path.string() + ": " + started.error().message,
                     started.error().hint});
    return false;
  }
  session.stream = std::move(*started);
  session.flushTimeout = config->coordinator.flushTimeout;
  environment.sink = session.stream->sink();
  return true;
}

// Waits up to flush_timeout for the coordinator's acknowledgements; what is
// left stays spooled for the next agent process.
void finishStream(Session& session) {
  if (!session.stream) {
    return;
  }
  const std::uint64_t pending = session.stream->finish(session.flushTimeout);
  if (pending > 0) {
    std::cerr << "lifeboat: " << pending
              << " events not yet acknowledged by the coordinator; they stay spooled in "
              << session.stream->spoolDirectory().string() << '\n';
  }
}

int complete(Session& session, Result<engine::RunResult> result) {
  session.view->finish();
  if (!result) {
    finishStream(session);
    printError(result.error());
    return kExitInvalid;
  }
  finishRun(*result, session.json);
  finishStream(session);
  return result->exitCode;
}

}  // namespace

RunCommands::RunCommands(CLI::App& app) {
  const auto addRunOptions = [this](CLI::App& command) {
    command.add_option("runbook", runbookFile_, "Runbook file (TOML)")->required();
    addExecutionOptions(command, execution_.common, execution_.stateDirectory,
                        execution_.configFile);
    command.add_option("--outage-start", execution_.outageStart,
                       "When the outage began (RFC 3339 UTC); the RTO is measured from it "
                       "(default: the run's start)");
    command.add_option("--decide", execution_.decide,
                       "Answer a decision step ahead: STEP=OPTION (repeatable)");
    command.add_option("--rationale", execution_.rationale, "Why, for --decide answers");
    command.add_option("--approver", execution_.approver,
                       "Who answers decisions (one of their approvers; default: login name)");
  };
  const auto addLockOptions = [this](CLI::App& command) {
    command.add_option("--etcd", execution_.etcdEndpoints,
                       "Take the service's failover lock in etcd at this endpoint, e.g. "
                       "http://127.0.0.1:2379 (repeatable), instead of on this host only");
  };
  run_ = app.add_subcommand("run", "Fail over for real: execute a runbook's real-run steps");
  addRunOptions(*run_);
  addLockOptions(*run_);
  run_->add_flag("--yes,-y", execution_.yes, "Do not ask for confirmation");
  drill_ = app.add_subcommand(
      "drill", "Rehearse a failover: run what a drill may run, clean up, judge RTO and RPO");
  addRunOptions(*drill_);
  addLockOptions(*drill_);

  resume_ = app.add_subcommand("resume", "Continue a run whose agent died");
  resume_->add_option("run", runId_, "Run id (or a unique prefix, or `last`)")->required();
  addExecutionOptions(*resume_, execution_.common, execution_.stateDirectory,
                      execution_.configFile);
  resume_->add_option("--resolve", resolve_,
                      "For an interrupted step that is not idempotent: STEP=rerun|done|failed "
                      "(repeatable; '*' for all)");
  resume_->add_option("--decide", execution_.decide, "Answer a decision step: STEP=OPTION");
  resume_->add_option("--rationale", execution_.rationale, "Why, for --decide answers");
  resume_->add_option("--approver", execution_.approver, "Who answers decisions");
  addLockOptions(*resume_);

  cancel_ = app.add_subcommand("cancel", "Stop a run in progress cleanly (as Ctrl-C would)");
  cancel_->add_option("run", runId_, "Run id (or a unique prefix, or `last`)")->required();
  cancel_->add_option("--state-dir", execution_.stateDirectory, "Where runs are kept");

  runs_ = app.add_subcommand("runs", "List the runs in the state directory");
  runs_->add_option("--state-dir", execution_.stateDirectory, "Where runs are kept");
  runs_->add_option("--output", execution_.common.output, "Output format")
      ->check(CLI::IsMember({"text", "json"}));

  show_ = app.add_subcommand("show", "Summarise one run: steps, objectives, outcome");
  show_->add_option("run", runId_, "Run id (or a unique prefix, or `last`)")->required();
  show_->add_option("--state-dir", execution_.stateDirectory, "Where runs are kept");

  report_ = app.add_subcommand("report", "Write a run's report: JSON, JUnit XML or HTML");
  report_->add_option("run", runId_, "Run id (or a unique prefix, or `last`)")->required();
  report_->add_option("--state-dir", execution_.stateDirectory, "Where runs are kept");
  report_->add_option("--format", format_, "json, junit or html")
      ->check(CLI::IsMember({"json", "junit", "html"}));
  report_->add_option("--out,-o", outputFile_, "Write to this file instead of stdout");
}

std::optional<int> RunCommands::dispatch() {
  // A run must not die because whoever reads its output went away (`| head`,
  // a closed ssh session): write errors are ignored instead. Children get
  // every signal back at its default (process/runner.hpp).
  if (run_->parsed() || drill_->parsed() || resume_->parsed()) {
    ::signal(SIGPIPE, SIG_IGN);
  }
  if (run_->parsed())
    return runOrDrill(false);
  if (drill_->parsed())
    return runOrDrill(true);
  if (resume_->parsed())
    return resume();
  if (cancel_->parsed())
    return cancel();
  if (runs_->parsed())
    return listRuns();
  if (show_->parsed())
    return show();
  if (report_->parsed())
    return report();
  return std::nullopt;
}

bool RunCommands::loadAgentConfigForRun() {
  std::string path = execution_.configFile;
  if (path.empty()) {
    const char* fromEnvironment = std::getenv("LIFEBOAT_CONFIG");
    if (fromEnvironment != nullptr && *fromEnvironment != '\0') {
      path = fromEnvironment;
    } else {
      std::error_code error;
      if (!std::filesystem::exists(daemon::kDefaultConfigPath, error)) {
        return true;  // no agent config: the host's name, no coordinator
      }
      path = std::string(daemon::kDefaultConfigPath);
    }
  }
  Result<daemon::AgentConfig> config = daemon::loadAgentConfig(path);
  if (!config) {
    printError(config.error());
    return false;
  }
  agentConfig_ = std::move(*config);
  return true;
}

std::filesystem::path RunCommands::runStateDirectory() const {
  const char* fromEnvironment = std::getenv("LIFEBOAT_STATE_DIR");
  const bool environmentSet = fromEnvironment != nullptr && *fromEnvironment != '\0';
  if (execution_.stateDirectory || environmentSet || !agentConfig_) {
    return engine::resolveStateDirectory(execution_.stateDirectory);
  }
  return agentConfig_->stateDirectory;
}

int RunCommands::runOrDrill(bool drill) {
  auto variables = parseVariables(execution_.common.variables);
  if (!variables) {
    return kExitInvalid;
  }
  if (!loadAgentConfigForRun()) {
    return kExitInvalid;
  }
  Session session;
  session.catalog =
      std::make_unique<plugin_host::Catalog>(searchPath(execution_.common), session.runner);
  LoadedFile file = loadFile(runbookFile_, *session.catalog, *variables);
  releaseFreedMemory();
  printDiagnostics(file, std::cerr);
  if (!file.runbook) {
    return kExitInvalid;
  }
  const runbook::Runbook& book = *file.runbook;
  engine::RunRequest request;
  request.runbook = &book;
  request.mode = drill ? runbook::Mode::drill : runbook::Mode::real;
  request.commandLineVariables = *variables;
  if (!execution_.outageStart.empty()) {
    Result<Timestamp> start = parseOutageStart(execution_.outageStart);
    if (!start) {
      std::cerr << "lifeboat: error: " << start.error().message
                << "\n  hint: " << start.error().hint << '\n';
      return kExitInvalid;
    }
    request.outageStart = *start;
  }
  auto choices = parseDecide(execution_.decide, book);
  if (!choices) {
    return kExitInvalid;
  }
  DecisionOptions decisions{*choices, execution_.rationale, execution_.approver, false};
  prepareSession(session, execution_.common, runStateDirectory(),
                 agentConfig_ ? agentConfig_->name : hostName(), std::move(decisions),
                 execution_.etcdEndpoints);
  if (!drill && !execution_.yes) {
    if (!isTerminal(STDIN_FILENO)) {
      std::cerr << "lifeboat: error: a real failover needs confirmation, and there is no "
                   "terminal to ask\n  hint: pass --yes to confirm, or run `lifeboat drill` to "
                   "rehearse\n";
      return kExitInvalid;
    }
    if (!confirmRealRun(book)) {
      std::cerr << "lifeboat: not confirmed; nothing was done\n";
      return kExitInvalid;
    }
  }
  if (!startStream(session, agentConfig_)) {
    return kExitInvalid;
  }
  return complete(session, engine::startRun(request, session.environment));
}

int RunCommands::resume() {
  Session session;
  if (!loadAgentConfigForRun()) {
    return kExitInvalid;
  }
  const std::filesystem::path state = runStateDirectory();
  Result<std::string> id = engine::findRun(state, runId_);
  if (!id) {
    printError(id.error());
    return kExitInvalid;
  }
  Result<engine::RunInspection> inspection = engine::inspectRun(state, *id);
  if (!inspection) {
    printError(inspection.error());
    return kExitInvalid;
  }
  if (inspection->finished) {
    std::cerr << "lifeboat: error: run " << *id << " has finished; there is nothing to resume\n";
    return kExitInvalid;
  }
  if (inspection->liveAgent) {
    std::cerr << "lifeboat: error: run " << *id << " is still being executed by "
              << *inspection->liveAgent << "\n  hint: lifeboat cancel " << *id << '\n';
    return kExitInvalid;
  }
  session.catalog =
      std::make_unique<plugin_host::Catalog>(searchPath(execution_.common), session.runner);
  LoadedFile file = loadFile(inspection->runbookPath, *session.catalog, inspection->variables);
  releaseFreedMemory();
  printDiagnostics(file, std::cerr);
  if (!file.runbook) {
    return kExitInvalid;
  }
  const runbook::Runbook& book = *file.runbook;
  if (book.sha256 != inspection->runbookSha256) {
    std::cerr << "lifeboat: error: runbook " << book.path << " was edited since run " << *id
              << " started\n  hint: resume only with the runbook as it was (sha256 "
              << inspection->runbookSha256 << "), or start a new run\n";
    return kExitInvalid;
  }

  engine::ResumeRequest request;
  request.runbook = &book;
  request.runId = *id;
  std::optional<engine::Resolution> forAll;
  for (const std::string& entry : resolve_) {
    const std::size_t equals = entry.find('=');
    const std::string step = equals == std::string::npos ? "" : entry.substr(0, equals);
    const std::string what = equals == std::string::npos ? "" : entry.substr(equals + 1);
    std::optional<engine::Resolution> resolution;
    if (what == "rerun")
      resolution = engine::Resolution::rerun;
    if (what == "done")
      resolution = engine::Resolution::markDone;
    if (what == "failed")
      resolution = engine::Resolution::markFailed;
    if (step.empty() || !resolution) {
      std::cerr << "lifeboat: error: --resolve " << entry
                << " must look like STEP=rerun, STEP=done or STEP=failed\n";
      return kExitInvalid;
    }
    if (step == "*") {
      forAll = resolution;
    } else {
      request.resolutions[step] = *resolution;
    }
  }
  for (const std::string& step : inspection->interrupted) {
    const runbook::Step* found = book.findStep(step);
    if (found == nullptr || found->idempotent || request.resolutions.contains(step)) {
      continue;
    }
    if (forAll) {
      request.resolutions[step] = *forAll;
      continue;
    }
    if (!isTerminal(STDIN_FILENO)) {
      std::cerr << "lifeboat: error: step " << step
                << " was running when the agent stopped, and it is not idempotent: it may or "
                   "may not have taken effect\n  hint: check, then pass --resolve "
                << step << "=rerun (run it again), =done (it took effect) or =failed\n";
      return kExitInvalid;
    }
    while (!request.resolutions.contains(step)) {
      std::cerr << "Step " << step
                << " was running when the agent stopped and is not idempotent.\n"
                   "Check whether it took effect. [r]erun it, mark it [d]one, or mark it "
                   "[f]ailed? "
                << std::flush;
      std::string answer;
      if (!std::getline(std::cin, answer)) {
        return kExitInvalid;
      }
      if (answer == "r" || answer == "rerun")
        request.resolutions[step] = engine::Resolution::rerun;
      if (answer == "d" || answer == "done")
        request.resolutions[step] = engine::Resolution::markDone;
      if (answer == "f" || answer == "failed")
        request.resolutions[step] = engine::Resolution::markFailed;
    }
  }
  auto choices = parseDecide(execution_.decide, book);
  if (!choices) {
    return kExitInvalid;
  }
  prepareSession(session, execution_.common, state, agentConfig_ ? agentConfig_->name : hostName(),
                 DecisionOptions{*choices, execution_.rationale, execution_.approver, false},
                 execution_.etcdEndpoints);
  if (!startStream(session, agentConfig_)) {
    return kExitInvalid;
  }
  return complete(session, engine::resumeRun(request, session.environment));
}

int RunCommands::cancel() {
  const std::filesystem::path state = engine::resolveStateDirectory(execution_.stateDirectory);
  Result<std::string> id = engine::findRun(state, runId_);
  if (!id) {
    printError(id.error());
    return kExitInvalid;
  }
  Result<int> pid = engine::cancelRun(state, *id);
  if (!pid) {
    printError(pid.error());
    return kExitFailed;
  }
  std::cout << "asked agent pid " << *pid << " to stop run " << *id
            << "; it stops running steps, runs cleanup and ends the run `interrupted`\n";
  return kExitOk;
}

int RunCommands::listRuns() {
  const std::filesystem::path state = engine::resolveStateDirectory(execution_.stateDirectory);
  const bool json = execution_.common.output == "json";
  boost::json::array entries;
  if (!json) {
    std::printf("%-22s %-5s %-28s %-12s %-5s %s\n", "RUN", "MODE", "RUNBOOK", "OUTCOME", "EXIT",
                "STARTED");
  }
  for (const std::string& id : engine::listRuns(state)) {
    Result<report::RunRecord> record = recordOf(state / id);
    if (!record) {
      if (!json) {
        std::printf("%-22s (unreadable: %s)\n", id.c_str(), record.error().message.c_str());
      }
      continue;
    }
    const std::string outcome(report::outcomeName(record->outcome));
    if (json) {
      boost::json::object entry{{"run", id},
                                {"runbook", record->runbookName},
                                {"service", record->service},
                                {"drill", record->drill},
                                {"outcome", outcome},
                                {"started_at", formatTimestamp(record->startedAt)}};
      if (record->exitCode) {
        entry["exit_code"] = *record->exitCode;
      }
      entries.push_back(std::move(entry));
      continue;
    }
    std::printf("%-22s %-5s %-28s %-12s %-5s %s\n", id.c_str(), record->drill ? "drill" : "real",
                record->runbookName.c_str(), outcome.c_str(),
                record->exitCode ? std::to_string(*record->exitCode).c_str() : "-",
                formatTimestamp(record->startedAt).c_str());
  }
  if (json) {
    std::cout << boost::json::serialize(entries) << '\n';
  }
  return kExitOk;
}

std::optional<report::RunRecord> RunCommands::namedRecord() const {
  const std::filesystem::path state = engine::resolveStateDirectory(execution_.stateDirectory);
  Result<std::string> id = engine::findRun(state, runId_);
  if (!id) {
    printError(id.error());
    return std::nullopt;
  }
  Result<report::RunRecord> record = recordOf(state / *id);
  if (!record) {
    printError(record.error());
    return std::nullopt;
  }
  return std::move(*record);
}

int RunCommands::show() {
  std::optional<report::RunRecord> record = namedRecord();
  if (!record) {
    return kExitInvalid;
  }
  std::cout << report::renderText(*record);
  return kExitOk;
}

int RunCommands::report() {
  std::optional<report::RunRecord> record = namedRecord();
  if (!record) {
    return kExitInvalid;
  }
  const std::string text = format_ == "junit"  ? report::renderJunit(*record)
                           : format_ == "html" ? report::renderHtml(*record)
                                               : report::renderJson(*record);
  if (outputFile_.empty()) {
    std::cout << text;
    return kExitOk;
  }
  if (!writeFileAtomically(outputFile_, text)) {
    std::cerr << "lifeboat: error: cannot write " << outputFile_ << '\n';
    return kExitInvalid;
  }
  std::cerr << "wrote " << outputFile_ << '\n';
  return kExitOk;
}

}  // namespace lifeboat::cli
