#include "lifeboat/daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "lifeboat/common/unique_fd.hpp"

namespace lifeboat::daemon {
namespace {

std::optional<long long> number(const char* text) {
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  long long value = 0;
  const char* end = text + std::strlen(text);
  auto [last, error] = std::from_chars(text, end, value);
  if (error != std::errc() || last != end) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

SystemdNotifier SystemdNotifier::fromEnvironment() {
  SystemdNotifier notifier;
  if (const char* socket = std::getenv("NOTIFY_SOCKET"); socket != nullptr) {
    notifier.socket_ = socket;
  }
  const std::optional<long long> usec = number(std::getenv("WATCHDOG_USEC"));
  const std::optional<long long> pid = number(std::getenv("WATCHDOG_PID"));
  if (usec && *usec > 0 && (!pid || *pid == ::getpid())) {
    notifier.watchdog_ = std::chrono::microseconds(*usec / 2);
  }
  return notifier;
}

Result<std::monostate> SystemdNotifier::notify(std::string_view state) const {
  if (socket_.empty()) {
    return std::monostate{};
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(address.sun_path) ||
      (socket_.front() != '/' && socket_.front() != '@')) {
    return Error{"NOTIFY_SOCKET " + socket_ + " is not a usable unix socket address",
                 "systemd sets it; unset it when not running under systemd"};
  }
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  if (socket_.front() == '@') {
    address.sun_path[0] = '\0';  // abstract namespace
  } else {
    ++length;  // the terminating NUL of a path
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error{std::string("cannot create the notification socket: ") + std::strerror(errno), ""};
  }
  const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
    return Error{"cannot notify systemd at " + socket_ + ": " + std::strerror(errno),
                 "is the service manager still running?"};
  }
  return std::monostate{};
}

}  // namespace lifeboat::daemon
