#include "executor.hpp"

#include <signal.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value_from.hpp>
#include <cmath>
#include <thread>
#include <unordered_map>
#include <variant>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::engine {

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::main:
      return "main";
    case Phase::rollback:
      return "rollback";
    case Phase::cleanup:
      return "cleanup";
  }
  return "main";
}

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using runbook::Step;
using runbook::StepKind;
using Steady = std::chrono::steady_clock;

constexpr Milliseconds kTickInterval{200};
// Child output journaled per step and stream; the rest is counted, not kept.
constexpr std::size_t kOutputBudgetBytes = 64 * 1024;

std::int64_t millisecondsBetween(Timestamp from, Timestamp to) {
  return std::chrono::duration_cast<Milliseconds>(to - from).count();
}

struct NotifyPayload {
  std::string audience;
  std::string templateName;
  std::string message;
};

// One unit of work for a worker thread, fully expanded on the scheduler
// thread so that workers never read shared run state.
struct Job {
  std::size_t index = 0;
  Phase phase = Phase::main;
  StepKind kind = StepKind::exec;
  std::variant<runbook::ExecSpec, runbook::HttpSpec, steps::PluginCall, runbook::DecisionSpec,
               NotifyPayload>
      work;
  steps::AttemptPolicy policy;
  const process::CancelSignal* cancel = nullptr;
  std::uint64_t seed = 0;
};

StepState stateOf(steps::Status status) {
  switch (status) {
    case steps::Status::ok:
      return StepState::ok;
    case steps::Status::failed:
      return StepState::failed;
    case steps::Status::timedOut:
      return StepState::timedOut;
    case steps::Status::cancelled:
      return StepState::cancelled;
  }
  return StepState::failed;
}

bool isFailure(StepState state) {
  return state == StepState::failed || state == StepState::timedOut;
}

class Scheduler {
 public:
  Scheduler(ExecutorSetup setup, PriorState prior)
      : setup_(std::move(setup)),
        book_(*setup_.runbook),
        env_(*setup_.environment),
        events_(*setup_.events),
        pool_(std::clamp<std::size_t>(static_cast<std::size_t>(book_.policy.maxParallel), 1,
                                      std::max<std::size_t>(book_.steps.size(), 1))),
        signals_(io_, SIGINT, SIGTERM),
        tickTimer_(io_),
        runTimer_(io_),
        random_(setup_.seed),
        outputs_(std::move(prior.outputs)),
        completionOrder_(std::move(prior.completionOrder)),
        abortedBy_(std::move(prior.abortedBy)),
        rollbackRequested_(prior.rollbackRequested),
        rpo_(std::move(prior.rpoMeasurements)) {
    setup_.expansion.outputs = &outputs_;
    progress_.resize(book_.steps.size());
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      indexById_.emplace(book_.steps[i].id, i);
    }
    modeSkip_.resize(book_.steps.size(), false);
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      const Step& step = book_.steps[i];
      const runbook::StepDecision decision = runbook::decideStep(book_, step, setup_.mode);
      if (!decision.runs) {
        modeSkip_[i] = true;
        progress_[i].state = StepState::skipped;
        progress_[i].reason = decision.reason;
        continue;
      }
      if (auto found = prior.steps.find(step.id); found != prior.steps.end()) {
        progress_[i] = found->second;
        if (!step.cleanup && isFailure(progress_[i].state)) {
          failedSteps_.push_back(step.id);
        }
        cleanupFailed_ =
            cleanupFailed_ || (step.cleanup && (isFailure(progress_[i].state) ||
                                                progress_[i].state == StepState::cancelled));
      }
    }
  }

  ExecutorResult run() {
    signals_.async_wait(
        [this](const boost::system::error_code& error, int number) { onSignal(error, number); });
    armTick();
    if (book_.policy.runTimeout) {
      runTimer_.expires_after(*book_.policy.runTimeout);
      runTimer_.async_wait([this](const boost::system::error_code& error) {
        if (!error && !finished_) {
          runTimedOut_ = true;
          stopMain("run_timeout",
                   "the run timeout of " + formatDuration(*book_.policy.runTimeout) + " passed");
        }
      });
    }
    asio::post(io_, [this] { schedule(); });
    std::thread keeper;
    if (setup_.lock != nullptr && setup_.lock->keepAliveInterval().count() > 0) {
      keeper = std::thread([this] { keepLock(); });
    }
    io_.run();
    pool_.join();
    keeperStop_.trigger();
    if (keeper.joinable()) {
      keeper.join();
    }
    return result_;
  }

 private:
  // ----- scheduling (scheduler thread) -----

  void schedule() {
    if (finished_) {
      return;
    }
    if (phase_ == Phase::main) {
      scheduleMain();
    }
    if (phase_ == Phase::rollback) {
      scheduleRollback();
    }
    if (phase_ == Phase::cleanup) {
      scheduleCleanup();
    }
  }

  bool stopping() const { return abortedBy_.has_value() || mainCancel_.triggered() || lockLost_; }

  // Whether main step `index` may start: 1 yes, 0 not yet, -1 never (then
  // `why` says so).
  int readiness(std::size_t index, std::string& why) const {
    for (const std::string& dependency : book_.steps[index].after) {
      const std::size_t other = indexOf(dependency);
      if (modeSkip_[other]) {
        continue;
      }
      const StepProgress& progress = progress_[other];
      switch (progress.state) {
        case StepState::ok:
          continue;
        case StepState::pending:
        case StepState::running:
          return 0;
        case StepState::skipped:
          why = "after step " + dependency + ", which was skipped";
          return -1;
        default:
          why = "after step " + dependency + ", which " +
                (progress.state == StepState::cancelled ? "was cancelled" : "failed");
          return -1;
      }
    }
    return 1;
  }

  void scheduleMain() {
    bool changed = true;
    while (changed && !stopping()) {
      changed = false;
      for (std::size_t i = 0; i < book_.steps.size() && !stopping(); ++i) {
        if (book_.steps[i].cleanup || progress_[i].state != StepState::pending) {
          continue;
        }
        std::string why;
        const int ready = readiness(i, why);
        if (ready < 0) {
          skip(i, Phase::main, why);
          changed = true;
        } else if (ready > 0 && running_ < maxParallel()) {
          startStep(i, Phase::main);
        }
      }
    }
    if (running_ > 0) {
      return;
    }
    const std::string why =
        mainCancel_.triggered() || lockLost_ ? "not started: " + stopReason_
        : abortedBy_ ? "not started: the run stopped after step " + *abortedBy_ + " failed"
                     : "not started";
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      if (!book_.steps[i].cleanup && progress_[i].state == StepState::pending) {
        skip(i, Phase::main, why);
      }
    }
    phase_ = Phase::cleanup;
    if (rollbackRequested_ && !mainCancel_.triggered() && !lockLost_) {
      for (auto id = completionOrder_.rbegin(); id != completionOrder_.rend(); ++id) {
        const std::size_t index = indexOf(*id);
        if (book_.steps[index].rollback && !progress_[index].rolledBack) {
          rollbackQueue_.push_back(index);
        }
      }
      phase_ = Phase::rollback;
    }
  }

  void scheduleRollback() {
    if (running_ > 0) {
      return;
    }
    if (rollbackQueue_.empty() || cleanupCancel_.triggered() || lockLost_) {
      phase_ = Phase::cleanup;
      return;
    }
    const std::size_t index = rollbackQueue_.front();
    rollbackQueue_.erase(rollbackQueue_.begin());
    rolledBack_ = true;
    startRollback(index);
  }

  void scheduleCleanup() {
    bool pending = false;
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      if (!book_.steps[i].cleanup || progress_[i].state != StepState::pending) {
        continue;
      }
      if (cleanupCancel_.triggered() || lockLost_) {
        skip(i, Phase::cleanup, "not started: " + stopReason_);
        continue;
      }
      pending = true;
      bool ready = true;
      for (const std::string& dependency : book_.steps[i].after) {
        const StepState state = progress_[indexOf(dependency)].state;
        ready = ready && state != StepState::pending && state != StepState::running;
      }
      if (ready && running_ < maxParallel()) {
        startStep(i, Phase::cleanup);
      }
    }
    if (!pending && running_ == 0) {
      finishRun();
    }
  }

  int maxParallel() const { return std::max(1, book_.policy.maxParallel); }

  std::size_t indexOf(std::string_view id) const {
    const auto found = indexById_.find(id);
    return found == indexById_.end() ? 0 : found->second;  // loadRunbook checked every id
  }

  // Not fsynced on its own: nothing depends on a skip until the next durable
  // event (a step's start, the run's end), which carries it along.
  void skip(std::size_t index, Phase phase, const std::string& why) {
    progress_[index].state = StepState::skipped;
    progress_[index].reason = why;
    emit(event_type::kStepFinished, book_.steps[index].id,
         {{"status", "skipped"},
          {"phase", phaseName(phase)},
          {"attempts", 0},
          {"duration_ms", 0},
          {"reason", why}},
         false);
  }

  // ----- starting work -----

  const process::CancelSignal* cancelFor(Phase phase) const {
    return phase == Phase::main ? &mainCancel_ : &cleanupCancel_;
  }

  Result<steps::PluginCall> pluginCall(const runbook::PluginActionSpec& action, bool check,
                                       const std::string& stepId) {
    const runbook::Target* target = book_.findTarget(action.target);
    if (target == nullptr) {
      return Error{"target " + action.target + " is not defined", ""};
    }
    auto executable = setup_.pluginExecutables.find(target->plugin);
    if (executable == setup_.pluginExecutables.end()) {
      return Error{"plugin " + target->plugin + " was not found in preflight", ""};
    }
    steps::PluginCall call;
    call.executable = executable->second;
    call.op = check ? "check" : "run";
    call.action = action.action;
    Result<json::object> fields = expandObject(target->fields, setup_.expansion);
    if (!fields) {
      return Error{"target " + target->name + ": " + fields.error().message, fields.error().hint};
    }
    call.target = std::move(*fields);
    Result<json::object> params = expandObject(action.with, setup_.expansion);
    if (!params) {
      return params.error();
    }
    call.params = std::move(*params);
    call.context = {{"run", setup_.runId},
                    {"step", stepId},
                    {"drill", setup_.mode == runbook::Mode::drill},
                    {"fencing_token", setup_.expansion.fencingToken}};
    return call;
  }

  Result<Job> prepare(std::size_t index, Phase phase) {
    const Step& step = book_.steps[index];
    Job job;
    job.index = index;
    job.phase = phase;
    job.kind = step.kind;
    job.cancel = cancelFor(phase);
    job.seed = random_();
    job.policy.retry = step.retry;
    job.policy.wait = step.wait;
    job.policy.timeout = step.effectiveTimeout(book_.policy);
    if (const auto* exec = std::get_if<runbook::ExecSpec>(&step.action)) {
      Result<runbook::ExecSpec> expanded = expandExec(*exec, setup_.expansion);
      if (!expanded) {
        return expanded.error();
      }
      job.work = std::move(*expanded);
    } else if (const auto* http = std::get_if<runbook::HttpSpec>(&step.action)) {
      Result<runbook::HttpSpec> expanded = expandHttp(*http, setup_.expansion);
      if (!expanded) {
        return expanded.error();
      }
      job.work = std::move(*expanded);
    } else if (const auto* action = std::get_if<runbook::PluginActionSpec>(&step.action)) {
      Result<steps::PluginCall> call = pluginCall(*action, step.wait.has_value(), step.id);
      if (!call) {
        return call.error();
      }
      job.work = std::move(*call);
    } else if (const auto* decision = std::get_if<runbook::DecisionSpec>(&step.action)) {
      Result<runbook::DecisionSpec> expanded = expandDecision(*decision, setup_.expansion);
      if (!expanded) {
        return expanded.error();
      }
      job.work = std::move(*expanded);
    } else if (const auto* notify = std::get_if<runbook::NotifySpec>(&step.action)) {
      Result<std::string> message = expandText(notify->message, setup_.expansion);
      if (!message) {
        return message.error();
      }
      job.work = NotifyPayload{notify->audience, notify->templateName, std::move(*message)};
    }
    return job;
  }

  Result<Job> prepareRollback(std::size_t index) {
    const Step& step = book_.steps[index];
    Job job;
    job.index = index;
    job.phase = Phase::rollback;
    job.cancel = &cleanupCancel_;
    job.seed = random_();
    job.policy.timeout = step.effectiveTimeout(book_.policy);
    if (const auto* exec = std::get_if<runbook::ExecSpec>(&step.rollback->action)) {
      job.kind = StepKind::exec;
      Result<runbook::ExecSpec> expanded = expandExec(*exec, setup_.expansion);
      if (!expanded) {
        return expanded.error();
      }
      job.work = std::move(*expanded);
    } else {
      job.kind = StepKind::plugin;
      Result<steps::PluginCall> call =
          pluginCall(std::get<runbook::PluginActionSpec>(step.rollback->action), false, step.id);
      if (!call) {
        return call.error();
      }
      job.work = std::move(*call);
    }
    return job;
  }

  void dispatch(Result<Job> job, std::size_t index, Phase phase) {
    ++running_;
    ++dispatched_;
    progress_[index].state = StepState::running;
    if (!job) {
      // Nothing ran: the step fails before its start is journaled.
      steps::StepOutcome outcome;
      outcome.error = "cannot prepare the step: " + job.error().message;
      emitFinished(index, phase, outcome, Milliseconds(0));
      asio::post(io_, [this, index, phase, outcome = std::move(outcome)]() mutable {
        onFinished(index, phase, std::move(outcome), setup_.clock->now());
      });
      return;
    }
    asio::post(pool_, [this, job = std::move(*job)]() mutable {
      steps::StepOutcome outcome = work(job);
      const Timestamp finishedAt = setup_.clock->now();
      asio::post(io_, [this, index = job.index, phase = job.phase, finishedAt,
                       outcome = std::move(outcome)]() mutable {
        onFinished(index, phase, std::move(outcome), finishedAt);
      });
    });
  }

  void startStep(std::size_t index, Phase phase) { dispatch(prepare(index, phase), index, phase); }
  void startRollback(std::size_t index) {
    dispatch(prepareRollback(index), index, Phase::rollback);
  }

  // ----- a step's work (worker thread) -----

  steps::StepOutcome work(Job& job) {
    const Step& step = book_.steps[job.index];
    const std::string& id = step.id;
    const std::string_view phase = phaseName(job.phase);
    std::mt19937_64 random(job.seed);
    int attempt = 0;
    std::array<std::size_t, 3> journaled{};  // stdout, stderr, progress
    std::array<std::size_t, 3> leftOut{};

    steps::Services services;
    services.runner = env_.runner;
    services.cancel = job.cancel;
    services.redactor = setup_.redactor;
    services.killGrace = env_.killGrace;
    services.childEnvironment = {
        {"LIFEBOAT_RUN_ID", setup_.runId},
        {"LIFEBOAT_STEP", id},
        {"LIFEBOAT_DRILL", setup_.mode == runbook::Mode::drill ? "true" : "false"}};
    services.onOutput = [&](std::string_view stream, std::string_view text) {
      const std::size_t slot = stream == steps::kStdout ? 0 : stream == steps::kStderr ? 1 : 2;
      if (journaled[slot] + text.size() > kOutputBudgetBytes) {
        leftOut[slot] += text.size() + 1;
        return;
      }
      journaled[slot] += text.size() + 1;
      emit(event_type::kStepOutput, id, {{"stream", stream}, {"text", text}}, false);
    };
    // Not fsynced on its own: step.finished makes it durable, and resume
    // finds a crashed agent's children by their LIFEBOAT_RUN_ID anyway.
    services.onProcessStarted = [&](pid_t group) {
      emit(event_type::kStepProcess, id,
           {{"process_group", group}, {"phase", phase}, {"attempt", attempt}}, false);
    };
    const auto journalStart = [&](int number) -> std::string {
      attempt = number;
      Result<journal::Done> written = events_.emit(
          event_type::kStepStarted, id,
          {{"kind", runbook::stepKindName(job.kind)}, {"phase", phase}, {"attempt", number}});
      if (!written) {
        noteJournalFailure(written.error());
        return "cannot journal the step's start: " + written.error().message;
      }
      return {};
    };

    const Steady::time_point started = Steady::now();
    steps::StepOutcome outcome;
    if (auto* exec = std::get_if<runbook::ExecSpec>(&job.work)) {
      outcome = steps::runWithPolicy(
          job.policy, services, random, journalStart,
          [&](Milliseconds timeout) { return steps::runExec(*exec, timeout, services); });
    } else if (auto* http = std::get_if<runbook::HttpSpec>(&job.work)) {
      outcome = steps::runWithPolicy(
          job.policy, services, random, journalStart,
          [&](Milliseconds timeout) { return steps::runHttp(*http, timeout, services); });
    } else if (auto* call = std::get_if<steps::PluginCall>(&job.work)) {
      outcome = steps::runWithPolicy(
          job.policy, services, random, journalStart,
          [&](Milliseconds timeout) { return steps::runPlugin(*call, timeout, services); });
    } else if (auto* decision = std::get_if<runbook::DecisionSpec>(&job.work)) {
      outcome = decide(id, *decision, job, journalStart);
    } else if (auto* notify = std::get_if<NotifyPayload>(&job.work)) {
      outcome.attempts = 1;
      if (std::string refusal = journalStart(1); !refusal.empty()) {
        outcome.error = refusal;
      } else {
        emit(event_type::kNotifyRequested, id,
             {{"audience", notify->audience},
              {"template", notify->templateName},
              {"message", notify->message},
              {"channels", json::array()}});
        outcome.status = steps::Status::ok;
      }
    }
    for (std::size_t slot = 0; slot < leftOut.size(); ++slot) {
      if (leftOut[slot] > 0) {
        static constexpr std::array<std::string_view, 3> kNames{steps::kStdout, steps::kStderr,
                                                                steps::kProgress};
        emit(event_type::kStepOutput, id,
             {{"stream", kNames[slot]},
              {"text",
               "[" + std::to_string(leftOut[slot]) + " more bytes of output were not journaled]"}},
             false);
      }
    }
    emitFinished(job.index, job.phase, outcome,
                 std::chrono::duration_cast<Milliseconds>(Steady::now() - started));
    return outcome;
  }

  steps::StepOutcome decide(const std::string& id, const runbook::DecisionSpec& decision,
                            const Job& job, const std::function<std::string(int)>& journalStart) {
    steps::StepOutcome outcome;
    outcome.attempts = 1;
    if (std::string refusal = journalStart(1); !refusal.empty()) {
      outcome.error = refusal;
      return outcome;
    }
    json::array options;
    for (const auto& option : decision.options) {
      options.push_back({{"id", option.id},
                         {"label", option.label.empty() ? option.id : option.label},
                         {"impact", option.impact}});
    }
    json::object requested{{"question", decision.question},
                           {"options", std::move(options)},
                           {"approvers", json::value_from(decision.approvers)}};
    const Milliseconds wait =
        decision.deadline.value_or(book_.steps[job.index].effectiveTimeout(book_.policy));
    requested["deadline_ms"] = wait.count();
    if (!decision.defaultOption.empty()) {
      requested["default"] = decision.defaultOption;
    }
    emit(event_type::kDecisionRequested, id, std::move(requested));

    Result<std::optional<DecisionAnswer>> answer =
        env_.decisions == nullptr
            ? Result<std::optional<DecisionAnswer>>(
                  Error{"no one can answer decisions here", "pass --decide " + id + "=OPTION"})
            : env_.decisions->decide(id, decision, Steady::now() + wait, *job.cancel);
    if (job.cancel->triggered()) {
      outcome.status = steps::Status::cancelled;
      outcome.error = "the run was cancelled while waiting for the decision";
      return outcome;
    }
    if (!answer) {
      outcome.error = answer.error().message +
                      (answer.error().hint.empty() ? "" : " (" + answer.error().hint + ")");
      return outcome;
    }
    DecisionAnswer made;
    if (answer->has_value()) {
      made = **answer;
    } else if (!decision.defaultOption.empty()) {
      made = DecisionAnswer{
          decision.defaultOption, "policy",
          "no decision within " + formatDuration(wait) + ": the runbook's default was taken",
          "deadline"};
    } else {
      outcome.status = steps::Status::timedOut;
      outcome.error = "no decision within " + formatDuration(wait) + ", and no default option";
      return outcome;
    }
    emit(event_type::kDecisionMade, id,
         {{"choice", made.choice},
          {"by", made.by},
          {"rationale", made.rationale},
          {"via", made.via}});
    outcome.status = steps::Status::ok;
    outcome.outputs = {
        {"choice", made.choice}, {"approver", made.by}, {"rationale", made.rationale}};
    return outcome;
  }

  void emitFinished(std::size_t index, Phase phase, const steps::StepOutcome& outcome,
                    Milliseconds duration) {
    json::object data{{"status", steps::statusName(outcome.status)},
                      {"phase", phaseName(phase)},
                      {"attempts", outcome.attempts},
                      {"duration_ms", duration.count()}};
    if (outcome.exitCode) {
      data["exit_code"] = *outcome.exitCode;
    }
    if (outcome.signal) {
      data["signal"] = *outcome.signal;
    }
    if (outcome.httpStatus) {
      data["http_status"] = *outcome.httpStatus;
    }
    if (!outcome.error.empty()) {
      data["error"] = outcome.error;
    }
    data["outputs"] = outcome.outputs;
    if (!outcome.measurements.empty()) {
      data["measurements"] = outcome.measurements;
    }
    // Written now, made durable by the next step's start (one fsync for both,
    // the common case in a chain) or by the scheduler once it has handled
    // this step's end (onFinished). No effect happens in between.
    emit(event_type::kStepFinished, book_.steps[index].id, std::move(data), false);
  }

  // ----- results (scheduler thread) -----

  void onFinished(std::size_t index, Phase phase, steps::StepOutcome outcome, Timestamp at) {
    dispatched_ = 0;
    handleFinished(index, phase, std::move(outcome), at);
    // A step dispatched now fsyncs its step.started before its effect, which
    // makes this step's end durable too; if none was, sync here.
    if (dispatched_ == 0) {
      if (Result<journal::Done> synced = events_.syncPending(); !synced) {
        noteJournalFailure(synced.error());
      }
    }
  }

  void handleFinished(std::size_t index, Phase phase, steps::StepOutcome outcome, Timestamp at) {
    --running_;
    const Step& step = book_.steps[index];
    StepProgress& progress = progress_[index];
    if (phase == Phase::rollback) {
      progress.rolledBack = true;
      progress.state = StepState::ok;  // the step itself stays done
      rollbackFailed_ = rollbackFailed_ || outcome.status != steps::Status::ok;
      schedule();
      return;
    }
    progress.state = stateOf(outcome.status);
    progress.reason = outcome.error;
    progress.finishedAt = at;
    if (progress.state == StepState::ok) {
      outputs_[step.id] = outcome.outputs;
      if (phase == Phase::main) {
        completionOrder_.push_back(step.id);
        measure(step, outcome, at);
      }
    } else if (isFailure(progress.state)) {
      if (phase == Phase::cleanup) {
        cleanupFailed_ = true;
      } else {
        failedSteps_.push_back(step.id);
        if (step.onFailure != runbook::OnFailure::continueRun && !abortedBy_) {
          abortedBy_ = step.id;
          rollbackRequested_ = step.onFailure == runbook::OnFailure::rollback;
        }
      }
    } else if (progress.state == StepState::cancelled && phase == Phase::cleanup) {
      cleanupFailed_ = true;
    }
    schedule();
  }

  void measure(const Step& step, const steps::StepOutcome& outcome, Timestamp at) {
    if (step.restoresService) {
      emit(event_type::kObjectiveMeasured, step.id,
           {{"objective", "rto"},
            {"value_ms", millisecondsBetween(setup_.outageStart, at)},
            {"source", step.id}});
    }
    if (step.measures == runbook::Measures::rpo) {
      const json::value* seconds = outcome.measurements.if_contains("rpo_seconds");
      if (seconds != nullptr && seconds->is_number()) {
        const double value = seconds->to_number<double>();
        if (std::isfinite(value) && value >= 0) {
          const auto milliseconds = static_cast<std::int64_t>(std::llround(value * 1000.0));
          rpo_.emplace_back(step.id, milliseconds);
          emit(event_type::kObjectiveMeasured, step.id,
               {{"objective", "rpo"}, {"value_ms", milliseconds}, {"source", step.id}});
        }
      }
    }
  }

  // Every main step that restores the service and runs in this mode must
  // have finished ok; the RTO ends at the last of them.
  std::optional<std::int64_t> rtoValue(std::string& source) const {
    std::optional<Timestamp> last;
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      const Step& step = book_.steps[i];
      if (!step.restoresService || step.cleanup || modeSkip_[i]) {
        continue;
      }
      if (progress_[i].state != StepState::ok) {
        return std::nullopt;
      }
      if (!last || progress_[i].finishedAt >= *last) {
        last = progress_[i].finishedAt;
        source = step.id;
      }
    }
    if (!last) {
      return std::nullopt;
    }
    return millisecondsBetween(setup_.outageStart, *last);
  }

  void finishRun() {
    if (finished_) {
      return;
    }
    finished_ = true;
    bool objectivesMet = true;
    const auto judge = [&](std::string_view name, Milliseconds target,
                           std::optional<std::int64_t> value, const std::string& source) {
      json::object data{{"objective", name}, {"target_ms", target.count()}};
      std::string verdict = "unknown";
      if (value) {
        data["value_ms"] = *value;
        verdict = *value <= target.count() ? "met" : "breached";
      }
      data["verdict"] = verdict;
      if (!source.empty()) {
        data["source"] = source;
      }
      if (name == "rto") {
        data["outage_start"] = formatTimestamp(setup_.outageStart);
        data["outage_start_source"] = setup_.outageStartSource;
        if (value) {
          data["restored_at"] = formatTimestamp(setup_.outageStart + Milliseconds(*value));
        }
      }
      objectivesMet = objectivesMet && verdict == "met";
      emit(event_type::kObjectiveEvaluated, "", std::move(data));
    };
    if (book_.objectives.rto) {
      std::string source;
      const std::optional<std::int64_t> value = rtoValue(source);
      judge("rto", *book_.objectives.rto, value, value ? source : std::string());
    }
    if (book_.objectives.rpo) {
      std::optional<std::int64_t> worst;
      std::string source;
      for (const auto& [step, value] : rpo_) {
        if (!worst || value > *worst) {
          worst = value;
          source = step;
        }
      }
      judge("rpo", *book_.objectives.rpo, worst, source);
    }

    bool hasCleanup = false;
    for (std::size_t i = 0; i < book_.steps.size(); ++i) {
      hasCleanup = hasCleanup || (book_.steps[i].cleanup && !modeSkip_[i]);
    }
    std::string outcome = "done";
    std::string error;
    if (interrupted_) {
      outcome = "interrupted";
    } else if (journalFailed_) {
      outcome = "failed";
      error = "the journal became unusable";
    } else if (runTimedOut_) {
      outcome = "failed";
      error = stopReason_;
    } else if (abortedBy_) {
      outcome = "failed";
    } else if (cleanupFailed_ || rollbackFailed_) {
      outcome = "incomplete";
    }
    int exitCode = kExitMet;
    if (outcome == "interrupted") {
      exitCode = kExitInterrupted;
    } else if (outcome != "done") {
      exitCode = kExitFailed;
    } else if (!objectivesMet) {
      exitCode = kExitObjectiveNotMet;
    }
    json::object data{
        {"outcome", outcome},
        {"exit_code", exitCode},
        {"duration_ms", millisecondsBetween(setup_.runStartedAt, setup_.clock->now())},
        {"failed_steps", json::value_from(failedSteps_)},
        {"cleanup", !hasCleanup      ? "none"
                    : cleanupFailed_ ? "failed"
                                     : "ok"},
        {"rolled_back", rolledBack_}};
    if (!error.empty()) {
      data["error"] = error;
    }
    emit(event_type::kRunFinished, "", std::move(data));
    result_ = ExecutorResult{outcome, exitCode};
    signals_.cancel();
    tickTimer_.cancel();
    runTimer_.cancel();
  }

  // ----- cancellation -----

  void onSignal(const boost::system::error_code& error, int number) {
    if (error || finished_) {
      return;
    }
    if (!mainCancel_.triggered()) {
      interrupted_ = true;
      stopMain("signal", std::string("stopped by ") + (number == SIGINT ? "SIGINT" : "SIGTERM"),
               number);
    } else {
      cleanupCancel_.trigger();
      emit(event_type::kRunCancelling, "",
           {{"reason", "signal"}, {"signal", number}, {"scope", "cleanup"}});
    }
    signals_.async_wait(
        [this](const boost::system::error_code& next, int again) { onSignal(next, again); });
    schedule();
  }

  void stopMain(std::string_view reason, std::string why, int signal = 0) {
    if (mainCancel_.triggered()) {
      return;
    }
    stopReason_ = std::move(why);
    json::object data{{"reason", reason}, {"message", stopReason_}};
    if (signal != 0) {
      data["signal"] = signal;
    }
    mainCancel_.trigger();
    emit(event_type::kRunCancelling, "", std::move(data));
    schedule();
  }

  // The lock thread: renews a lock that can be lost (an etcd lease) and
  // reports its loss to the scheduler.
  void keepLock() {
    const Milliseconds interval = setup_.lock->keepAliveInterval();
    while (!keeperStop_.waitFor(interval)) {
      Result<std::monostate> kept = setup_.lock->keepAlive();
      if (!kept) {
        asio::post(io_, [this, error = kept.error()] { onLockLost(error); });
        return;
      }
    }
  }

  // Without the lock no step may start, cleanup included: another agent may
  // be failing the service over by now. Running steps end on their own (the
  // fencing token they carry is stale, which fencing-aware systems refuse).
  void onLockLost(const Error& error) {
    if (finished_ || lockLost_) {
      return;
    }
    lockLost_ = true;
    interrupted_ = true;
    stopReason_ = "the failover lock was lost (" + error.message + ")";
    emit(event_type::kRunCancelling, "", {{"reason", "lock_lost"}, {"message", stopReason_}});
    schedule();
  }

  void armTick() {
    if (!env_.tick) {
      return;
    }
    tickTimer_.expires_after(kTickInterval);
    tickTimer_.async_wait([this](const boost::system::error_code& error) {
      if (error || finished_) {
        return;
      }
      events_.withLock([this] { env_.tick(setup_.clock->now()); });
      armTick();
    });
  }

  // ----- events -----

  void emit(std::string_view type, std::string_view step, json::object data, bool durable = true) {
    Result<journal::Done> written = events_.emit(type, step, std::move(data), durable);
    if (!written) {
      noteJournalFailure(written.error());
    }
  }

  void noteJournalFailure(const Error& error) {
    if (journalFailed_.exchange(true)) {
      return;
    }
    if (env_.warn) {
      env_.warn("journal: " + error.message + "; stopping the run");
    }
    // Nothing new may start without its record; stop from the scheduler.
    asio::post(io_, [this] {
      stopReason_ = "the journal became unusable";
      mainCancel_.trigger();
      schedule();
    });
  }

  ExecutorSetup setup_;
  const runbook::Runbook& book_;
  const RunEnvironment& env_;
  EventWriter& events_;
  asio::io_context io_;
  asio::thread_pool pool_;
  asio::signal_set signals_;
  asio::steady_timer tickTimer_;
  asio::steady_timer runTimer_;
  std::mt19937_64 random_;
  process::CancelSignal mainCancel_;
  process::CancelSignal cleanupCancel_;
  process::CancelSignal keeperStop_;

  std::unordered_map<std::string_view, std::size_t> indexById_;
  std::vector<StepProgress> progress_;
  std::vector<bool> modeSkip_;
  std::map<std::string, json::object, std::less<>> outputs_;
  std::vector<std::string> completionOrder_;
  std::optional<std::string> abortedBy_;
  bool rollbackRequested_ = false;
  std::vector<std::size_t> rollbackQueue_;
  std::vector<std::pair<std::string, std::int64_t>> rpo_;
  std::vector<std::string> failedSteps_;
  Phase phase_ = Phase::main;
  int running_ = 0;
  int dispatched_ = 0;  // steps dispatched while handling one step's end
  bool finished_ = false;
  bool interrupted_ = false;
  bool lockLost_ = false;
  bool runTimedOut_ = false;
  bool cleanupFailed_ = false;
  bool rollbackFailed_ = false;
  bool rolledBack_ = false;
  std::atomic<bool> journalFailed_{false};
  std::string stopReason_;
  ExecutorResult result_;
};

}  // namespace

ExecutorResult execute(ExecutorSetup setup, PriorState prior) {
  Scheduler scheduler(std::move(setup), std::move(prior));
  return scheduler.run();
}

}  // namespace lifeboat::engine
