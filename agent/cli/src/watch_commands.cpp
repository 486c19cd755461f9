#include "watch_commands.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <iostream>

#include "lifeboat/daemon/daemon.hpp"
#include "lifeboat/http/client.hpp"
#include "options.hpp"

namespace lifeboat::cli {
namespace {

namespace json = boost::json;

std::string defaultConfigPath() {
  const char* fromEnvironment = std::getenv("LIFEBOAT_CONFIG");
  return fromEnvironment != nullptr && *fromEnvironment != '\0'
             ? fromEnvironment
             : std::string(daemon::kDefaultConfigPath);
}

void addConfigOptions(CLI::App& command, std::string& config, std::string& socket) {
  command.add_option("--config", config,
                     "Agent config (default: $LIFEBOAT_CONFIG, else /etc/lifeboat/agent.toml)");
  command.add_option("--socket", socket,
                     "The daemon's control socket (default: control_socket of the config)");
}

std::string text(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return "";
  }
  return value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
}

struct Reply {
  int status = 0;
  json::object body;
};

// One request to the control socket; an exit code after printing the reason
// when there is no answer.
std::variant<Reply, int> ask(const std::string& configFlag, const std::string& socketFlag,
                             const std::string& method, const std::string& path,
                             const json::object& body, std::chrono::milliseconds timeout) {
  std::string socket = socketFlag;
  if (socket.empty()) {
    const std::string configPath = configFlag.empty() ? defaultConfigPath() : configFlag;
    Result<daemon::AgentConfig> config = daemon::loadAgentConfig(configPath);
    if (!config) {
      printError(config.error());
      return kExitInvalid;
    }
    socket = config->controlSocket.string();
  }
  http::Request request;
  request.method = method;
  request.url = "http://localhost" + path;
  request.unixSocket = socket;
  request.timeout = timeout;
  if (method == "POST") {
    request.headers = {{"Content-Type", "application/json"}};
    request.body = json::serialize(body);
  }
  http::Outcome outcome = http::perform(request);
  if (!outcome.result) {
    printError(
        Error{"no lifeboat watch answers on " + socket + ": " + outcome.result.error().message,
              "is `lifeboat watch` running with this config? (--socket PATH names "
              "another socket)"});
    return kExitNoDaemon;
  }
  boost::system::error_code code;
  json::value parsed = json::parse(outcome.result->body, code);
  if (code || !parsed.is_object()) {
    printError(Error{
        "lifeboat watch answered HTTP " + std::to_string(outcome.result->status) + " without JSON",
        "is something else listening on " + socket + "?"});
    return kExitNoDaemon;
  }
  return Reply{outcome.result->status, std::move(parsed.get_object())};
}

int refused(const Reply& reply) {
  printError(Error{text(reply.body, "error"), text(reply.body, "hint")});
  return kExitRefused;
}

}  // namespace

WatchCommands::WatchCommands(CLI::App& app) {
  watch_ = app.add_subcommand(
      "watch",
      "Run as the agent daemon: check the runbooks' triggers and fail services over on outages");
  addConfigOptions(*watch_, config_, socket_);
  watch_->add_flag("--check", check_,
                   "Only load the config and the runbooks, say what would be watched, and exit");

  status_ = app.add_subcommand("status", "Show what the running `lifeboat watch` sees");
  addConfigOptions(*status_, config_, socket_);
  status_->add_option("--output", output_, "text or json")->check(CLI::IsMember({"text", "json"}));

  trigger_ = app.add_subcommand(
      "trigger", "Start the failover of a watched service now (a human's decision: no budget)");
  addConfigOptions(*trigger_, config_, socket_);
  trigger_->add_option("service", service_, "The service")->required();
  trigger_->add_option("--by", by_, "Who asks (recorded in the run)")->required();
  trigger_->add_option("--reason", rationale_, "Why (recorded in the run)");
  trigger_->add_option("--outage-start", outageStart_,
                       "When the outage began (RFC 3339 UTC); default: the first failed check "
                       "of a failing trigger, else now");

  approve_ = app.add_subcommand("approve", "Approve a failover waiting for a human");
  addConfigOptions(*approve_, config_, socket_);
  approve_->add_option("service", service_, "The service")->required();
  approve_->add_option("--approver", by_, "Your name (recorded in the run)")->required();
  approve_->add_option("--rationale", rationale_, "Why (recorded in the run)")->required();

  decide_ = app.add_subcommand("decide", "Answer a decision step of a failover the daemon runs");
  addConfigOptions(*decide_, config_, socket_);
  decide_->add_option("service", service_, "The service")->required();
  decide_->add_option("step", step_, "The decision step's id")->required();
  decide_->add_option("choice", choice_, "The option's id")->required();
  decide_->add_option("--approver", by_, "Your name; one of the step's approvers")->required();
  decide_->add_option("--rationale", rationale_, "Why");
}

std::optional<int> WatchCommands::dispatch() {
  if (watch_->parsed())
    return watch();
  if (status_->parsed())
    return status();
  if (trigger_->parsed())
    return trigger();
  if (approve_->parsed())
    return approve();
  if (decide_->parsed())
    return decide();
  return std::nullopt;
}

int WatchCommands::watch() {
  const std::string configPath = config_.empty() ? defaultConfigPath() : config_;
  if (check_) {
    Result<std::string> checked = daemon::checkDaemonConfig(configPath);
    if (!checked) {
      printError(checked.error());
      return kExitInvalid;
    }
    std::cout << *checked << '\n';
    return kExitOk;
  }
  daemon::DaemonOptions options;
  options.configPath = configPath;
  return daemon::runDaemon(options);
}

int WatchCommands::status() {
  auto answer = ask(config_, socket_, "GET", "/v1/status", {}, std::chrono::seconds(15));
  if (const int* code = std::get_if<int>(&answer)) {
    return *code;
  }
  const Reply& reply = std::get<Reply>(answer);
  if (reply.status != 200) {
    return refused(reply);
  }
  if (output_ == "json") {
    std::cout << json::serialize(reply.body) << '\n';
    return kExitOk;
  }
  std::cout << "agent " << text(reply.body, "agent") << " (pid " << text(reply.body, "pid")
            << "), mode " << text(reply.body, "mode") << ", lock "
            << text(reply.body, "lock_backend") << '\n';
  const json::value* services = reply.body.if_contains("services");
  if (services == nullptr || !services->is_array()) {
    return kExitOk;
  }
  for (const json::value& item : services->get_array()) {
    const json::object& service = item.get_object();
    std::cout << "\n"
              << text(service, "service") << ": " << text(service, "phase")
              << (text(service, "automatic") == "true" ? "" : " (failover needs approval)");
    if (const std::string run = text(service, "run_id"); !run.empty()) {
      std::cout << ", run " << run;
    }
    if (const std::string holder = text(service, "lock_holder"); !holder.empty()) {
      std::cout << ", lock held by " << holder;
    }
    std::cout << "\n  runbook " << text(service, "runbook") << '\n';
    if (const json::value* pending = service.if_contains("pending")) {
      std::cout << "  waiting for " << text(pending->get_object(), "waiting_for") << ": "
                << text(pending->get_object(), "reason") << "\n  outage since "
                << text(pending->get_object(), "outage_start") << '\n';
    }
    if (const json::value* triggers = service.if_contains("triggers")) {
      for (const json::value& entry : triggers->get_array()) {
        const json::object& trigger = entry.get_object();
        std::cout << "  " << text(trigger, "name") << ": " << text(trigger, "health");
        if (text(trigger, "flapping") == "true")
          std::cout << ", flapping";
        if (text(trigger, "anomaly") == "true")
          std::cout << ", anomaly";
        if (const std::string detail = text(trigger, "detail"); !detail.empty()) {
          std::cout << " (" << detail << ")";
        }
        std::cout << '\n';
      }
    }
    if (const json::value* decisions = service.if_contains("decisions")) {
      for (const json::value& entry : decisions->get_array()) {
        const json::object& decision = entry.get_object();
        std::cout << "  decision " << text(decision, "step") << ": " << text(decision, "question")
                  << " (" << text(decision, "seconds_left") << " s left; lifeboat decide "
                  << text(service, "service") << ' ' << text(decision, "step")
                  << " OPTION --approver NAME --rationale TEXT)\n";
      }
    }
  }
  return kExitOk;
}

int WatchCommands::trigger() {
  json::object body{{"service", service_}, {"by", by_}, {"reason", rationale_}};
  if (!outageStart_.empty()) {
    body["outage_start"] = outageStart_;
  }
  auto answer = ask(config_, socket_, "POST", "/v1/trigger", body, std::chrono::seconds(90));
  if (const int* code = std::get_if<int>(&answer)) {
    return *code;
  }
  const Reply& reply = std::get<Reply>(answer);
  if (reply.status != 200 || text(reply.body, "started") != "true") {
    return refused(reply);
  }
  std::cout << "failover of " << service_ << " started: run " << text(reply.body, "run_id")
            << " (lifeboat show " << text(reply.body, "run_id") << ")\n";
  return kExitOk;
}

int WatchCommands::approve() {
  auto answer = ask(config_, socket_, "POST", "/v1/approve",
                    {{"service", service_}, {"by", by_}, {"rationale", rationale_}},
                    std::chrono::seconds(90));
  if (const int* code = std::get_if<int>(&answer)) {
    return *code;
  }
  const Reply& reply = std::get<Reply>(answer);
  if (reply.status != 200 || text(reply.body, "started") != "true") {
    return refused(reply);
  }
  std::cout << "approved: failover of " << service_ << " started, run "
            << text(reply.body, "run_id") << '\n';
  return kExitOk;
}

int WatchCommands::decide() {
  auto answer = ask(config_, socket_, "POST", "/v1/decide",
                    {{"service", service_},
                     {"step", step_},
                     {"choice", choice_},
                     {"by", by_},
                     {"rationale", rationale_}},
                    std::chrono::seconds(15));
  if (const int* code = std::get_if<int>(&answer)) {
    return *code;
  }
  const Reply& reply = std::get<Reply>(answer);
  if (reply.status != 200) {
    return refused(reply);
  }
  std::cout << service_ << ": " << step_ << " = " << choice_ << '\n';
  return kExitOk;
}

}  // namespace lifeboat::cli
