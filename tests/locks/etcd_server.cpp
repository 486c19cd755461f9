#include "etcd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "lifeboat/http/client.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::locks::fixtures {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Whether `port` on 127.0.0.1 can be bound right now (nobody listens on it).
bool portFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return bound;
}

// Two free ports in [20000, 32000): below the kernel's outgoing range.
std::pair<int, int> freePorts() {
  static std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> pick(10'000, 15'999);
  for (;;) {
    const int client = 2 * pick(random);  // even: client, odd: peer
    if (portFree(client) && portFree(client + 1)) {
      return {client, client + 1};
    }
  }
}

}  // namespace

EtcdServer::EtcdServer(const fs::path& directory) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start(directory, attempt)) {
      return;
    }
  }
  ADD_FAILURE() << "etcd did not start; its log (" << log_ << "):\n"
                << test_support::fileTail(log_, 2000);
}

bool EtcdServer::start(const fs::path& directory, int attempt) {
  const auto [clientPort, peerPort] = freePorts();
  endpoint_ = "http://127.0.0.1:" + std::to_string(clientPort);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peerPort);
  const fs::path data = directory / ("etcd-data-" + std::to_string(attempt));
  log_ = directory / ("etcd-" + std::to_string(attempt) + ".log");
  std::vector<std::string> argv{"/usr/bin/etcd",
                                "--name=t",
                                "--data-dir=" + data.string(),
                                "--listen-client-urls=" + endpoint_,
                                "--advertise-client-urls=" + endpoint_,
                                "--listen-peer-urls=" + peer,
                                "--initial-advertise-peer-urls=" + peer,
                                "--initial-cluster=t=" + peer,
                                "--log-level=warn"};
  const int logFd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t started = test_support::startBackground(argv, {test_support::kDevNull, logFd, logFd});
  ::close(logFd);
  const int spawned = started > 0 ? 0 : -started;
  pid_ = started > 0 ? started : -1;
  if (spawned != 0) {
    pid_ = -1;
    ADD_FAILURE() << "cannot start /usr/bin/etcd: " << std::strerror(spawned)
                  << " (apt-get install etcd-server)";
    return true;  // no point in retrying
  }

  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: most likely a port taken meanwhile
      return false;
    }
    http::Request health;
    health.url = endpoint_ + "/health";
    health.timeout = std::chrono::milliseconds(500);
    const http::Outcome outcome = http::perform(health);
    if (outcome.result.ok() && outcome.result->status == 200 &&
        outcome.result->body.find("true") != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return false;
}

EtcdServer::~EtcdServer() {
  stop();
}

void EtcdServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

}  // namespace lifeboat::locks::fixtures
