#include "lifeboat/watch/trigger_state.hpp"

#include <algorithm>
#include <utility>

namespace lifeboat::watch {
namespace {

constexpr int kMaxThreshold = 1000;  // docs/runbook-reference.md section 8

std::string seconds(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::string lastDetail(const CheckResult& result) {
  return result.detail.empty() ? std::string() : " (last: " + result.detail + ")";
}

}  // namespace

std::string_view toString(TriggerEvent::Kind kind) {
  switch (kind) {
    case TriggerEvent::Kind::outageDeclared:
      return "outage_declared";
    case TriggerEvent::Kind::suppressed:
      return "suppressed";
    case TriggerEvent::Kind::recovered:
      return "recovered";
    case TriggerEvent::Kind::anomaly:
      return "anomaly";
    case TriggerEvent::Kind::anomalyCleared:
      return "anomaly_cleared";
    case TriggerEvent::Kind::flappingStarted:
      return "flapping_started";
    case TriggerEvent::Kind::flappingStopped:
      return "flapping_stopped";
  }
  return "unknown";
}

std::string_view toString(Health health) {
  switch (health) {
    case Health::unknown:
      return "unknown";
    case Health::healthy:
      return "healthy";
    case Health::failing:
      return "failing";
    case Health::outage:
      return "outage";
    case Health::recovering:
      return "recovering";
  }
  return "unknown";
}

std::string_view toString(Hold hold) {
  switch (hold) {
    case Hold::none:
      return "none";
    case Hold::failoverInProgress:
      return "failover_in_progress";
    case Hold::cooldown:
      return "cooldown";
    case Hold::flapping:
      return "flapping";
  }
  return "none";
}

Result<TriggerState> TriggerState::create(const runbook::Trigger& trigger,
                                          const DetectorOptions& options) {
  if (auto error = checkDetectorOptions(options)) {
    return std::move(*error);
  }
  int failures = trigger.failures;
  int recoveries = trigger.recoveries;
  if (trigger.kind == runbook::TriggerKind::alertmanager) {
    // Alertmanager has done its own thresholding (`for:` in the alert rule):
    // a firing alert is the outage, a resolved one its end.
    failures = 1;
    recoveries = 1;
  }
  const std::string where = "trigger at line " + std::to_string(trigger.where.line);
  if (failures < 1 || failures > kMaxThreshold) {
    return Error{where + ": failures is " + std::to_string(failures) + "; it must lie in 1..1000",
                 "check the runbook with `lifeboat validate`"};
  }
  if (recoveries < 1 || recoveries > kMaxThreshold) {
    return Error{
        where + ": recoveries is " + std::to_string(recoveries) + "; it must lie in 1..1000",
        "check the runbook with `lifeboat validate`"};
  }
  if (trigger.cooldown.count() < 0) {
    return Error{where + ": cooldown is negative", "check the runbook with `lifeboat validate`"};
  }
  return TriggerState(failures, recoveries, trigger.cooldown, options);
}

TriggerState::TriggerState(int failures, int recoveries, std::chrono::milliseconds cooldown,
                           const DetectorOptions& options)
    : failures_(failures),
      recoveries_(recoveries),
      cooldown_(cooldown),
      flap_(options.flapWindow, options.flapLimit, options.flapStable),
      anomaly_(options) {}

Hold TriggerState::holdAt(Clock::time_point now) const {
  if (failoverInProgress_) {
    return Hold::failoverInProgress;
  }
  if (cooldownUntil_.has_value() && now < *cooldownUntil_) {
    return Hold::cooldown;
  }
  if (flap_.flapping()) {
    return Hold::flapping;
  }
  return Hold::none;
}

TriggerEvent TriggerState::makeEvent(TriggerEvent::Kind kind, const CheckResult& result,
                                     Clock::time_point at) const {
  TriggerEvent event;
  event.kind = kind;
  event.at = at;
  event.wallAt = result.wallAt;
  event.consecutiveFailures = consecutiveFailures_;
  return event;
}

void TriggerState::declareOrHold(const CheckResult& result, Clock::time_point at,
                                 std::vector<TriggerEvent>& events) {
  const bool again = declared_;  // only a handled outage is declared again
  const Timestamp start = again ? outageStart_ : streakStart_;
  const Hold hold = holdAt(at);
  const std::string failed = std::to_string(consecutiveFailures_) + " consecutive failed checks";
  if (hold == Hold::none) {
    TriggerEvent event = makeEvent(TriggerEvent::Kind::outageDeclared, result, at);
    event.outageStart = start;
    event.afterFailover = handled_;
    event.reason = handled_ ? "outage goes on after the failover: " + failed + lastDetail(result)
                            : "outage: " + failed + lastDetail(result);
    events.push_back(std::move(event));
    declared_ = true;
    outageStart_ = start;
    handled_ = false;
    reportedHold_ = Hold::none;
    health_ = Health::outage;
    return;
  }
  if (hold == reportedHold_) {
    return;
  }
  reportedHold_ = hold;
  TriggerEvent event = makeEvent(TriggerEvent::Kind::suppressed, result, at);
  event.outageStart = start;
  event.hold = hold;
  std::string why;
  switch (hold) {
    case Hold::failoverInProgress:
      why = "a failover is in progress";
      break;
    case Hold::cooldown:
      event.heldUntil = cooldownUntil_;
      why = "cooldown after the last failover (" + seconds(cooldown_) + ")";
      break;
    case Hold::flapping:
      event.heldUntil = flap_.stableAt();
      why = "the check is flapping";
      break;
    case Hold::none:
      break;
  }
  event.reason = failed + " but no outage declared: " + why;
  events.push_back(std::move(event));
}

std::vector<TriggerEvent> TriggerState::record(const CheckResult& result) {
  std::vector<TriggerEvent> events;
  const Clock::time_point at = checks_ == 0 ? result.at : std::max(result.at, now_);
  now_ = at;
  ++checks_;

  switch (flap_.observe(at, result.healthy)) {
    case FlapDetector::Change::started: {
      TriggerEvent event = makeEvent(TriggerEvent::Kind::flappingStarted, result, at);
      event.reason = std::to_string(flap_.flipsInWindow(at)) +
                     " changes between healthy and failed within the flap window";
      events.push_back(std::move(event));
      break;
    }
    case FlapDetector::Change::stopped: {
      TriggerEvent event = makeEvent(TriggerEvent::Kind::flappingStopped, result, at);
      event.reason = "the check kept its verdict for the whole stable period";
      events.push_back(std::move(event));
      break;
    }
    case FlapDetector::Change::none:
      break;
  }

  if (!result.healthy) {
    if (health_ == Health::unknown || health_ == Health::healthy) {
      failingSince_ = result.wallAt;
    }
    if (consecutiveFailures_ == 0) {
      streakStart_ = result.wallAt;
      reportedHold_ = Hold::none;
    }
    ++consecutiveFailures_;
    consecutiveSuccesses_ = 0;
    if (declared_) {
      health_ = Health::outage;
      if (handled_ && consecutiveFailures_ >= failures_) {
        declareOrHold(result, at, events);
      }
    } else {
      health_ = Health::failing;
      if (consecutiveFailures_ >= failures_) {
        declareOrHold(result, at, events);
      }
    }
  } else {
    if (consecutiveSuccesses_ == 0) {
      recoveryStart_ = result.wallAt;
    }
    ++consecutiveSuccesses_;
    consecutiveFailures_ = 0;
    reportedHold_ = Hold::none;
    if (!declared_) {
      handled_ = false;  // the streak a failover was started for is over
    }
    if (health_ == Health::unknown || health_ == Health::healthy) {
      health_ = Health::healthy;
    } else if (consecutiveSuccesses_ >= recoveries_) {
      TriggerEvent event = makeEvent(TriggerEvent::Kind::recovered, result, at);
      event.declared = declared_;
      event.outageStart = declared_ ? outageStart_ : failingSince_;
      event.recoveryStart = recoveryStart_;
      event.reason = std::to_string(consecutiveSuccesses_) + " consecutive good checks" +
                     (declared_ ? ": outage over" : ": failing checks stopped, no outage declared");
      events.push_back(std::move(event));
      declared_ = false;
      handled_ = false;
      health_ = Health::healthy;
    } else {
      health_ = Health::recovering;
    }
  }

  const AnomalyDetector::Change change =
      anomaly_.observe(result.healthy, result.latency, /*mayStart=*/!declared_);
  if (change.kind != AnomalyDetector::Change::Kind::none) {
    TriggerEvent event = makeEvent(change.kind == AnomalyDetector::Change::Kind::started
                                       ? TriggerEvent::Kind::anomaly
                                       : TriggerEvent::Kind::anomalyCleared,
                                   result, at);
    event.latencyEwmaMs = anomaly_.latencyEwmaMs();
    event.latencyBaselineMs = anomaly_.latencyBaselineMs();
    event.errorRateEwma = anomaly_.errorRateEwma();
    event.reason = change.reason;
    events.push_back(std::move(event));
  }
  return events;
}

void TriggerState::failoverStarted(Clock::time_point at) {
  now_ = std::max(now_, at);
  failoverInProgress_ = true;
  if (declared_ || consecutiveFailures_ > 0) {
    handled_ = true;
  }
  const Clock::time_point until = at + cooldown_;
  cooldownUntil_ = cooldownUntil_.has_value() ? std::max(*cooldownUntil_, until) : until;
}

void TriggerState::failoverFinished(Clock::time_point at) {
  now_ = std::max(now_, at);
  failoverInProgress_ = false;
  const Clock::time_point until = at + cooldown_;
  cooldownUntil_ = cooldownUntil_.has_value() ? std::max(*cooldownUntil_, until) : until;
}

TriggerStatus TriggerState::status() const {
  TriggerStatus status;
  status.health = health_;
  status.outageDeclared = declared_;
  if (declared_) {
    status.outageStart = outageStart_;
  } else if (consecutiveFailures_ > 0) {
    status.outageStart = streakStart_;
  }
  status.consecutiveFailures = consecutiveFailures_;
  status.consecutiveSuccesses = consecutiveSuccesses_;
  status.flapping = flap_.flapping();
  status.flipsInWindow = flap_.flipsInWindow(now_);
  status.failoverInProgress = failoverInProgress_;
  status.cooldownUntil = cooldownUntil_;
  status.anomaly = anomaly_.active();
  status.latencyEwmaMs = anomaly_.latencyEwmaMs();
  status.latencyBaselineMs = anomaly_.latencyBaselineMs();
  status.errorRateEwma = anomaly_.errorRateEwma();
  status.checks = checks_;
  return status;
}

}  // namespace lifeboat::watch
