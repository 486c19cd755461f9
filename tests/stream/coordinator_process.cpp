#include "coordinator_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::test_support {

namespace fs = std::filesystem;

fs::path coordinatorBinary() {
  return binaryDir() / "bin" / "lifeboat-coordinator";
}

CoordinatorProcess::CoordinatorProcess(const fs::path& directory,
                                       const std::vector<std::string>& agents,
                                       const std::string& extraConfig)
    : directory_(directory) {
  std::vector<std::string> certs{coordinatorBinary().string(), "certs", "init",
                                 (directory / "tls").string()};
  for (const std::string& agent : agents) {
    certs.push_back("--agent");
    certs.push_back(agent);
  }
  const ProcessResult made = runProcess(certs);
  EXPECT_EQ(made.exitCode, 0) << made.err;
  const int port = freePorts(2);
  agentsPort_ = port;
  std::ofstream(directory / "coordinator.toml")
      << "database = \"events.db\"\n\n[agents]\nlisten = \"127.0.0.1:" << port
      << "\"\ncert_file = \"tls/coordinator.pem\"\nkey_file = \"tls/coordinator-key.pem\"\n"
         "client_ca_file = \"tls/ca.pem\"\n\n[api]\nlisten = \"127.0.0.1:"
      << port + 1
      << "\"\ncert_file = \"tls/coordinator.pem\"\nkey_file = \"tls/coordinator-key.pem\"\n"
      << extraConfig;
}

CoordinatorProcess::~CoordinatorProcess() {
  stop();
}

void CoordinatorProcess::start() {
  const fs::path log = directory_ / "coordinator.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const std::size_t before = readText(log).size();
  pid_ = startBackground({coordinatorBinary().string(), "serve", "--config",
                          (directory_ / "coordinator.toml").string()},
                         ChildStreams{kDevNull, fd, fd});
  ::close(fd);
  ASSERT_GT(pid_, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (readText(log).find("listening:", before) == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << fileTail(log);
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "coordinator exited: " << fileTail(log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void CoordinatorProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

void CoordinatorProcess::crash() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string CoordinatorProcess::url() const {
  return "wss://127.0.0.1:" + std::to_string(agentsPort_) + "/v1/stream";
}

fs::path CoordinatorProcess::tls(const std::string& name) const {
  return directory_ / "tls" / name;
}

fs::path CoordinatorProcess::database() const {
  return directory_ / "events.db";
}

std::string CoordinatorProcess::log() const {
  return fileTail(directory_ / "coordinator.log");
}

std::vector<boost::json::object> CoordinatorProcess::storedEvents(const std::string& agent) const {
  std::vector<boost::json::object> events;
  auto store = store::Store::open(database(), store::Access::ReadOnly);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) {
    return events;
  }
  store::EventFilter filter;
  filter.agent = agent;
  filter.limit = 10'000;
  for (;;) {
    auto page = (*store)->events(filter);
    EXPECT_TRUE(page) << page.error().message;
    if (!page || page->empty()) {
      break;
    }
    for (const auto& value : *page) {
      events.push_back(value.as_object());
      filter.afterId = value.as_object().at("id").to_number<std::int64_t>();
    }
  }
  return events;
}

std::multiset<std::pair<std::string, std::uint64_t>> CoordinatorProcess::stored(
    const std::string& agent) const {
  std::multiset<std::pair<std::string, std::uint64_t>> events;
  for (const boost::json::object& event : storedEvents(agent)) {
    events.emplace(std::string(event.at("run").as_string()),
                   event.at("seq").to_number<std::uint64_t>());
  }
  return events;
}

}  // namespace lifeboat::test_support
