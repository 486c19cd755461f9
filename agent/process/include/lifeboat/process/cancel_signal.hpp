#pragma once
// A one-way "stop now" flag that threads can both test and wait on.
//
// The engine owns one per run phase and triggers it on Ctrl-C, SIGTERM,
// `lifeboat cancel` or the run timeout; the process runner polls its file
// descriptor next to a child's pipes, and steps sleep on it between retries
// and checks, so a cancel reaches every waiting place at once.
//
// Thread-safety: every member may be called from any thread at any time.
// Once triggered it stays triggered.

#include <atomic>
#include <chrono>

#include "lifeboat/common/unique_fd.hpp"

namespace lifeboat::process {

class CancelSignal {
 public:
  CancelSignal();
  CancelSignal(const CancelSignal&) = delete;
  CancelSignal& operator=(const CancelSignal&) = delete;

  void trigger() noexcept;
  bool triggered() const noexcept { return triggered_.load(std::memory_order_acquire); }

  // Readable (POLLIN) from the moment the signal is triggered; -1 (which
  // poll(2) ignores) if no eventfd could be made, so pollers must also look at
  // triggered() when they wake.
  int fd() const noexcept { return fd_.get(); }

  // Sleeps for `duration` unless triggered first. True when triggered.
  bool waitFor(std::chrono::milliseconds duration) const;

 private:
  UniqueFd fd_;
  std::atomic<bool> triggered_{false};
};

}  // namespace lifeboat::process
