#pragma once
// Flap detection for one trigger (docs/watch.md section 4): counts flips (a
// check whose verdict differs from the previous one's) in a sliding window.
//
// Rule, evaluated at every observed check time `now`:
// - a flip at time f is in the window while now - f < window;
// - not flapping -> flapping when at least `limit` flips are in the window;
// - flapping -> not flapping when the last flip is at least `stable` old
//   (now - lastFlip >= stable).
// Memory is bounded: only the `limit` newest flips are kept, which is all the
// rule needs.
//
// Not thread-safe: one owner (the trigger's TriggerState) calls it.

#include <chrono>
#include <deque>
#include <optional>

namespace lifeboat::watch {

class FlapDetector {
 public:
  using Clock = std::chrono::steady_clock;

  // `limit` >= 2 and `window` > 0, `stable` >= 0 (checkDetectorOptions).
  FlapDetector(std::chrono::milliseconds window, int limit, std::chrono::milliseconds stable);

  enum class Change { none, started, stopped };

  // Records one check's verdict at `now` (not earlier than the previous call's
  // `now`) and says whether flapping started or stopped with it.
  Change observe(Clock::time_point now, bool healthy);

  bool flapping() const { return flapping_; }
  // Flips in the window ending at `now`, counted up to `limit`.
  int flipsInWindow(Clock::time_point now) const;
  // When flapping can stop at the earliest if no further flip happens;
  // nothing when not flapping.
  std::optional<Clock::time_point> stableAt() const;

 private:
  std::chrono::milliseconds window_;
  int limit_;
  std::chrono::milliseconds stable_;
  std::deque<Clock::time_point> flips_;  // newest at the back, at most limit_
  std::optional<bool> lastHealthy_;
  bool flapping_ = false;
};

}  // namespace lifeboat::watch
