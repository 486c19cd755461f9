#include "lifeboat/daemon/daemon.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <csignal>
#include <future>
#include <iostream>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "daemon_decisions.hpp"
#include "lifeboat/common/duration.hpp"
#include "lifeboat/daemon/systemd_notify.hpp"
#include "lifeboat/engine/event_writer.hpp"
#include "lifeboat/engine/file_lock.hpp"
#include "lifeboat/engine/run.hpp"
#include "lifeboat/engine/run_clock.hpp"
#include "lifeboat/engine/state_directory.hpp"
#include "lifeboat/http/client.hpp"
#include "lifeboat/listener/server.hpp"
#include "lifeboat/locks/etcd_lock.hpp"
#include "lifeboat/locks/etcd_run_lock.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/stream/agent_stream.hpp"
#include "lifeboat/watch/alertmanager.hpp"
#include "lifeboat/watch/failover_budget.hpp"
#include "lifeboat/watch/probe.hpp"
#include "lifeboat/watch/trigger_state.hpp"
#include "watched.hpp"

#ifndef LIFEBOAT_VERSION
#define LIFEBOAT_VERSION "0.0.0"
#endif

namespace lifeboat::daemon {
namespace {

constexpr const char* kAgentVersion = LIFEBOAT_VERSION;

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Timestamp wallNow() {
  return std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
}

std::string_view eventType(watch::TriggerEvent::Kind kind) {
  switch (kind) {
    case watch::TriggerEvent::Kind::outageDeclared:
      return event_type::kOutageDeclared;
    case watch::TriggerEvent::Kind::suppressed:
      return event_type::kOutageSuppressed;
    case watch::TriggerEvent::Kind::recovered:
      return event_type::kOutageRecovered;
    case watch::TriggerEvent::Kind::anomaly:
      return event_type::kAnomalyDetected;
    case watch::TriggerEvent::Kind::anomalyCleared:
      return event_type::kAnomalyCleared;
    case watch::TriggerEvent::Kind::flappingStarted:
      return event_type::kFlappingStarted;
    case watch::TriggerEvent::Kind::flappingStopped:
      return event_type::kFlappingStopped;
  }
  return "unknown";
}

json::object jsonBody(std::string_view body, std::string& error) {
  boost::system::error_code code;
  json::value value = json::parse(body, code);
  if (code || !value.is_object()) {
    error = "the body must be a JSON object";
    return {};
  }
  return std::move(value.get_object());
}

std::string stringField(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

listener::Response jsonResponse(int status, json::object body) {
  listener::Response response;
  response.status = status;
  response.body = json::serialize(body);
  response.body += '\n';
  return response;
}

listener::Response errorResponse(int status, std::string message, std::string hint = {}) {
  json::object body{{"error", std::move(message)}};
  if (!hint.empty()) {
    body["hint"] = std::move(hint);
  }
  return jsonResponse(status, std::move(body));
}

// What one attempt to take a service's lock found.
struct LockAttempt {
  enum class Status { acquired, held, unreachable } status = Status::unreachable;
  std::unique_ptr<engine::RunLock> lock;
  std::string detail;  // the holder, or why etcd could not be asked
  std::string holderToken;
};

// The lock backends as the daemon needs them: try once, and ask who holds.
class ServiceLocks {
 public:
  explicit ServiceLocks(const AgentConfig& config)
      : backend_(config.lock.backend), etcd_(config.lock.etcd), state_(config.stateDirectory) {
    etcd_.holder = config.name + " (pid " + std::to_string(::getpid()) + ")";
  }

  LockAttempt tryAcquire(const std::string& service) const {
    LockAttempt attempt;
    if (backend_ == LockBackend::file) {
      Result<std::unique_ptr<engine::RunLock>> lock =
          engine::fileLockProvider(state_.string())(service, "watch");
      if (lock) {
        attempt.status = LockAttempt::Status::acquired;
        attempt.lock = std::move(*lock);
        return attempt;
      }
      if (std::optional<std::string> holder = engine::lockHolder(lockFile(service))) {
        attempt.status = LockAttempt::Status::held;
        attempt.detail = *holder;
      } else {
        attempt.detail = lock.error().message;
      }
      return attempt;
    }
    // Twice: a lock freed between our attempt and the look at its holder is
    // simply tried again (it says nothing about the lock store).
    for (int round = 0; round < 2; ++round) {
      Result<std::unique_ptr<engine::RunLock>> lock =
          locks::etcdLockProvider(etcd_)(service, "watch");
      if (lock) {
        attempt.status = LockAttempt::Status::acquired;
        attempt.lock = std::move(*lock);
        return attempt;
      }
      Result<std::optional<locks::LockHolder>> holder = locks::currentHolder(etcd_, service);
      if (!holder) {
        attempt.status = LockAttempt::Status::unreachable;
        attempt.detail = holder.error().message;
        return attempt;
      }
      if (*holder) {
        attempt.status = LockAttempt::Status::held;
        attempt.detail = (*holder)->holder;
        attempt.holderToken = std::to_string((*holder)->fencingToken);
        return attempt;
      }
      attempt.status = LockAttempt::Status::held;  // taken and freed again meanwhile
      attempt.detail = lock.error().message;
    }
    return attempt;
  }

  // nullopt: free; a string: held by that; an Error: cannot tell.
  Result<std::optional<std::string>> holder(const std::string& service) const {
    if (backend_ == LockBackend::file) {
      return engine::lockHolder(lockFile(service));
    }
    Result<std::optional<locks::LockHolder>> holder = locks::currentHolder(etcd_, service);
    if (!holder) {
      return holder.error();
    }
    if (!*holder) {
      return std::optional<std::string>{};
    }
    return std::optional<std::string>{(*holder)->holder + " (fencing token " +
                                      std::to_string((*holder)->fencingToken) + ")"};
  }

 private:
  fs::path lockFile(const std::string& service) const {
    return state_ / "locks" / (service + ".lock");
  }
  LockBackend backend_;
  locks::EtcdOptions etcd_;
  fs::path state_;
};

enum class Phase { idle, pending, locking, running, peer };

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::idle:
      return "idle";
    case Phase::pending:
      return "pending";
    case Phase::locking:
      return "locking";
    case Phase::running:
      return "running";
    case Phase::peer:
      return "peer_failing_over";
  }
  return "idle";
}

struct TriggerSlot {
  TriggerSlot(std::string name, runbook::Trigger trigger, watch::TriggerState state,
              std::unique_ptr<asio::steady_timer> timer)
      : name(std::move(name)),
        trigger(std::move(trigger)),
        state(std::move(state)),
        timer(std::move(timer)) {}

  std::string name;  // "trigger #2 (http)"
  runbook::Trigger trigger;
  watch::TriggerState state;
  std::unique_ptr<asio::steady_timer> timer;
  Clock::time_point nextDue{};
  bool inFlight = false;
  std::string lastDetail;
  std::optional<Timestamp> lastCheck;
  // The latest check could not judge the service (CheckResult::broken).
  bool broken = false;
  // alertmanager triggers: the matched alerts firing now, by fingerprint.
  std::map<std::string, watch::CheckResult> firing;
};

struct Pending {
  std::string waitingFor;  // approval, confirmation, lock_store
  std::string why;         // one line for status and events
  Timestamp outageStart{};
  std::string trigger;  // what declared it ("trigger #1 (http)", "manual", "alertmanager")
  std::string detail;   // the declaring check's detail
  Timestamp declaredAt{};
  Clock::time_point since{};
  bool manual = false;  // a human asked (trigger/approve): no budget, no confirmation
  std::string by, rationale;
  bool busy = false;  // a confirmation is in flight
  Clock::time_point lastAttempt{};
};

struct Service {
  Service(std::string name, watch::FailoverBudget budget)
      : name(std::move(name)), budget(std::move(budget)) {}

  std::string name;
  std::shared_ptr<const WatchedRunbook> runbook;
  std::shared_ptr<const WatchedRunbook> next;  // a reload waiting for the run to end
  bool removeWhenIdle = false;
  std::vector<std::shared_ptr<TriggerSlot>> triggers;
  watch::FailoverBudget budget;
  Phase phase = Phase::idle;
  std::optional<Pending> pending;
  std::string runId;
  std::string peerHolder;
  std::unique_ptr<asio::steady_timer> peerTimer;
  std::vector<std::function<void(json::object)>> startWaiters;  // control `trigger`/`approve`
  std::shared_ptr<DaemonDecisions> decisions;
};

class Daemon {
 public:
  Daemon(AgentConfig config, std::function<void(std::string_view)> log)
      : config_(std::move(config)),
        log_(std::move(log)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        workers_(8),
        catalog_(std::make_unique<plugin_host::Catalog>(
            plugin_host::defaultSearchPath(config_.pluginDirectories), runner_)),
        notifier_(SystemdNotifier::fromEnvironment()) {}

  int run() {
    Result<fs::path> state = engine::ensureStateDirectory(config_.stateDirectory);
    if (!state) {
      logError(state.error());
      return kWatchFailed;
    }
    if (auto opened = openJournal(); !opened) {
      logError(opened.error());
      return kWatchFailed;
    }
    Result<std::vector<std::shared_ptr<const WatchedRunbook>>> runbooks =
        loadWatchedRunbooks(config_, *catalog_);
    if (!runbooks) {
      logError(runbooks.error());
      return kWatchBadConfig;
    }
    if (auto started = startServer(); !started) {
      logError(started.error());
      return kWatchFailed;
    }
    applyRunbooks(*runbooks);
    ::malloc_trim(0);  // parsing's garbage: the daemon lives long
    waitForSignal();
    startWatchdog();
    emit(event_type::kWatchStarted, {{"config", config_.path.string()},
                                     {"services", static_cast<std::int64_t>(services_.size())},
                                     {"triggers", triggerCount()},
                                     {"lock_backend", lockBackendName()},
                                     {"pid", ::getpid()}});
    log("info", "watching " + std::to_string(triggerCount()) + " triggers of " +
                    std::to_string(services_.size()) + " services; control socket " +
                    config_.controlSocket.string() + listenDescription());
    notify("READY=1\nSTATUS=" + statusLine());
    io_.run();
    shutdownServer();
    workers_.join();
    emit(event_type::kWatchStopped, {{"reason", stopReason_}});
    if (stream_) {
      const std::uint64_t pending = stream_->finish(config_.coordinator.flushTimeout);
      if (pending > 0) {
        log("info", std::to_string(pending) +
                        " events not yet acknowledged by the coordinator; they stay spooled in " +
                        stream_->spoolDirectory().string());
      }
    }
    log("info", "stopped (" + stopReason_ + ")");
    return kWatchStopped;
  }

 private:
  // ---- logging, events, systemd ----------------------------------------------------------

  void log(std::string_view level, const std::string& message) {
    const std::string line = formatTimestamp(wallNow()) + " " + std::string(level) + " " + message;
    if (log_) {
      log_(line);
    } else {
      std::cerr << "lifeboat watch: " << line << '\n';
    }
  }

  void logError(const Error& error) {
    log("error", error.message + (error.hint.empty() ? "" : " (" + error.hint + ")"));
  }

  Result<std::monostate> openJournal() {
    const fs::path directory = config_.stateDirectory / "watch";
    std::error_code code;
    fs::create_directories(directory, code);
    if (code) {
      return Error{"cannot create " + directory.string() + ": " + code.message(),
                   "check state_dir in " + config_.path.string()};
    }
    Result<journal::Journal> journal = journal::Journal::open(directory / "events.jsonl");
    if (!journal) {
      return journal.error();
    }
    Result<journal::SequenceStore> sequence = journal::SequenceStore::open(config_.stateDirectory);
    if (!sequence) {
      return sequence.error();
    }
    sequence_ = std::make_shared<journal::SharedSequence>(std::move(*sequence));
    events_ = std::make_unique<engine::EventWriter>(std::move(*journal), sequence_, config_.name,
                                                    "", clock_);
    if (!config_.coordinator.url.empty()) {
      stream::AgentStreamSettings settings;
      settings.stateDirectory = config_.stateDirectory;
      settings.agent = config_.name;
      settings.agentVersion = kAgentVersion;
      settings.url = config_.coordinator.url;
      settings.tls.ca = config_.coordinator.caFile;
      settings.tls.certificate = config_.coordinator.certificate;
      settings.tls.privateKey = config_.coordinator.privateKey;
      settings.tls.pinSha256 = config_.coordinator.pinSha256;
      settings.spoolMax = config_.coordinator.spoolMax;
      settings.sequence = sequence_;
      settings.log = [this](const std::string& line) { log("info", "stream: " + line); };
      Result<std::unique_ptr<stream::AgentStream>> started =
          stream::AgentStream::start(std::move(settings));
      if (!started) {
        return Error{"[coordinator] in " + config_.path.string() + ": " + started.error().message,
                     started.error().hint};
      }
      stream_ = std::move(*started);
      events_->setSink(stream_->sink());
    }
    return std::monostate{};
  }

  // `durable` false: written now, fsynced by the next durable event or
  // syncEvents() (the detector's events: the fsync then overlaps with taking
  // the lock instead of delaying it).
  void emit(std::string_view type, json::object data, bool durable = true) {
    if (!events_) {
      return;
    }
    if (Result<journal::Done> done = events_->emit(type, "", std::move(data), durable); !done) {
      log("error", "cannot journal " + std::string(type) + ": " + done.error().message);
    }
  }

  void syncEvents() {
    if (!events_) {
      return;
    }
    if (Result<journal::Done> done = events_->syncPending(); !done) {
      log("error", "cannot sync the daemon's journal: " + done.error().message);
    }
  }

  void notify(const std::string& state) {
    if (auto sent = notifier_.notify(state); !sent) {
      log("warning", sent.error().message);
    }
  }

  void startWatchdog() {
    const std::optional<std::chrono::microseconds> interval = notifier_.watchdogInterval();
    if (!interval) {
      return;
    }
    watchdog_ = std::make_unique<asio::steady_timer>(io_);
    scheduleWatchdog(*interval);
  }

  void scheduleWatchdog(std::chrono::microseconds interval) {
    // Sent from the loop that does all the work: a stuck loop stops it.
    watchdog_->expires_after(interval);
    watchdog_->async_wait([this, interval](const boost::system::error_code& error) {
      if (error || stopping_) {
        return;
      }
      notify("WATCHDOG=1");
      scheduleWatchdog(interval);
    });
  }

  std::string statusLine() const {
    int running = 0;
    int pending = 0;
    for (const auto& [name, service] : services_) {
      running += service->phase == Phase::running ? 1 : 0;
      pending += service->pending && service->phase == Phase::pending ? 1 : 0;
    }
    return "watching " + std::to_string(triggerCount()) + " triggers, " + std::to_string(running) +
           " failovers running, " + std::to_string(pending) + " pending, mode " + mode_;
  }

  std::int64_t triggerCount() const {
    std::int64_t count = 0;
    for (const auto& [name, service] : services_) {
      count += static_cast<std::int64_t>(service->triggers.size());
    }
    return count;
  }

  std::string lockBackendName() const {
    return config_.lock.backend == LockBackend::etcd ? "etcd" : "file";
  }

  std::string listenDescription() const {
    if (!config_.listen || !server_) {
      return "";
    }
    return "; listening on " + std::string(config_.listen->tls ? "https" : "http") + "://" +
           config_.listen->host + ":" + std::to_string(server_->port(1));
  }

  // ---- signals and reload ----------------------------------------------------------------

  void waitForSignal() {
    signals_.async_wait([this](const boost::system::error_code& error, int number) {
      if (error) {
        return;
      }
      if (number == SIGHUP) {
        reload();
        waitForSignal();
        return;
      }
      beginStop(number == SIGINT ? "SIGINT" : "SIGTERM");
      waitForSignal();  // a second one is seen by the runs' own handlers
    });
  }

  void beginStop(const std::string& reason) {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    stopReason_ = reason;
    notify("STOPPING=1");
    probeCancel_.trigger();
    int running = 0;
    for (auto& [name, service] : services_) {
      for (auto& slot : service->triggers) {
        slot->timer->cancel();
      }
      if (service->peerTimer) {
        service->peerTimer->cancel();
      }
      running += service->phase == Phase::running ? 1 : 0;
      failWaiters(*service, "lifeboat watch is stopping");
    }
    if (watchdog_) {
      watchdog_->cancel();
    }
    log("info", "stopping (" + reason + ")" +
                    (running > 0 ? ": " + std::to_string(running) +
                                       " failovers in progress stop as `lifeboat run` does on "
                                       "the same signal (cleanup runs, the journal keeps the rest "
                                       "for `lifeboat resume`)"
                                 : ""));
    maybeFinishStop();
  }

  void maybeFinishStop() {
    if (!stopping_) {
      return;
    }
    for (const auto& [name, service] : services_) {
      if (service->phase == Phase::running || service->phase == Phase::locking) {
        return;
      }
    }
    signals_.cancel();
    io_.stop();
  }

  void reload() {
    notify("RELOADING=1");
    log("info", "SIGHUP: reloading " + config_.path.string());
    Result<AgentConfig> config = loadAgentConfig(config_.path);
    Result<std::vector<std::shared_ptr<const WatchedRunbook>>> runbooks =
        config ? loadWatchedRunbooks(*config, *catalog_)
               : Result<std::vector<std::shared_ptr<const WatchedRunbook>>>(config.error());
    if (!runbooks) {
      log("error",
          "reload refused, keeping the running configuration: " + runbooks.error().message);
      emit(event_type::kWatchReloaded, {{"ok", false}, {"error", runbooks.error().message}});
      notify("READY=1\nSTATUS=" + statusLine());
      return;
    }
    std::vector<std::string> ignored;
    if (config->stateDirectory != config_.stateDirectory)
      ignored.push_back("state_dir");
    if (config->controlSocket != config_.controlSocket)
      ignored.push_back("control_socket");
    if (config->name != config_.name)
      ignored.push_back("name");
    const bool listenChanged =
        config->listen.has_value() != config_.listen.has_value() ||
        (config->listen && (config->listen->host != config_.listen->host ||
                            config->listen->port != config_.listen->port ||
                            config->listen->certificate != config_.listen->certificate ||
                            config->listen->privateKey != config_.listen->privateKey ||
                            config->listen->clientCa != config_.listen->clientCa ||
                            config->listen->tls != config_.listen->tls));
    if (listenChanged)
      ignored.push_back("[listen]");
    for (const std::string& key : ignored) {
      log("warning", "reload: " + key + " changed; it takes effect when lifeboat watch restarts");
    }
    AgentConfig next = std::move(*config);
    next.stateDirectory = config_.stateDirectory;
    next.controlSocket = config_.controlSocket;
    next.name = config_.name;
    next.listen = config_.listen;
    config_ = std::move(next);
    catalog_ = std::make_unique<plugin_host::Catalog>(
        plugin_host::defaultSearchPath(config_.pluginDirectories), runner_);
    applyRunbooks(*runbooks);
    emit(event_type::kWatchReloaded, {{"ok", true},
                                      {"services", static_cast<std::int64_t>(services_.size())},
                                      {"triggers", triggerCount()}});
    log("info", "reloaded: " + statusLine());
    notify("READY=1\nSTATUS=" + statusLine());
  }

  // ---- services and triggers -------------------------------------------------------------

  void applyRunbooks(const std::vector<std::shared_ptr<const WatchedRunbook>>& runbooks) {
    std::map<std::string, std::shared_ptr<Service>> next;
    for (const auto& watched : runbooks) {
      const std::string& name = watched->book.metadata.service;
      auto existing = services_.find(name);
      if (existing != services_.end()) {
        std::shared_ptr<Service> service = existing->second;
        service->removeWhenIdle = false;
        if (service->runbook->book.sha256 == watched->book.sha256 &&
            service->runbook->variables == watched->variables) {
          service->runbook = watched;  // same text and values: keep the trigger states
          rebuildBudgetIfChanged(*service);
        } else if (service->phase == Phase::idle) {
          replaceRunbook(*service, watched);
        } else {
          service->next = watched;
          log("info", name + ": runbook changed; applies when the current failover ends");
        }
        next.emplace(name, std::move(service));
        continue;
      }
      auto service =
          std::make_shared<Service>(name, *watch::FailoverBudget::create(config_.budget));
      replaceRunbook(*service, watched);
      next.emplace(name, std::move(service));
    }
    for (auto& [name, service] : services_) {
      if (next.count(name) != 0) {
        continue;
      }
      if (service->phase == Phase::idle) {
        stopTriggers(*service);
        log("info", name + ": no longer watched");
      } else {
        service->removeWhenIdle = true;
        next.emplace(name, service);
        log("info", name + ": no longer in the config; stops being watched when its failover ends");
      }
    }
    services_ = std::move(next);
  }

  void rebuildBudgetIfChanged(Service& service) {
    const watch::FailoverBudgetOptions& current = service.budget.options();
    if (current.maxFailovers != config_.budget.maxFailovers ||
        current.window != config_.budget.window) {
      service.budget = *watch::FailoverBudget::create(config_.budget);
    }
  }

  void stopTriggers(Service& service) {
    for (auto& slot : service.triggers) {
      slot->timer->cancel();
    }
    service.triggers.clear();
  }

  void replaceRunbook(Service& service, std::shared_ptr<const WatchedRunbook> watched) {
    stopTriggers(service);
    service.runbook = std::move(watched);
    service.next.reset();
    rebuildBudgetIfChanged(service);
    const auto& triggers = service.runbook->triggers;
    for (std::size_t index = 0; index < triggers.size(); ++index) {
      Result<watch::TriggerState> state =
          watch::TriggerState::create(triggers[index], config_.detector);
      if (!state) {
        log("error", service.name + ": trigger #" + std::to_string(index + 1) + ": " +
                         state.error().message);
        continue;
      }
      auto slot = std::make_shared<TriggerSlot>(
          "trigger #" + std::to_string(index + 1) + " (" +
              std::string(runbook::triggerKindName(triggers[index].kind)) + ")",
          triggers[index], std::move(*state), std::make_unique<asio::steady_timer>(io_));
      service.triggers.push_back(slot);
      if (watch::isPolled(slot->trigger.kind)) {
        slot->nextDue = Clock::now();
        schedule(service.name, slot);
      }
    }
  }

  void schedule(const std::string& serviceName, const std::shared_ptr<TriggerSlot>& slot) {
    if (stopping_) {
      return;
    }
    slot->timer->expires_at(slot->nextDue);
    std::weak_ptr<TriggerSlot> weak = slot;
    slot->timer->async_wait([this, serviceName, weak](const boost::system::error_code& error) {
      std::shared_ptr<TriggerSlot> slot = weak.lock();
      if (error || !slot || stopping_) {
        return;
      }
      startCheck(serviceName, slot);
    });
  }

  watch::ProbeContext probeContext(const std::shared_ptr<const WatchedRunbook>& watched) {
    watch::ProbeContext context;
    context.runner = &runner_;
    context.cancel = &probeCancel_;
    context.redactor = &watched->redactor;
    plugin_host::SearchPath path = catalog_->searchPath();
    context.locatePlugin = [path](std::string_view plugin) -> std::optional<fs::path> {
      for (const fs::path& directory : path.directories) {
        const fs::path candidate = directory / std::string(plugin);
        if (::access(candidate.c_str(), X_OK) == 0) {
          return candidate;
        }
      }
      return std::nullopt;
    };
    context.findTarget = [watched](std::string_view name) -> const runbook::Target* {
      auto found = watched->probeTargets.find(name);
      return found == watched->probeTargets.end() ? nullptr : &found->second;
    };
    return context;
  }

  void startCheck(const std::string& serviceName, const std::shared_ptr<TriggerSlot>& slot) {
    auto found = services_.find(serviceName);
    if (found == services_.end() || slot->inFlight) {
      return;
    }
    slot->inFlight = true;
    // The next check is due one interval after this one was due (no drift);
    // a check that overran starts the next one at once.
    slot->nextDue += slot->trigger.interval;
    std::weak_ptr<TriggerSlot> weak = slot;
    std::shared_ptr<const WatchedRunbook> watched = found->second->runbook;
    asio::post(workers_, [this, serviceName, weak, watched, context = probeContext(watched),
                          trigger = slot->trigger, name = slot->name]() mutable {
      watch::CheckResult result = watch::runProbe(trigger, context, name);
      asio::post(io_, [this, serviceName, weak, result = std::move(result)] {
        std::shared_ptr<TriggerSlot> slot = weak.lock();
        if (!slot) {
          return;
        }
        slot->inFlight = false;
        checkDone(serviceName, *slot, result);
        if (slot->nextDue < Clock::now()) {
          slot->nextDue = Clock::now();
        }
        schedule(serviceName, slot);
      });
    });
  }

  void checkDone(const std::string& serviceName, TriggerSlot& slot,
                 const watch::CheckResult& result) {
    auto found = services_.find(serviceName);
    if (found == services_.end() || stopping_) {
      return;
    }
    Service& service = *found->second;
    slot.lastDetail = result.detail;
    slot.lastCheck = result.wallAt;
    // A broken check says nothing about the service: it neither counts
    // towards an outage nor ends one. Said once when it breaks and once when
    // it works again, so that a typo never fails a healthy service over and
    // never goes unnoticed.
    if (result.broken) {
      if (!slot.broken) {
        slot.broken = true;
        emit(event_type::kCheckBroken, {{"service", service.name},
                                        {"runbook", service.runbook->file.string()},
                                        {"trigger", slot.name},
                                        {"detail", result.detail}});
        log("error", service.name + ": " + slot.name +
                         " cannot check the service, not counted as a failure until fixed: " +
                         result.detail);
      }
      return;
    }
    if (slot.broken) {
      slot.broken = false;
      emit(event_type::kCheckRepaired, {{"service", service.name},
                                        {"runbook", service.runbook->file.string()},
                                        {"trigger", slot.name},
                                        {"detail", result.detail}});
      log("info", service.name + ": " + slot.name + " checks the service again");
    }
    std::vector<watch::TriggerEvent> events = slot.state.record(result);
    for (const watch::TriggerEvent& event : events) {
      onTriggerEvent(service, slot, event, result);
    }
    if (!events.empty()) {
      syncEvents();  // after a declaration has already sent the lock request off
    }
    // A failover waiting for the lock store or a second opinion is retried at
    // each failed check while the outage lasts.
    if (!result.healthy && service.phase == Phase::pending && service.pending &&
        !service.pending->busy &&
        (service.pending->waitingFor == "lock_store" ||
         service.pending->waitingFor == "confirmation")) {
      proceed(service);
    }
  }

  void onTriggerEvent(Service& service, TriggerSlot& slot, const watch::TriggerEvent& event,
                      const watch::CheckResult& result) {
    json::object data{{"service", service.name},
                      {"runbook", service.runbook->file.string()},
                      {"trigger", slot.name},
                      {"detail", result.detail},
                      {"reason", event.reason}};
    using Kind = watch::TriggerEvent::Kind;
    switch (event.kind) {
      case Kind::outageDeclared:
        data["outage_start"] = formatTimestamp(event.outageStart);
        data["consecutive_failures"] = event.consecutiveFailures;
        data["after_failover"] = event.afterFailover;
        break;
      case Kind::suppressed:
        data["hold"] = watch::toString(event.hold);
        data["outage_start"] = formatTimestamp(event.outageStart);
        if (event.heldUntil) {
          data["held_ms"] =
              std::chrono::duration_cast<milliseconds>(*event.heldUntil - Clock::now()).count();
        }
        break;
      case Kind::recovered:
        data["declared"] = event.declared;
        data["outage_start"] = formatTimestamp(event.outageStart);
        data["recovery_start"] = formatTimestamp(event.recoveryStart);
        break;
      case Kind::anomaly:
      case Kind::anomalyCleared:
        data["latency_ewma_ms"] = event.latencyEwmaMs;
        data["latency_baseline_ms"] = event.latencyBaselineMs;
        data["error_rate"] = event.errorRateEwma;
        break;
      case Kind::flappingStarted:
      case Kind::flappingStopped:
        break;
    }
    emit(eventType(event.kind), data, false);
    const std::string_view level = event.kind == Kind::outageDeclared ? "warning"
                                   : event.kind == Kind::anomaly      ? "warning"
                                                                      : "info";
    log(level, service.name + ": " + std::string(eventType(event.kind)) + " by " + slot.name +
                   ": " + event.reason);
    if (event.kind == Kind::outageDeclared) {
      declare(service, event.outageStart, slot.name, result.detail, false, "", "");
    } else if (event.kind == Kind::recovered && service.phase == Phase::pending &&
               service.pending) {
      emit(event_type::kFailoverSkipped,
           {{"service", service.name},
            {"reason", "recovered"},
            {"detail", "the service recovered before the failover started (was waiting for " +
                           service.pending->waitingFor + ")"}});
      log("info", service.name + ": recovered while the failover waited for " +
                      service.pending->waitingFor + "; nothing to do");
      service.pending.reset();
      service.phase = Phase::idle;
      failWaiters(service, "the service recovered before the failover started");
    }
  }

  // ---- from a declared outage to a run ---------------------------------------------------

  void declare(Service& service, Timestamp outageStart, const std::string& trigger,
               const std::string& detail, bool manual, const std::string& by,
               const std::string& rationale) {
    if (service.phase != Phase::idle) {
      return;  // already handled (pending, locking, running or a peer's failover)
    }
    Pending pending;
    pending.outageStart = outageStart;
    pending.trigger = trigger;
    pending.detail = detail;
    pending.declaredAt = wallNow();
    pending.since = Clock::now();
    pending.manual = manual;
    pending.by = by;
    pending.rationale = rationale;
    service.pending = std::move(pending);
    service.phase = Phase::pending;
    if (!manual && !service.runbook->book.policy.automatic) {
      waitFor(service, "approval",
              "the runbook is not automatic: run `lifeboat approve " + service.name +
                  " --approver NAME --rationale TEXT`");
      return;
    }
    const Clock::time_point now = Clock::now();
    if (!manual && !service.budget.allowed(now)) {
      const auto next =
          std::chrono::duration_cast<milliseconds>(service.budget.nextAllowedAt(now) - now);
      waitFor(service, "approval",
              "failover budget used up (" + std::to_string(service.budget.used(now)) + " of " +
                  std::to_string(service.budget.options().maxFailovers) + " within " +
                  formatDuration(service.budget.options().window) + ", next allowed in " +
                  formatDuration(next) + "): a human must approve with `lifeboat approve " +
                  service.name + "`");
      return;
    }
    proceed(service);
  }

  void waitFor(Service& service, std::string what, std::string why) {
    Pending& pending = *service.pending;
    const bool changed = pending.waitingFor != what || pending.why != why;
    pending.waitingFor = std::move(what);
    pending.why = std::move(why);
    service.phase = Phase::pending;
    if (!changed) {
      return;
    }
    emit(event_type::kFailoverPending, {{"service", service.name},
                                        {"waiting_for", pending.waitingFor},
                                        {"reason", pending.why},
                                        {"outage_start", formatTimestamp(pending.outageStart)},
                                        {"trigger", pending.trigger}});
    log("warning",
        service.name + ": failover waits for " + pending.waitingFor + ": " + pending.why);
    notify("STATUS=" + statusLine());
    if (pending.waitingFor == "approval") {
      scheduleApprovalExpiry(service);
    }
  }

  void scheduleApprovalExpiry(Service& service) {
    auto timer = std::make_shared<asio::steady_timer>(io_, config_.approvalTimeout);
    const Clock::time_point since = service.pending->since;
    timer->async_wait(
        [this, timer, name = service.name, since](const boost::system::error_code& error) {
          auto found = services_.find(name);
          if (error || stopping_ || found == services_.end()) {
            return;
          }
          Service& service = *found->second;
          if (service.phase != Phase::pending || !service.pending ||
              service.pending->since != since || service.pending->waitingFor != "approval") {
            return;
          }
          emit(event_type::kFailoverSkipped,
               {{"service", name},
                {"reason", "approval_timeout"},
                {"detail", "nobody approved within " + formatDuration(config_.approvalTimeout)}});
          log("warning", name + ": nobody approved the failover within " +
                             formatDuration(config_.approvalTimeout) + "; dropped");
          service.pending.reset();
          service.phase = Phase::idle;
          // A new declaration needs a fresh streak after the cooldown.
          for (auto& slot : service.triggers) {
            slot->state.failoverStarted(Clock::now());
            slot->state.failoverFinished(Clock::now());
          }
        });
  }

  // Approval and budget are settled: ask the second observers (automatic
  // failovers only), then take the lock.
  void proceed(Service& service) {
    Pending& pending = *service.pending;
    pending.lastAttempt = Clock::now();
    if (!pending.manual && !config_.confirm.peers.empty()) {
      confirm(service);
      return;
    }
    lockAndRun(service);
  }

  void confirm(Service& service) {
    Pending& pending = *service.pending;
    pending.busy = true;
    if (pending.waitingFor != "confirmation") {
      waitFor(service, "confirmation",
              "asking " + std::to_string(config_.confirm.peers.size()) +
                  " second observers whether they see the outage too");
    }
    asio::post(
        workers_, [this, name = service.name, confirm = config_.confirm, since = pending.since] {
          int failing = 0;
          int healthy = 0;
          std::vector<std::string> notes;
          for (const std::string& peer : confirm.peers) {
            http::Request request;
            request.method = "POST";
            request.url = peer + "/v1/observe";
            request.headers = {{"Content-Type", "application/json"}};
            request.body = json::serialize(json::object{{"service", name}});
            request.caFile = confirm.caFile.string();
            request.clientCertificate = confirm.certificate.string();
            request.clientKey = confirm.privateKey.string();
            request.timeout = confirm.timeout;
            http::Outcome outcome = http::perform(request);
            if (!outcome.result) {
              notes.push_back(peer + ": " + outcome.result.error().message);
              continue;
            }
            std::string error;
            json::object answer = jsonBody(outcome.result->body, error);
            const json::value* isHealthy = answer.if_contains("healthy");
            if (outcome.result->status != 200 || isHealthy == nullptr || !isHealthy->is_bool()) {
              notes.push_back(peer + ": HTTP " + std::to_string(outcome.result->status) + " " +
                              stringField(answer, "error"));
              continue;
            }
            if (isHealthy->get_bool()) {
              ++healthy;
              notes.push_back(peer + " (" + stringField(answer, "agent") + "): healthy, " +
                              stringField(answer, "detail"));
            } else {
              ++failing;
              notes.push_back(peer + " (" + stringField(answer, "agent") + "): failing, " +
                              stringField(answer, "detail"));
            }
          }
          asio::post(io_, [this, name, since, failing, healthy, notes, confirm] {
            auto found = services_.find(name);
            if (found == services_.end() || stopping_) {
              return;
            }
            Service& service = *found->second;
            if (!service.pending || service.pending->since != since) {
              return;
            }
            service.pending->busy = false;
            std::string summary;
            for (const std::string& note : notes) {
              summary += (summary.empty() ? "" : "; ") + note;
            }
            if (failing > 0 || (healthy == 0 && confirm.proceedWhenUnreachable)) {
              log("info", name + ": outage confirmed: " + summary);
              service.pending->detail += " (confirmed: " + summary + ")";
              lockAndRun(service);
              return;
            }
            const std::string why = healthy > 0 ? "not confirmed: " + summary
                                                : "no second observer answered: " + summary;
            if (service.pending->why != why) {
              emit(event_type::kFailoverSkipped,
                   {{"service", name}, {"reason", "not_confirmed"}, {"detail", why}});
            }
            waitFor(service, "confirmation", why);
          });
        });
  }

  void lockAndRun(Service& service) {
    service.phase = Phase::locking;
    asio::post(workers_, [this, name = service.name, locks = ServiceLocks(config_)]() {
      auto attempt = std::make_shared<LockAttempt>(locks.tryAcquire(name));
      asio::post(io_, [this, name, attempt] { lockResult(name, std::move(*attempt)); });
    });
  }

  void setMode(const std::string& mode, const std::string& why) {
    if (mode_ == mode) {
      return;
    }
    mode_ = mode;
    emit(event_type::kAgentMode, {{"mode", mode}, {"reason", why}});
    log(mode == "isolated" ? "error" : "info",
        "mode " + mode + ": " + why +
            (mode == "isolated" ? "; no automatic failover starts until the lock store answers "
                                  "(runs already started go on while their lock holds)"
                                : ""));
  }

  void lockResult(const std::string& name, LockAttempt attempt) {
    auto found = services_.find(name);
    if (found == services_.end()) {
      return;  // the lock, if taken, is released by ~RunLock
    }
    Service& service = *found->second;
    if (stopping_) {
      service.phase = Phase::idle;
      maybeFinishStop();
      return;
    }
    switch (attempt.status) {
      case LockAttempt::Status::acquired:
        if (config_.lock.backend == LockBackend::etcd) {
          setMode("normal", "the lock store answers again");
        }
        recheckUnderLock(service, std::move(attempt.lock));
        return;
      case LockAttempt::Status::held:
        if (config_.lock.backend == LockBackend::etcd) {
          setMode("normal", "the lock store answers again");
        }
        peerFailingOver(service, attempt.detail);
        return;
      case LockAttempt::Status::unreachable:
        setMode("isolated", "cannot reach the lock store: " + attempt.detail);
        waitFor(service, "lock_store", "cannot take the failover lock: " + attempt.detail);
        return;
    }
  }

  // With the lock held, one more look before failing over: a peer may have
  // repaired the service and released the lock between our last failed
  // check and our taking the lock (its fix happened before its release,
  // before our acquire, before this check). Automatic failovers only; a
  // human's request is not second-guessed, and alert-driven services have
  // nothing to poll.
  void recheckUnderLock(Service& service, std::unique_ptr<engine::RunLock> lock) {
    std::vector<std::shared_ptr<TriggerSlot>> slots;
    for (const auto& slot : service.triggers) {
      if (watch::isPolled(slot->trigger.kind)) {
        slots.push_back(slot);
      }
    }
    if (service.pending->manual || slots.empty()) {
      startFailover(service, std::move(lock));
      return;
    }
    std::vector<runbook::Trigger> triggers;
    std::vector<std::string> names;
    for (const auto& slot : slots) {
      triggers.push_back(slot->trigger);
      names.push_back(slot->name);
    }
    auto held = std::make_shared<std::unique_ptr<engine::RunLock>>(std::move(lock));
    asio::post(workers_, [this, name = service.name, triggers, names, held, slots,
                          context = probeContext(service.runbook)] {
      auto results = std::make_shared<std::vector<watch::CheckResult>>();
      for (std::size_t index = 0; index < triggers.size(); ++index) {
        results->push_back(watch::runProbe(triggers[index], context, names[index]));
      }
      asio::post(io_, [this, name, held, slots, results] {
        auto found = services_.find(name);
        if (found == services_.end()) {
          return;
        }
        Service& service = *found->second;
        if (stopping_ || !service.pending) {
          service.phase = Phase::idle;
          maybeFinishStop();
          return;
        }
        // These are checks like any other: the detector sees them (a flapping
        // service's good answers count as flips).
        bool healthy = true;
        std::string detail;
        for (std::size_t index = 0; index < slots.size(); ++index) {
          checkDone(name, *slots[index], (*results)[index]);
          healthy = healthy && (*results)[index].healthy;
          detail +=
              (detail.empty() ? "" : "; ") + slots[index]->name + ": " + (*results)[index].detail;
        }
        if (!healthy) {
          startFailover(service, std::move(*held));
          return;
        }
        held->reset();  // released: nothing to do
        emit(event_type::kFailoverSkipped,
             {{"service", name},
              {"reason", "recovered"},
              {"detail", "healthy again when checked under the lock (" + detail +
                             "): repaired meanwhile, perhaps by another agent"}});
        log("info", name + ": healthy again under the lock (" + detail + "); no failover");
        failWaiters(service, "the service was healthy again when checked under the lock");
        service.pending.reset();
        service.phase = Phase::idle;
        // An outage still declared (more good checks needed to end it) counts
        // as handled: should it go on, it is declared again after the
        // cooldown instead of never.
        const Clock::time_point now = Clock::now();
        for (auto& slot : service.triggers) {
          if (slot->state.outageDeclared()) {
            slot->state.failoverStarted(now);
            slot->state.failoverFinished(now);
          }
        }
        settle(service);
      });
    });
  }

  void peerFailingOver(Service& service, const std::string& holder) {
    service.phase = Phase::peer;
    service.peerHolder = holder;
    const Clock::time_point now = Clock::now();
    for (auto& slot : service.triggers) {
      slot->state.failoverStarted(now);
    }
    emit(event_type::kFailoverSkipped,
         {{"service", service.name},
          {"reason", "lock_held"},
          {"holder", holder},
          {"detail", "another agent holds the failover lock: " + holder}});
    log("warning", service.name + ": not failing over: the lock is held by " + holder +
                       "; waiting for it to finish");
    failWaiters(service, "the failover lock is held by " + holder);
    service.pending.reset();
    service.peerTimer = std::make_unique<asio::steady_timer>(io_);
    pollPeer(service);
  }

  milliseconds peerPollInterval(const Service& service) const {
    milliseconds interval{1'000};
    for (const auto& slot : service.triggers) {
      if (watch::isPolled(slot->trigger.kind)) {
        interval = std::min(interval, slot->trigger.interval);
      }
    }
    return std::max(interval, milliseconds(20));
  }

  void pollPeer(Service& service) {
    service.peerTimer->expires_after(peerPollInterval(service));
    service.peerTimer->async_wait(
        [this, name = service.name](const boost::system::error_code& error) {
          if (error || stopping_) {
            return;
          }
          asio::post(workers_, [this, name, locks = ServiceLocks(config_)] {
            auto holder = std::make_shared<Result<std::optional<std::string>>>(locks.holder(name));
            asio::post(io_, [this, name, holder] {
              auto found = services_.find(name);
              if (found == services_.end() || stopping_ || found->second->phase != Phase::peer) {
                return;
              }
              Service& service = *found->second;
              if (*holder && !holder->value()) {
                const Clock::time_point now = Clock::now();
                for (auto& slot : service.triggers) {
                  slot->state.failoverFinished(now);
                }
                log("info", service.name + ": the other agent's failover ended (" +
                                service.peerHolder + "); cooldown starts");
                service.phase = Phase::idle;
                service.peerHolder.clear();
                settle(service);
                return;
              }
              pollPeer(service);
            });
          });
        });
  }

  void startFailover(Service& service, std::unique_ptr<engine::RunLock> lock) {
    Pending pending = std::move(*service.pending);
    service.pending.reset();
    service.phase = Phase::running;
    const Clock::time_point now = Clock::now();
    if (pending.manual) {
      service.budget.clear();  // a human's decision is the acknowledgement
    }
    service.budget.record(now);
    for (auto& slot : service.triggers) {
      slot->state.failoverStarted(now);
    }
    const std::string fencing = lock->fencingToken();
    json::object origin{{"kind", pending.manual ? "manual" : "trigger"},
                        {"trigger", pending.trigger},
                        {"detail", pending.detail},
                        {"declared_at", formatTimestamp(pending.declaredAt)},
                        {"agent", config_.name}};
    if (!pending.by.empty()) {
      origin["approved_by"] = pending.by;
      origin["rationale"] = pending.rationale;
    }
    log("warning", service.name + ": starting failover with " + service.runbook->file.string() +
                       " (outage since " + formatTimestamp(pending.outageStart) +
                       ", fencing token " + fencing + ")");
    auto decisions = std::make_shared<DaemonDecisions>(service.name);
    service.decisions = decisions;
    auto held = std::make_shared<std::unique_ptr<engine::RunLock>>(std::move(lock));
    std::shared_ptr<const WatchedRunbook> watched = service.runbook;
    auto plugins = catalog_->searchPath();
    const std::string name = service.name;
    // The run thread reads nothing of the daemon's that a reload may change.
    runThreads_[name] =
        std::thread([this, name, watched, pending, origin, held, decisions, plugins,
                     stateDirectory = config_.stateDirectory, agentName = config_.name,
                     sequence = sequence_, sink = stream_ ? stream_->sink() : nullptr] {
          process::PosixRunner runner;
          plugin_host::Catalog catalog(plugins, runner);
          engine::RunEnvironment environment;
          environment.stateDirectory = stateDirectory;
          environment.agentName = agentName;
          environment.catalog = &catalog;
          environment.runner = &runner;
          environment.decisions = decisions.get();
          environment.sequence = sequence;
          environment.sink = sink;
          environment.observer = [this, name, decisions](const Event& event) {
            if (event.type == event_type::kRunStarted) {
              decisions->setRun(event.run);
              asio::post(io_, [this, name, run = event.run] { runStarted(name, run); });
            }
          };
          environment.lockProvider =
              [held](const std::string&,
                     const std::string&) -> Result<std::unique_ptr<engine::RunLock>> {
            if (!*held) {
              return Error{"the failover lock was already used", ""};
            }
            return std::move(*held);
          };
          environment.warn = [this, name](const std::string& warning) {
            asio::post(io_, [this, name, warning] { log("warning", name + ": " + warning); });
          };
          engine::RunRequest request;
          request.runbook = &watched->book;
          request.commandLineVariables = watched->variables;
          request.mode = runbook::Mode::real;
          request.outageStart = pending.outageStart;
          request.outageStartSource = pending.manual ? "manual" : "trigger";
          request.origin = origin;
          Result<engine::RunResult> result = engine::startRun(request, environment);
          // Nothing after this post: runFinished joins this thread.
          asio::post(io_, [this, name, result = std::move(result)] { runFinished(name, result); });
        });
  }

  void runStarted(const std::string& name, const std::string& runId) {
    auto found = services_.find(name);
    if (found == services_.end()) {
      return;
    }
    Service& service = *found->second;
    service.runId = runId;
    emit(event_type::kFailoverStarted,
         {{"service", name}, {"run_id", runId}, {"runbook", service.runbook->file.string()}});
    json::object answer{{"service", name}, {"run_id", runId}, {"started", true}};
    for (auto& waiter : service.startWaiters) {
      waiter(answer);
    }
    service.startWaiters.clear();
    notify("STATUS=" + statusLine());
  }

  void runFinished(const std::string& name, const Result<engine::RunResult>& result) {
    auto found = services_.find(name);
    if (found == services_.end()) {
      return;
    }
    if (auto thread = runThreads_.find(name); thread != runThreads_.end()) {
      thread->second.join();
      runThreads_.erase(thread);
    }
    Service& service = *found->second;
    const Clock::time_point now = Clock::now();
    for (auto& slot : service.triggers) {
      slot->state.failoverFinished(now);
    }
    service.decisions.reset();
    if (result) {
      emit(event_type::kFailoverFinished, {{"service", name},
                                           {"run_id", result->runId},
                                           {"outcome", result->outcome},
                                           {"exit_code", result->exitCode}});
      log(result->exitCode == 0 ? "info" : "warning",
          name + ": failover run " + result->runId + " ended " + result->outcome + " (exit " +
              std::to_string(result->exitCode) + "); report: lifeboat report " + result->runId);
    } else {
      emit(event_type::kFailoverFinished,
           {{"service", name}, {"outcome", "not_started"}, {"error", result.error().message}});
      log("error", name + ": the failover could not run: " + result.error().message);
      failWaiters(service, result.error().message);
    }
    service.runId.clear();
    service.phase = Phase::idle;
    settle(service);
    ::malloc_trim(0);
    maybeFinishStop();
    notify("STATUS=" + statusLine());
  }

  // After a failover (ours or a peer's): apply what a reload left waiting.
  void settle(Service& service) {
    if (service.removeWhenIdle) {
      stopTriggers(service);
      services_.erase(service.name);  // `service` dies here
      return;
    }
    if (service.next) {
      replaceRunbook(service, std::move(service.next));
    }
  }

  void failWaiters(Service& service, const std::string& why) {
    json::object answer{{"service", service.name}, {"started", false}, {"error", why}};
    for (auto& waiter : service.startWaiters) {
      waiter(answer);
    }
    service.startWaiters.clear();
  }

  // ---- the HTTP side: control socket, webhooks, peers ------------------------------------

  Result<std::monostate> startServer() {
    std::vector<listener::Endpoint> endpoints;
    std::error_code code;
    fs::create_directories(config_.controlSocket.parent_path(), code);
    listener::Endpoint control;
    control.unixPath = config_.controlSocket;
    endpoints.push_back(std::move(control));
    if (config_.listen) {
      listener::Endpoint tcp;
      tcp.host = config_.listen->host;
      tcp.port = config_.listen->port;
      if (config_.listen->tls) {
        tcp.tls =
            listener::TlsOptions{.certificate = config_.listen->certificate,
                                 .privateKey = config_.listen->privateKey,
                                 .clientCa = config_.listen->clientCa,
                                 .requireClientCertificate = !config_.listen->clientCa.empty()};
      }
      endpoints.push_back(std::move(tcp));
      if (!config_.listen->tokenEnvironment.empty()) {
        const char* token = std::getenv(config_.listen->tokenEnvironment.c_str());
        if (token == nullptr || *token == '\0') {
          return Error{
              "[listen] token_env names " + config_.listen->tokenEnvironment + ", which is not set",
              "set it in the service's environment, or remove token_env"};
        }
        webhookToken_ = token;
      }
    }
    Result<std::unique_ptr<listener::Server>> server = listener::Server::start(
        std::move(endpoints), [this](const listener::Request& request) { return handle(request); });
    if (!server) {
      return server.error();
    }
    server_ = std::move(*server);
    return std::monostate{};
  }

  void shutdownServer() {
    {
      std::lock_guard guard(postMutex_);
      closing_ = true;
    }
    io_.restart();
    io_.poll();  // answers what handlers already posted
    if (server_) {
      server_->stop();
    }
  }

  // Runs `work` on the daemon's loop and waits for its answer (handlers run on
  // the listener's thread; all state belongs to the loop).
  listener::Response onLoop(std::function<void(std::function<void(listener::Response)>)> work,
                            milliseconds timeout = milliseconds(10'000)) {
    auto promise = std::make_shared<std::promise<listener::Response>>();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    std::future<listener::Response> future = promise->get_future();
    auto reply = [promise, answered](listener::Response response) {
      if (!answered->exchange(true)) {
        promise->set_value(std::move(response));
      }
    };
    {
      std::lock_guard guard(postMutex_);
      if (closing_) {
        return errorResponse(503, "lifeboat watch is stopping");
      }
      asio::post(io_, [work = std::move(work), reply] { work(reply); });
    }
    if (future.wait_for(timeout) != std::future_status::ready) {
      return errorResponse(504, "no answer within " + formatDuration(timeout),
                           "see `lifeboat status` and the daemon's log");
    }
    return future.get();
  }

  listener::Response handle(const listener::Request& request) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (request.peer == "unix") {
      if (request.method == "GET" && path == "/v1/status") {
        return onLoop([this](auto reply) { reply(jsonResponse(200, status())); });
      }
      if (request.method == "POST" && path == "/v1/trigger") {
        return control(request, &Daemon::manualTrigger);
      }
      if (request.method == "POST" && path == "/v1/approve") {
        return control(request, &Daemon::approve);
      }
      if (request.method == "POST" && path == "/v1/decide") {
        return decide(request);
      }
      return errorResponse(404, "no such control endpoint: " + request.method + " " + path,
                           "GET /v1/status, POST /v1/trigger, /v1/approve, /v1/decide");
    }
    if (request.method == "POST" && path == "/v1/alertmanager") {
      return alertmanager(request);
    }
    if (request.method == "POST" && path == "/v1/observe") {
      return observe(request);
    }
    return errorResponse(404, "no such endpoint: " + request.method + " " + path,
                         "POST /v1/alertmanager (webhooks), POST /v1/observe (peers)");
  }

  using ControlAction = void (Daemon::*)(const json::object&,
                                         std::function<void(listener::Response)>);

  listener::Response control(const listener::Request& request, ControlAction action) {
    std::string error;
    json::object body = jsonBody(request.body, error);
    if (!error.empty()) {
      return errorResponse(400, error);
    }
    return onLoop([this, action, body](auto reply) { (this->*action)(body, std::move(reply)); },
                  milliseconds(60'000));
  }

  // POST /v1/trigger {"service", "by", "reason", "outage_start"?}
  void manualTrigger(const json::object& body, std::function<void(listener::Response)> reply) {
    const std::string name = stringField(body, "service");
    const std::string by = stringField(body, "by");
    const std::string reason = stringField(body, "reason");
    auto found = services_.find(name);
    if (found == services_.end()) {
      reply(errorResponse(404, "no watched runbook fails over service " + name,
                          "`lifeboat status` lists the services"));
      return;
    }
    if (by.empty()) {
      reply(errorResponse(400, "a manual failover needs the name of who asked (by)"));
      return;
    }
    if (stopping_) {
      reply(errorResponse(503, "lifeboat watch is stopping"));
      return;
    }
    Service& service = *found->second;
    std::optional<Timestamp> outageStart;
    if (std::string text = stringField(body, "outage_start"); !text.empty()) {
      Result<Timestamp> parsed = parseTimestamp(text);
      if (!parsed) {
        reply(errorResponse(400, "outage_start: " + parsed.error().message));
        return;
      }
      outageStart = *parsed;
    }
    if (service.phase == Phase::pending && service.pending) {
      // A human asking now is the approval the pending failover waited for.
      service.pending->manual = true;
      service.pending->by = by;
      service.pending->rationale = reason;
      if (outageStart) {
        service.pending->outageStart = *outageStart;
      }
    } else if (service.phase != Phase::idle) {
      reply(errorResponse(409,
                          "service " + name + " is " + std::string(phaseName(service.phase)) +
                              (service.runId.empty() ? "" : " (run " + service.runId + ")"),
                          "one failover at a time per service"));
      return;
    } else {
      if (!outageStart) {
        // The outage began at the first failed check of a failing trigger, if any.
        for (const auto& slot : service.triggers) {
          const watch::TriggerStatus status = slot->state.status();
          if (status.outageStart && status.consecutiveFailures > 0 &&
              (!outageStart || *status.outageStart < *outageStart)) {
            outageStart = status.outageStart;
          }
        }
      }
      declare(service, outageStart.value_or(wallNow()), "manual", reason.empty() ? "" : reason,
              true, by, reason);
    }
    emit(event_type::kFailoverApproved,
         {{"service", name}, {"by", by}, {"rationale", reason}, {"via", "trigger"}});
    service.startWaiters.push_back(
        [reply](json::object answer) { reply(jsonResponse(200, std::move(answer))); });
    if (service.phase == Phase::pending && service.pending && !service.pending->busy) {
      proceed(service);
    }
  }

  // POST /v1/approve {"service", "by", "rationale"}
  void approve(const json::object& body, std::function<void(listener::Response)> reply) {
    const std::string name = stringField(body, "service");
    const std::string by = stringField(body, "by");
    const std::string rationale = stringField(body, "rationale");
    auto found = services_.find(name);
    if (found == services_.end()) {
      reply(errorResponse(404, "no watched runbook fails over service " + name));
      return;
    }
    Service& service = *found->second;
    if (service.phase != Phase::pending || !service.pending) {
      reply(errorResponse(409,
                          "service " + name + " has no failover waiting for approval (" +
                              std::string(phaseName(service.phase)) + ")",
                          "`lifeboat trigger " + name + "` starts one by hand"));
      return;
    }
    if (by.empty() || rationale.empty()) {
      reply(errorResponse(400, "an approval needs the approver's name and a rationale"));
      return;
    }
    service.pending->manual = true;
    service.pending->by = by;
    service.pending->rationale = rationale;
    emit(event_type::kFailoverApproved,
         {{"service", name}, {"by", by}, {"rationale", rationale}, {"via", "approve"}});
    log("warning", name + ": failover approved by " + by + ": " + rationale);
    service.startWaiters.push_back(
        [reply](json::object answer) { reply(jsonResponse(200, std::move(answer))); });
    if (!service.pending->busy) {
      proceed(service);
    }
  }

  // POST /v1/decide {"service", "step", "choice", "by", "rationale"}
  listener::Response decide(const listener::Request& request) {
    std::string error;
    json::object body = jsonBody(request.body, error);
    if (!error.empty()) {
      return errorResponse(400, error);
    }
    const std::string name = stringField(body, "service");
    auto decisions = std::make_shared<std::shared_ptr<DaemonDecisions>>();
    listener::Response found = onLoop([this, name, decisions](auto reply) {
      auto service = services_.find(name);
      if (service == services_.end() || !service->second->decisions) {
        reply(errorResponse(404, "no failover of service " + name + " is running"));
        return;
      }
      *decisions = service->second->decisions;
      reply(listener::Response{});
    });
    if (found.status != 200) {
      return found;
    }
    Result<std::string> answered =
        (*decisions)
            ->answer(stringField(body, "step"), stringField(body, "choice"),
                     stringField(body, "by"), stringField(body, "rationale"));
    if (!answered) {
      return errorResponse(409, answered.error().message, answered.error().hint);
    }
    return jsonResponse(200, {{"service", name}, {"answered", *answered}});
  }

  json::object status() {
    json::array services;
    for (const auto& [name, service] : services_) {
      json::array triggers;
      for (const auto& slot : service->triggers) {
        const watch::TriggerStatus status = slot->state.status();
        json::object trigger{{"name", slot->name},
                             {"kind", runbook::triggerKindName(slot->trigger.kind)},
                             {"health", watch::toString(status.health)},
                             {"consecutive_failures", status.consecutiveFailures},
                             {"flapping", status.flapping},
                             {"anomaly", status.anomaly},
                             {"checks", status.checks},
                             {"broken", slot->broken},
                             {"detail", slot->lastDetail}};
        if (status.outageStart) {
          trigger["outage_start"] = formatTimestamp(*status.outageStart);
        }
        if (slot->lastCheck) {
          trigger["last_check"] = formatTimestamp(*slot->lastCheck);
        }
        triggers.push_back(std::move(trigger));
      }
      json::object entry{{"service", name},
                         {"runbook", service->runbook->file.string()},
                         {"automatic", service->runbook->book.policy.automatic},
                         {"phase", phaseName(service->phase)},
                         {"failovers_in_window", service->budget.used(Clock::now())},
                         {"triggers", std::move(triggers)}};
      if (service->pending) {
        entry["pending"] =
            json::object{{"waiting_for", service->pending->waitingFor},
                         {"reason", service->pending->why},
                         {"outage_start", formatTimestamp(service->pending->outageStart)},
                         {"trigger", service->pending->trigger}};
      }
      if (!service->runId.empty()) {
        entry["run_id"] = service->runId;
      }
      if (!service->peerHolder.empty()) {
        entry["lock_holder"] = service->peerHolder;
      }
      if (service->decisions) {
        entry["decisions"] = service->decisions->pendingJson();
      }
      services.push_back(std::move(entry));
    }
    json::object answer{{"agent", config_.name},
                        {"pid", ::getpid()},
                        {"mode", mode_},
                        {"lock_backend", lockBackendName()},
                        {"state_dir", config_.stateDirectory.string()},
                        {"control_socket", config_.controlSocket.string()},
                        {"services", std::move(services)}};
    if (config_.listen && server_) {
      answer["listen_port"] = server_->port(1);
    }
    return answer;
  }

  static std::string alertKey(const watch::Alert& alert) {
    if (!alert.fingerprint.empty()) {
      return alert.fingerprint;
    }
    watch::LabelList labels = alert.labels;
    std::sort(labels.begin(), labels.end());
    std::string key;
    for (const auto& [label, value] : labels) {
      key += label + '\x1f' + value + '\x1e';
    }
    return key;
  }

  bool authorized(const listener::Request& request) const {
    if (webhookToken_.empty()) {
      return true;
    }
    const std::string expected = "Bearer " + webhookToken_;
    const std::string given = request.header("authorization");
    // Constant time over the expected length.
    unsigned char difference = given.size() == expected.size() ? 0 : 1;
    for (std::size_t index = 0; index < expected.size(); ++index) {
      difference |= static_cast<unsigned char>(expected[index] ^
                                               (index < given.size() ? given[index] : '\0'));
    }
    return difference == 0;
  }

  listener::Response alertmanager(const listener::Request& request) {
    if (!authorized(request)) {
      return errorResponse(401, "missing or wrong bearer token",
                           "set http_config.authorization in Alertmanager's webhook_config");
    }
    Result<watch::WebhookMessage> message = watch::parseAlertmanagerWebhook(request.body);
    if (!message) {
      return errorResponse(400, message.error().message, message.error().hint);
    }
    const Clock::time_point received = Clock::now();
    return onLoop([this, message = std::move(*message), received](auto reply) {
      int matched = 0;
      // A trigger may match several alerts (one per instance): it is failing
      // while any of them fires, whatever order a message lists them in.
      for (auto& [name, service] : services_) {
        for (auto& slot : service->triggers) {
          if (slot->trigger.kind != runbook::TriggerKind::alertmanager) {
            continue;
          }
          bool touched = false;
          std::optional<watch::CheckResult> resolved;
          for (const watch::Alert& alert : message.alerts) {
            if (!watch::matches(slot->trigger, alert)) {
              continue;
            }
            ++matched;
            touched = true;
            const std::string key = alertKey(alert);
            watch::CheckResult result = watch::toCheckResult(alert, received);
            if (alert.status == "firing") {
              slot->firing.insert_or_assign(key, std::move(result));
            } else {
              slot->firing.erase(key);
              resolved = std::move(result);
            }
          }
          if (!touched) {
            continue;
          }
          if (!slot->firing.empty()) {
            // The earliest-firing alert dates the outage.
            auto earliest = slot->firing.begin();
            for (auto it = slot->firing.begin(); it != slot->firing.end(); ++it) {
              if (it->second.wallAt < earliest->second.wallAt) {
                earliest = it;
              }
            }
            checkDone(name, *slot, earliest->second);
          } else if (resolved) {
            checkDone(name, *slot, *resolved);
          }
        }
      }
      reply(jsonResponse(200, {{"alerts", static_cast<std::int64_t>(message.alerts.size())},
                               {"matched", matched}}));
    });
  }

  // POST /v1/observe {"service"}: a peer asks for our own, fresh look.
  listener::Response observe(const listener::Request& request) {
    std::string error;
    json::object body = jsonBody(request.body, error);
    if (!error.empty()) {
      return errorResponse(400, error);
    }
    const std::string name = stringField(body, "service");
    return onLoop([this, name](auto reply) {
      auto found = services_.find(name);
      if (found == services_.end()) {
        reply(errorResponse(404, "this agent does not watch service " + name));
        return;
      }
      std::vector<runbook::Trigger> triggers;
      std::vector<std::string> names;
      for (const auto& slot : found->second->triggers) {
        if (watch::isPolled(slot->trigger.kind)) {
          triggers.push_back(slot->trigger);
          names.push_back(slot->name);
        }
      }
      if (triggers.empty()) {
        reply(errorResponse(404, "this agent has no polled check of service " + name));
        return;
      }
      asio::post(workers_, [name, triggers, names, reply, agent = config_.name,
                            context = probeContext(found->second->runbook)] {
        bool healthy = true;
        std::size_t judged = 0;
        std::string detail;
        for (std::size_t index = 0; index < triggers.size(); ++index) {
          watch::CheckResult result = watch::runProbe(triggers[index], context, names[index]);
          // A broken check cannot confirm an outage (nor deny one).
          detail += (detail.empty() ? "" : "; ") + names[index] +
                    (result.broken ? ": broken check: " : ": ") + result.detail;
          if (!result.broken) {
            ++judged;
            healthy = healthy && result.healthy;
          }
        }
        if (judged == 0) {
          reply(errorResponse(503, "cannot judge service " + name +
                                       ": every check of this agent is broken (" + detail + ")"));
          return;
        }
        reply(jsonResponse(
            200, {{"service", name}, {"agent", agent}, {"healthy", healthy}, {"detail", detail}}));
      });
    });
  }

  AgentConfig config_;
  std::function<void(std::string_view)> log_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::thread_pool workers_;
  process::PosixRunner runner_;
  std::unique_ptr<plugin_host::Catalog> catalog_;
  SystemdNotifier notifier_;
  engine::RunClock clock_;
  std::shared_ptr<journal::SharedSequence> sequence_;
  std::unique_ptr<engine::EventWriter> events_;
  // The spool and the stream to the coordinator when [coordinator] is set;
  // run() finishes it after the last event (watch.stopped).
  std::unique_ptr<stream::AgentStream> stream_;
  std::unique_ptr<listener::Server> server_;
  std::unique_ptr<asio::steady_timer> watchdog_;
  process::CancelSignal probeCancel_;
  std::map<std::string, std::shared_ptr<Service>> services_;
  std::map<std::string, std::thread> runThreads_;  // by service
  std::string mode_ = "normal";
  std::string webhookToken_;
  bool stopping_ = false;
  std::string stopReason_;
  std::mutex postMutex_;
  bool closing_ = false;
};

}  // namespace

Result<std::string> checkDaemonConfig(const fs::path& configPath) {
  Result<AgentConfig> config = loadAgentConfig(configPath);
  if (!config) {
    return config.error();
  }
  process::PosixRunner runner;
  plugin_host::Catalog catalog(plugin_host::defaultSearchPath(config->pluginDirectories), runner);
  Result<std::vector<std::shared_ptr<const WatchedRunbook>>> runbooks =
      loadWatchedRunbooks(*config, catalog);
  if (!runbooks) {
    return runbooks.error();
  }
  std::size_t triggers = 0;
  std::string services;
  for (const auto& watched : *runbooks) {
    triggers += watched->triggers.size();
    services += (services.empty() ? "" : ", ") + watched->book.metadata.service +
                (watched->book.policy.automatic ? "" : " (needs approval)");
  }
  return configPath.string() + ": valid: " + std::to_string(runbooks->size()) +
         (runbooks->size() == 1 ? " service, " : " services, ") + std::to_string(triggers) +
         (triggers == 1 ? " trigger" : " triggers") + (services.empty() ? "" : ": " + services);
}

int runDaemon(const DaemonOptions& options) {
  Result<AgentConfig> config = loadAgentConfig(options.configPath);
  if (!config) {
    // The message is already `path:line:col: error: ...` lines.
    const std::string line = config.error().message +
                             (config.error().hint.empty() ? "" : "\nhint: " + config.error().hint);
    if (options.log) {
      options.log(line);
    } else {
      std::cerr << "lifeboat watch: " << line << '\n';
    }
    return kWatchBadConfig;
  }
  Daemon daemon(std::move(*config), options.log);
  return daemon.run();
}

}  // namespace lifeboat::daemon
