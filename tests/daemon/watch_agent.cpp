#include "watch_agent.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/journal/journal.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::daemon::fixtures {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<std::string> lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::string field(const Event& event, std::string_view name) {
  const json::value* value = event.data.if_contains(name);
  if (value == nullptr) {
    return "";
  }
  return value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
}

bool eventually(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

WatchAgent::WatchAgent(fs::path directory, const std::string& config, bool waitReady,
                       std::vector<std::pair<std::string, std::string>> environment)
    : directory_(std::move(directory)), statePath_(directory_ / "state") {
  fs::create_directories(directory_);
  std::ofstream(configPath()) << config;
  const fs::path logFile = directory_ / "daemon.log";
  const int log = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  std::vector<std::string> argv;
  if (!environment.empty()) {
    argv.push_back("/usr/bin/env");
    for (const auto& [name, value] : environment) {
      argv.push_back(name + "=" + value);
    }
  }
  argv.push_back((test_support::binaryDir() / "bin" / "lifeboat").string());
  argv.insert(argv.end(), {"watch", "--config", configPath().string()});
  pid_ = test_support::startBackground(argv, {test_support::kDevNull, log, log});
  ::close(log);
  if (pid_ <= 0) {
    ADD_FAILURE() << "cannot start lifeboat watch: " << -pid_;
    pid_ = -1;
    return;
  }
  if (!waitReady) {
    return;
  }
  const bool ready = eventually(
      [this] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;
        }
        return !this->status().empty();
      },
      milliseconds(20'000));
  if (ready && pid_ > 0) {
    const json::object answer = status();
    if (const json::value* state = answer.if_contains("state_dir")) {
      statePath_ = std::string(state->get_string());
    }
    if (const json::value* socket = answer.if_contains("control_socket")) {
      socket_ = std::string(socket->get_string());
    }
  }
  if (!ready || pid_ < 0) {
    ADD_FAILURE() << "lifeboat watch did not come up; its log:\n" << this->log();
    if (pid_ > 0) {
      stop(SIGKILL);
    }
    pid_ = -1;
  }
}

WatchAgent::~WatchAgent() {
  if (pid_ > 0) {
    stop(SIGTERM);
  }
}

json::object WatchAgent::status() const {
  test_support::ProcessResult result =
      socket_.empty()
          ? test_support::runLifeboat(
                {"status", "--output", "json", "--config", configPath().string()})
          : test_support::runLifeboat({"status", "--output", "json", "--socket", socket_});
  if (result.exitCode != 0) {
    return {};
  }
  boost::system::error_code code;
  json::value value = json::parse(result.out, code);
  if (code || !value.is_object()) {
    return {};
  }
  return value.get_object();
}

std::string WatchAgent::phase(const std::string& service) const {
  const json::object answer = status();
  const json::value* services = answer.if_contains("services");
  if (services == nullptr) {
    return "";
  }
  for (const json::value& entry : services->get_array()) {
    const json::object& object = entry.get_object();
    if (object.at("service").get_string() == service) {
      return std::string(object.at("phase").get_string());
    }
  }
  return "";
}

std::vector<Event> WatchAgent::events() const {
  Result<journal::JournalContents> contents =
      journal::readJournal(statePath() / "watch" / "events.jsonl");
  if (!contents) {
    return {};
  }
  return std::move(contents->events);
}

std::vector<Event> WatchAgent::events(std::string_view type) const {
  std::vector<Event> selected;
  for (Event& event : events()) {
    if (event.type == type) {
      selected.push_back(std::move(event));
    }
  }
  return selected;
}

std::optional<Event> WatchAgent::waitForEvent(
    std::string_view type, milliseconds timeout,
    const std::function<bool(const Event&)>& accept) const {
  std::optional<Event> found;
  eventually(
      [&] {
        for (Event& event : events(type)) {
          if (accept(event)) {
            found = std::move(event);
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::string WatchAgent::log() const {
  std::ifstream in(directory_ / "daemon.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WatchAgent::signal(int number) const {
  if (pid_ > 0) {
    ::kill(pid_, number);
  }
}

int WatchAgent::stop(int number, milliseconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, number);
  int status = 0;
  const bool exited =
      eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}

std::vector<Event> runEvents(const fs::path& stateDirectory, const std::string& runId) {
  Result<journal::JournalContents> contents =
      journal::readJournal(stateDirectory / runId / journal::kJournalFileName);
  if (!contents) {
    return {};
  }
  return std::move(contents->events);
}

}  // namespace lifeboat::daemon::fixtures
