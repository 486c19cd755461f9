#include "lifeboat/watch/flap_detector.hpp"

#include <algorithm>

namespace lifeboat::watch {

FlapDetector::FlapDetector(std::chrono::milliseconds window, int limit,
                           std::chrono::milliseconds stable)
    : window_(window), limit_(std::max(limit, 1)), stable_(stable) {}

FlapDetector::Change FlapDetector::observe(Clock::time_point now, bool healthy) {
  if (lastHealthy_.has_value() && *lastHealthy_ != healthy) {
    flips_.push_back(now);
    if (static_cast<int>(flips_.size()) > limit_) {
      flips_.pop_front();
    }
  }
  lastHealthy_ = healthy;

  if (!flapping_) {
    if (flipsInWindow(now) >= limit_) {
      flapping_ = true;
      return Change::started;
    }
    return Change::none;
  }
  if (!flips_.empty() && now - flips_.back() >= stable_) {
    flapping_ = false;
    return Change::stopped;
  }
  return Change::none;
}

int FlapDetector::flipsInWindow(Clock::time_point now) const {
  return static_cast<int>(std::count_if(
      flips_.begin(), flips_.end(), [&](Clock::time_point flip) { return now - flip < window_; }));
}

std::optional<FlapDetector::Clock::time_point> FlapDetector::stableAt() const {
  if (!flapping_ || flips_.empty()) {
    return std::nullopt;
  }
  return flips_.back() + stable_;
}

}  // namespace lifeboat::watch
