#include "raw_client.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace lifeboat::listener::testing {
namespace {

std::string lowerCase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// The length of the complete response at the start of `data`, or 0.
std::size_t completeLength(const std::string& data, bool head) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos) {
    return 0;
  }
  const std::string header = data.substr(0, end + 4);
  const std::string length = headerOf(header, "content-length");
  const std::size_t body = length.empty() || head ? 0 : std::stoul(length);
  return data.size() >= end + 4 + body ? end + 4 + body : 0;
}

}  // namespace

RawClient RawClient::toPort(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return RawClient(-1);
  }
  return RawClient(fd);
}

RawClient RawClient::toSocket(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  std::memcpy(address.sun_path, text.data(), std::min(text.size(), sizeof(address.sun_path) - 1));
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return RawClient(-1);
  }
  return RawClient(fd);
}

RawClient::RawClient(RawClient&& other) noexcept
    : socket_(other.socket_), buffered_(std::move(other.buffered_)) {
  other.socket_ = -1;
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (socket_ >= 0) {
    ::close(socket_);
    socket_ = -1;
  }
}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty() && socket_ >= 0) {
    const ssize_t sent = ::send(socket_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return bytes.empty();
}

bool RawClient::readMore(std::chrono::steady_clock::time_point deadline) {
  if (socket_ < 0) {
    return false;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd ready{socket_, POLLIN, 0};
  if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  std::array<char, 16384> chunk{};
  const ssize_t got = ::recv(socket_, chunk.data(), chunk.size(), 0);
  if (got <= 0) {
    return false;
  }
  buffered_.append(chunk.data(), static_cast<std::size_t>(got));
  return true;
}

std::string RawClient::readResponse(std::chrono::milliseconds within, bool head) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (const std::size_t length = completeLength(buffered_, head); length > 0) {
      std::string response = buffered_.substr(0, length);
      buffered_.erase(0, length);
      return response;
    }
    if (!readMore(deadline)) {
      return {};
    }
  }
}

bool RawClient::closedWithin(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (socket_ >= 0 && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{socket_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) {
      return false;
    }
    std::array<char, 16384> chunk{};
    const ssize_t got = ::recv(socket_, chunk.data(), chunk.size(), 0);
    if (got == 0 || (got < 0 && errno == ECONNRESET)) {
      return true;
    }
  }
  return false;
}

int statusOf(const std::string& response) {
  // "HTTP/1.1 201 Created"
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) {
    return 0;
  }
  return std::atoi(response.c_str() + 9);
}

std::string headerOf(const std::string& response, std::string_view name) {
  const std::string wanted = lowerCase(name) + ":";
  std::size_t start = response.find("\r\n");
  const std::size_t end = response.find("\r\n\r\n");
  while (start != std::string::npos && start < end) {
    const std::size_t lineEnd = response.find("\r\n", start + 2);
    const std::string line = response.substr(start + 2, lineEnd - start - 2);
    if (lowerCase(line).rfind(wanted, 0) == 0) {
      std::string value = line.substr(wanted.size());
      value.erase(0, value.find_first_not_of(' '));
      return value;
    }
    start = lineEnd;
  }
  return {};
}

std::string bodyOf(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

}  // namespace lifeboat::listener::testing
