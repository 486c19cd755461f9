#pragma once
// A run's clock: wall time read once at the start, then advanced by the
// steady clock, so that durations computed from event timestamps (RTO) are
// immune to the wall clock being stepped during a run (NTP, an operator).

#include <chrono>

#include "lifeboat/common/event.hpp"

namespace lifeboat::engine {

class RunClock {
 public:
  RunClock()
      : wallAtStart_(
            std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now())),
        steadyAtStart_(std::chrono::steady_clock::now()) {}

  Timestamp now() const {
    return wallAtStart_ + std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - steadyAtStart_);
  }

 private:
  Timestamp wallAtStart_;
  std::chrono::steady_clock::time_point steadyAtStart_;
};

}  // namespace lifeboat::engine
