#include "greeter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace lifeboat::test_servers {

Greeter::Greeter(std::string name, const std::string& address) : name_(std::move(name)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in socketAddress{};
  socketAddress.sin_family = AF_INET;
  ::inet_pton(AF_INET, address.c_str(), &socketAddress.sin_addr);
  const int reuse = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&socketAddress), sizeof socketAddress) != 0 ||
      ::listen(listenFd_, 64) != 0) {
    ADD_FAILURE() << "greeter " << name_ << " cannot listen on " << address << ": "
                  << std::strerror(errno);
    return;
  }
  socklen_t length = sizeof socketAddress;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&socketAddress), &length);
  port_ = ntohs(socketAddress.sin_port);
  thread_ = std::thread([this] { serve(); });
}

Greeter::~Greeter() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  for (int fd : connections_) {
    ::close(fd);
  }
  ::close(listenFd_);
}

void Greeter::serve() {
  const std::string greeting = name_ + "\n";
  while (!stopping_) {
    pollfd entry{.fd = listenFd_, .events = POLLIN, .revents = 0};
    if (::poll(&entry, 1, 50) <= 0) {
      continue;
    }
    const int client = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    // A health check may have closed already; a failed send is fine.
    (void)::send(client, greeting.data(), greeting.size(), MSG_NOSIGNAL);
    connections_.push_back(client);
  }
}

HeldConnection::HeldConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::string received;
  while (received.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd entry{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&entry, 1, 100) <= 0) {
      continue;
    }
    char buffer[256];
    const ssize_t count = ::recv(fd_, buffer, sizeof buffer, 0);
    if (count <= 0) {
      break;
    }
    received.append(buffer, static_cast<std::size_t>(count));
  }
  greeting_ = received.substr(0, received.find('\n'));
  if (received.find('\n') == std::string::npos) {
    greeting_.clear();
  }
}

HeldConnection::~HeldConnection() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool HeldConnection::closedWithin(int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd entry{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&entry, 1, 50) > 0) {
      char buffer[256];
      const ssize_t count = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR)) {
        return true;
      }
    }
  }
  return false;
}

std::string greetingAt(int port) {
  HeldConnection connection(port);
  return connection.greeting();
}

}  // namespace lifeboat::test_servers
