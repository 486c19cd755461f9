#include "lifeboat/watch/failover_budget.hpp"

#include <algorithm>
#include <string>

namespace lifeboat::watch {

Result<FailoverBudget> FailoverBudget::create(const FailoverBudgetOptions& options) {
  if (options.maxFailovers < 1) {
    return Error{"failover budget: max_failovers is " + std::to_string(options.maxFailovers) +
                     "; it must be at least 1",
                 "to stop automatic failovers altogether, set `automatic = false` in the "
                 "runbook's [policy]"};
  }
  if (options.window.count() <= 0) {
    return Error{"failover budget: the window must be longer than 0",
                 "it is the sliding window in which automatic failovers are counted"};
  }
  return FailoverBudget(options);
}

int FailoverBudget::used(Clock::time_point now) const {
  return static_cast<int>(
      std::count_if(failovers_.begin(), failovers_.end(),
                    [&](Clock::time_point r) { return now - r < options_.window; }));
}

bool FailoverBudget::allowed(Clock::time_point now) const {
  return used(now) < options_.maxFailovers;
}

void FailoverBudget::record(Clock::time_point now) {
  while (!failovers_.empty() && now - failovers_.front() >= options_.window) {
    failovers_.pop_front();
  }
  failovers_.push_back(now);
}

FailoverBudget::Clock::time_point FailoverBudget::nextAllowedAt(Clock::time_point now) const {
  // Counting failovers in time order, allowed() first holds once all but
  // maxFailovers - 1 of those counting now have left the window.
  std::deque<Clock::time_point> counting;
  for (Clock::time_point r : failovers_) {
    if (now - r < options_.window) {
      counting.push_back(r);
    }
  }
  const int excess = static_cast<int>(counting.size()) - options_.maxFailovers;
  if (excess < 0) {
    return now;
  }
  return counting[static_cast<std::size_t>(excess)] + options_.window;
}

}  // namespace lifeboat::watch
