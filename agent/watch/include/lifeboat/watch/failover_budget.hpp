#pragma once
// FailoverBudget: at most `maxFailovers` automatic failovers of one service
// within a sliding `window` (docs/watch.md section 7), so that a service that
// keeps breaking, or a detector that keeps misjudging it, does not fail over
// back and forth. Like orchestrator's recovery block, but counted.
//
// Rule: a failover recorded at time r counts while now - r < window. An
// automatic failover is allowed at `now` when fewer than `maxFailovers` count.
// Every failover that starts is recorded, manual ones included (they change
// the service just as much); only automatic ones are gated. clear() is the
// human acknowledgement that lifts the block early.
//
// Pure: time is passed in (steady clock). Not thread-safe: one owner per
// service calls it.

#include <chrono>
#include <deque>

#include "lifeboat/common/result.hpp"

namespace lifeboat::watch {

struct FailoverBudgetOptions {
  int maxFailovers = 1;
  std::chrono::milliseconds window{60 * 60'000};
};

class FailoverBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // maxFailovers >= 1 and window > 0.
  static Result<FailoverBudget> create(const FailoverBudgetOptions& options = {});

  bool allowed(Clock::time_point now) const;
  // A failover started at `now` (calls come in time order).
  void record(Clock::time_point now);
  // Failovers that count at `now`.
  int used(Clock::time_point now) const;
  // The earliest time at or after `now` when allowed() holds, assuming no
  // further record().
  Clock::time_point nextAllowedAt(Clock::time_point now) const;
  void clear() { failovers_.clear(); }

  const FailoverBudgetOptions& options() const { return options_; }

 private:
  explicit FailoverBudget(const FailoverBudgetOptions& options) : options_(options) {}

  FailoverBudgetOptions options_;
  std::deque<Clock::time_point> failovers_;  // oldest first; pruned on record()
};

}  // namespace lifeboat::watch
