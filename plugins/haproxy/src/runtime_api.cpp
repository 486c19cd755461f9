#include "runtime_api.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/unique_fd.hpp"

namespace lifeboat::haproxy_plugin {
namespace {

using Clock = std::chrono::steady_clock;

// Largest reply read; `show servers state` of a large backend stays far below.
constexpr std::size_t kMaxReplyBytes = 4 * 1024 * 1024;

std::string socketHint(const std::string& path) {
  return "HAProxy must run with 'stats socket " + path +
         " mode 600 level admin' in the global section of haproxy.cfg, and this "
         "plugin must run as a user allowed to open that socket";
}

// Waits until `fd` is ready for `events` or the deadline passes. 0 when
// ready, ETIMEDOUT, or an errno.
int waitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return ETIMEDOUT;
    }
    pollfd entry{.fd = fd, .events = events, .revents = 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) {
      return 0;
    }
    if (ready < 0 && errno != EINTR) {
      return errno;
    }
  }
}

}  // namespace

RuntimeApi::RuntimeApi(std::string socketPath, std::chrono::milliseconds timeout)
    : socketPath_(std::move(socketPath)), timeout_(timeout) {}

Result<std::string> RuntimeApi::send(std::string_view command) const {
  const std::string where = "HAProxy runtime API socket " + socketPath_;
  const auto deadline = Clock::now() + timeout_;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socketPath_.empty() || socketPath_.size() >= sizeof(address.sun_path)) {
    return Error{where + " is not a usable unix socket path (empty or longer than " +
                     std::to_string(sizeof(address.sun_path) - 1) + " bytes)",
                 "set the target's 'socket' to the path of HAProxy's stats socket"};
  }
  std::memcpy(address.sun_path, socketPath_.data(), socketPath_.size());

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return Error{"cannot create a unix socket for " + where + ": " + std::strerror(errno), ""};
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    if (error == EINPROGRESS || error == EAGAIN) {
      // A full listen backlog: HAProxy is busy; wait for it within the deadline.
      if (const int waited = waitFor(fd.get(), POLLOUT, deadline); waited != 0) {
        return Error{"cannot connect to " + where + ": " +
                         (waited == ETIMEDOUT ? "no answer within " + formatDuration(timeout_)
                                              : std::string(std::strerror(waited))),
                     "HAProxy may be overloaded or stopped; check that it runs"};
      }
      int pending = 0;
      socklen_t length = sizeof(pending);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &pending, &length);
      if (pending != 0) {
        return Error{"cannot connect to " + where + ": " + std::strerror(pending),
                     socketHint(socketPath_)};
      }
    } else if (error == ENOENT) {
      return Error{where + " does not exist", socketHint(socketPath_)};
    } else if (error == ECONNREFUSED) {
      return Error{"nobody listens on " + where + " (connection refused)",
                   "HAProxy is not running, or was restarted with another stats socket; " +
                       socketHint(socketPath_)};
    } else if (error == EACCES || error == EPERM) {
      return Error{"no permission to connect to " + where + ": " + std::strerror(error),
                   socketHint(socketPath_)};
    } else {
      return Error{"cannot connect to " + where + ": " + std::strerror(error),
                   socketHint(socketPath_)};
    }
  }

  std::string request(command);
  request += '\n';
  std::string_view unsent = request;
  while (!unsent.empty()) {
    const ssize_t written = ::send(fd.get(), unsent.data(), unsent.size(), MSG_NOSIGNAL);
    if (written >= 0) {
      unsent.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (const int waited = waitFor(fd.get(), POLLOUT, deadline); waited != 0) {
        return Error{"cannot send a command to " + where + ": " +
                         (waited == ETIMEDOUT ? "timed out after " + formatDuration(timeout_)
                                              : std::string(std::strerror(waited))),
                     "HAProxy may be overloaded; raise the target's 'timeout'"};
      }
      continue;
    }
    return Error{"cannot send a command to " + where + ": " + std::strerror(errno),
                 socketHint(socketPath_)};
  }

  std::string reply;
  char buffer[16384];
  for (;;) {
    const ssize_t count = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (count == 0) {
      return reply;
    }
    if (count > 0) {
      reply.append(buffer, static_cast<std::size_t>(count));
      if (reply.size() > kMaxReplyBytes) {
        return Error{"the reply of " + where + " is larger than " + std::to_string(kMaxReplyBytes) +
                         " bytes",
                     "check that the socket is HAProxy's stats socket"};
      }
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (const int waited = waitFor(fd.get(), POLLIN, deadline); waited != 0) {
        return Error{"no complete answer from " + where + " within " + formatDuration(timeout_),
                     "HAProxy may be overloaded; raise the target's 'timeout' (now " +
                         formatDuration(timeout_) + ")"};
      }
      continue;
    }
    return Error{"cannot read the reply of " + where + ": " + std::strerror(errno), ""};
  }
}

}  // namespace lifeboat::haproxy_plugin
