#include "lifeboat/process/cancel_signal.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace lifeboat::process {
namespace {
constexpr std::int64_t kFallbackPollMs = 50;
}  // namespace

// Without an eventfd (out of descriptors) the signal still works: fd() is -1,
// which poll(2) ignores, and waiters wake every kFallbackPoll to look.
CancelSignal::CancelSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void CancelSignal::trigger() noexcept {
  if (triggered_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  // The counter is never read back, so it stays readable for every poller.
  const std::uint64_t one = 1;
  if (fd_.valid()) {
    [[maybe_unused]] const ssize_t written = ::write(fd_.get(), &one, sizeof one);
  }
}

bool CancelSignal::waitFor(std::chrono::milliseconds duration) const {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + duration;
  while (!triggered()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd descriptor{fd_.get(), POLLIN, 0};
    const int timeout = static_cast<int>(
        std::min<std::int64_t>(left.count(), fd_.valid() ? 60'000 : kFallbackPollMs));
    if (::poll(&descriptor, 1, timeout) < 0 && errno != EINTR) {
      return triggered();
    }
  }
  return true;
}

}  // namespace lifeboat::process
