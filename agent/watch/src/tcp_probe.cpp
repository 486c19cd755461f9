// The tcp probe: a non-blocking connect to each address of host:port in
// turn, bounded by the trigger's timeout and the cancel signal.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "lifeboat/common/unique_fd.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch::probes {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often a wait that cannot poll the cancel signal's descriptor (name
// resolution) looks at it.
constexpr milliseconds kCancelPollInterval{50};

std::string errnoText(int error) {
  switch (error) {
    case ECONNREFUSED:
      return "connection refused";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ECONNRESET:
      return "connection reset";
    default:
      break;
  }
  const char* description = ::strerrordesc_np(error);  // thread-safe, unlike strerror
  std::string text = description != nullptr ? description : "error " + std::to_string(error);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

struct AddressListDeleter {
  void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};
using AddressList = std::unique_ptr<addrinfo, AddressListDeleter>;

// getaddrinfo() has no timeout of its own, so a name is resolved on a
// helper thread that the check waits for until its deadline. When the
// deadline passes first, the thread is left to finish on its own (bounded by
// the resolver's own timeouts) and frees what it got.
struct Resolution {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  int code = 0;
  int systemError = 0;  // errno of the resolver's thread, for EAI_SYSTEM
  AddressList addresses;
};

enum class Wait { finished, timedOut, cancelled };

Wait resolveName(const std::string& host, const std::string& port, SteadyClock::time_point deadline,
                 const ProbeContext& context, std::shared_ptr<Resolution>& out) {
  auto state = std::make_shared<Resolution>();
  std::thread([state, host, port] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    addrinfo* list = nullptr;
    const int code = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
    const int systemError = errno;
    std::lock_guard lock(state->mutex);
    state->code = code;
    state->systemError = systemError;
    state->addresses.reset(code == 0 ? list : nullptr);
    state->finished = true;
    state->done.notify_all();
  }).detach();
  std::unique_lock lock(state->mutex);
  while (!state->finished) {
    if (cancelled(context)) {
      return Wait::cancelled;
    }
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      return Wait::timedOut;
    }
    state->done.wait_for(lock,
                         std::min<SteadyClock::duration>(deadline - now, kCancelPollInterval));
  }
  out = std::move(state);
  return Wait::finished;
}

struct Attempt {
  bool connected = false;
  Wait wait = Wait::finished;
  int error = 0;  // when not connected and the wait finished
};

// One non-blocking connect, waited for with poll() next to the cancel signal.
Attempt connectTo(const addrinfo& address, SteadyClock::time_point deadline,
                  const ProbeContext& context) {
  Attempt attempt;
  UniqueFd socket(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           address.ai_protocol));
  if (!socket.valid()) {
    attempt.error = errno;
    return attempt;
  }
  if (::connect(socket.get(), address.ai_addr, address.ai_addrlen) == 0) {
    attempt.connected = true;
    return attempt;
  }
  if (errno != EINPROGRESS) {
    attempt.error = errno;
    return attempt;
  }
  for (;;) {
    if (cancelled(context)) {
      attempt.wait = Wait::cancelled;
      return attempt;
    }
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      attempt.wait = Wait::timedOut;
      return attempt;
    }
    // Rounded up so that the loop does not spin in the last millisecond.
    const auto left = std::chrono::ceil<milliseconds>(deadline - now);
    pollfd descriptors[2] = {{socket.get(), POLLOUT, 0},
                             {context.cancel != nullptr ? context.cancel->fd() : -1, POLLIN, 0}};
    const int ready = ::poll(descriptors, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      attempt.error = errno;
      return attempt;
    }
    if (ready > 0 && descriptors[0].revents != 0) {
      int error = 0;
      socklen_t length = sizeof error;
      if (::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
      attempt.connected = error == 0;
      attempt.error = error;
      return attempt;
    }
  }
}

// "[::1]" as written in URLs is accepted for "::1".
std::string bareHost(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

Verdict checkTcp(const runbook::Trigger& trigger, const ProbeContext& context) {
  const auto deadline = SteadyClock::now() + trigger.timeout;
  const std::string host = bareHost(trigger.host);
  if (host.empty()) {
    return {false, "the trigger has no host"};
  }
  if (trigger.port < 1 || trigger.port > 65535) {
    return {false, "port " + std::to_string(trigger.port) + " is not in 1..65535"};
  }
  const std::string port = std::to_string(trigger.port);

  // Addresses written as numbers need no resolver and cannot block.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* numeric = nullptr;
  int code = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &numeric);
  int systemError = errno;
  AddressList numericList(code == 0 ? numeric : nullptr);
  std::shared_ptr<Resolution> resolution;
  const addrinfo* addresses = numericList.get();
  if (code == EAI_NONAME) {
    switch (resolveName(host, port, deadline, context, resolution)) {
      case Wait::finished:
        break;
      case Wait::timedOut:
        return {false, timedOutDetail(trigger.timeout) + " resolving '" + host + "'"};
      case Wait::cancelled:
        return {false, "cancelled"};
    }
    code = resolution->code;
    systemError = resolution->systemError;
    addresses = resolution->addresses.get();
  }
  if (code != 0 || addresses == nullptr) {
    return {false,
            "cannot resolve '" + host + "': " +
                (code == EAI_SYSTEM ? errnoText(systemError) : std::string(::gai_strerror(code)))};
  }

  Attempt last;
  for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    last = connectTo(*address, deadline, context);
    if (last.connected) {
      return {true, "connected"};
    }
    if (last.wait != Wait::finished) {
      break;  // the deadline or the cancel applies to every address left
    }
  }
  switch (last.wait) {
    case Wait::timedOut:
      return {false, timedOutDetail(trigger.timeout)};
    case Wait::cancelled:
      return {false, "cancelled"};
    case Wait::finished:
      break;
  }
  return {false, errnoText(last.error)};
}

}  // namespace lifeboat::watch::probes
