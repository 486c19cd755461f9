#include "haproxy_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::test_servers {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

// Waits up to `timeout` for `pid` to exit; true when it did (and was reaped).
bool reapWithin(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

HaproxyServer::HaproxyServer(const fs::path& directory, HaproxyConfig config)
    : directory_(directory),
      config_(std::move(config)),
      socket_(directory / "haproxy.sock"),
      log_(directory / "haproxy.log") {
  if (::access(kHaproxy, X_OK) != 0) {
    ADD_FAILURE() << kHaproxy << " is missing: apt-get install haproxy (2.6)";
    return;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start(attempt)) {
      return;
    }
  }
  ADD_FAILURE() << "HAProxy did not start; its log (" << log_ << "):\n"
                << test_support::fileTail(log_);
}

bool HaproxyServer::start(int attempt) {
  const int count = static_cast<int>(config_.backends.size());
  const int first = count > 0 ? test_support::freePorts(count) : 0;
  frontendPorts_.clear();
  std::ostringstream cfg;
  cfg << "global\n"
      << "  stats socket " << socket_.string() << " mode 600 level admin\n"
      << "  pidfile " << (directory_ / "haproxy.pid").string() << "\n"
      << "defaults\n"
      << "  mode tcp\n"
      << "  timeout connect 500ms\n"
      << "  timeout client 30s\n"
      << "  timeout server 30s\n"
      << "  timeout check 500ms\n";
  for (int index = 0; index < count; ++index) {
    const HaproxyBackendSpec& backend = config_.backends[static_cast<std::size_t>(index)];
    frontendPorts_[backend.name] = first + index;
    cfg << "frontend fe_" << backend.name << "\n"
        << "  bind 127.0.0.1:" << first + index << "\n"
        << "  default_backend " << backend.name << "\n"
        << "backend " << backend.name << "\n";
    for (const HaproxyServerSpec& server : backend.servers) {
      cfg << "  server " << server.name << " " << server.address << ":" << server.port;
      if (server.check) {
        cfg << " check inter " << server.checkIntervalMs << "ms fall " << server.fall << " rise "
            << server.rise << " on-marked-down shutdown-sessions";
      }
      if (!server.ready) {
        cfg << " disabled";
      }
      cfg << "\n";
    }
  }
  const fs::path configPath = directory_ / "haproxy.cfg";
  std::ofstream(configPath) << cfg.str();
  fs::remove(socket_);

  log_ = directory_ / ("haproxy-" + std::to_string(attempt) + ".log");
  const int logFd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t started = test_support::startBackground({kHaproxy, "-db", "-f", configPath.string()},
                                                      {test_support::kDevNull, logFd, logFd});
  ::close(logFd);
  if (started <= 0) {
    ADD_FAILURE() << "cannot start " << kHaproxy << ": " << std::strerror(-started);
    return true;  // no point in retrying
  }
  pid_ = started;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: a port taken meanwhile, or a bad configuration
      return false;
    }
    if (runtime("show info").find("Name: HAProxy") != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return false;
}

HaproxyServer::~HaproxyServer() {
  stop();
}

int HaproxyServer::frontendPort(const std::string& backend) const {
  const auto found = frontendPorts_.find(backend);
  return found == frontendPorts_.end() ? 0 : found->second;
}

int HaproxyServer::frontendPort() const {
  return config_.backends.empty() ? 0 : frontendPort(config_.backends.front().name);
}

std::string HaproxyServer::runtime(const std::string& command) const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return "";
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_.c_str(), sizeof(address.sun_path) - 1);
  std::string reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string line = command + "\n";
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
      char buffer[8192];
      pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
      while (::poll(&entry, 1, 2000) > 0) {
        const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
        if (count <= 0) {
          break;
        }
        reply.append(buffer, static_cast<std::size_t>(count));
      }
    }
  }
  ::close(fd);
  return reply;
}

void HaproxyServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!reapWithin(pid_, std::chrono::seconds(2))) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
}

}  // namespace lifeboat::test_servers
