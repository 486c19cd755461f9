#pragma once
// A fake probe for the watch tests: feeds checks to a TriggerState on a
// regular schedule of a fake clock, and helpers to look at the events.

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/watch/trigger_state.hpp"

namespace lifeboat::watch::testing {

using namespace std::chrono_literals;

// 2026-01-01T00:00:00.000Z, and an arbitrary steady origin.
inline const Timestamp kWallOrigin{std::chrono::milliseconds{1'767'225'600'000}};
inline const Clock::time_point kSteadyOrigin = Clock::time_point{} + 1000h;

class Feed {
 public:
  Feed(TriggerState& state, std::chrono::milliseconds interval)
      : state_(state), interval_(interval) {}

  // Records check number next() at its scheduled time.
  std::vector<TriggerEvent> check(bool healthy, std::chrono::milliseconds latency = 10ms,
                                  std::string detail = {}) {
    CheckResult result;
    result.at = atOf(index_);
    result.wallAt = wallOf(index_);
    result.healthy = healthy;
    result.latency = latency;
    result.detail = detail.empty() ? (healthy ? "HTTP 200" : "connection refused") : detail;
    ++index_;
    return state_.record(result);
  }
  std::vector<TriggerEvent> good(std::chrono::milliseconds latency = 10ms) {
    return check(true, latency);
  }
  std::vector<TriggerEvent> bad() { return check(false, 5ms); }

  // Feeds `count` checks of one verdict; returns all their events.
  std::vector<TriggerEvent> run(int count, bool healthy) {
    std::vector<TriggerEvent> all;
    for (int i = 0; i < count; ++i) {
      auto events = check(healthy);
      all.insert(all.end(), events.begin(), events.end());
    }
    return all;
  }

  // The index of the next check, and the schedule.
  int next() const { return index_; }
  Clock::time_point atOf(int index) const { return kSteadyOrigin + index * interval_; }
  Timestamp wallOf(int index) const { return kWallOrigin + index * interval_; }
  // The time of the latest check.
  Clock::time_point now() const { return atOf(index_ - 1); }
  // Moves the schedule so that the next check happens at `at` (not earlier).
  void skipTo(Clock::time_point at) {
    while (atOf(index_) < at) {
      ++index_;
    }
  }

 private:
  TriggerState& state_;
  std::chrono::milliseconds interval_;
  int index_ = 0;
};

inline int count(const std::vector<TriggerEvent>& events, TriggerEvent::Kind kind) {
  return static_cast<int>(std::count_if(events.begin(), events.end(),
                                        [&](const TriggerEvent& e) { return e.kind == kind; }));
}

inline const TriggerEvent* find(const std::vector<TriggerEvent>& events, TriggerEvent::Kind kind) {
  auto it = std::find_if(events.begin(), events.end(),
                         [&](const TriggerEvent& e) { return e.kind == kind; });
  return it == events.end() ? nullptr : &*it;
}

inline runbook::Trigger httpTrigger(int failures, int recoveries,
                                    std::chrono::milliseconds cooldown = 10min) {
  runbook::Trigger trigger;
  trigger.kind = runbook::TriggerKind::http;
  trigger.url = "http://127.0.0.1:8080/health";
  trigger.interval = 10s;
  trigger.timeout = 5s;
  trigger.failures = failures;
  trigger.recoveries = recoveries;
  trigger.cooldown = cooldown;
  return trigger;
}

inline TriggerState makeState(const runbook::Trigger& trigger,
                              const DetectorOptions& options = {}) {
  auto state = TriggerState::create(trigger, options);
  if (!state.ok()) {
    throw std::runtime_error("TriggerState::create: " + state.error().message);
  }
  return std::move(state).value();
}

}  // namespace lifeboat::watch::testing
