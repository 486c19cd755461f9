// retry and wait (runbook reference 9.7, 9.8).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {
namespace {

using Clock = std::chrono::steady_clock;

StepOutcome cancelledOutcome() {
  StepOutcome outcome;
  outcome.status = Status::cancelled;
  outcome.error = "the run was cancelled";
  return outcome;
}

// One attempt: a single try, or checks until one passes or `within` ends.
StepOutcome runAttempt(const AttemptPolicy& policy, const Services& services,
                       const std::function<StepOutcome(Milliseconds)>& once) {
  if (!policy.wait) {
    return once(policy.timeout);
  }
  const Clock::time_point end = Clock::now() + policy.wait->within;
  int checks = 0;
  std::string previousError;
  while (true) {
    const Clock::time_point checkStarted = Clock::now();
    const auto left = std::chrono::duration_cast<Milliseconds>(end - checkStarted);
    const Milliseconds budget = std::clamp(left, Milliseconds(1), policy.timeout);
    StepOutcome outcome = once(budget);
    ++checks;
    if (outcome.status == Status::ok || outcome.status == Status::cancelled) {
      return outcome;
    }
    // A check cut short by the end of `within` says less than the one before.
    if (outcome.status == Status::timedOut && budget < policy.timeout && !previousError.empty()) {
      outcome.error = previousError;
    }
    previousError = outcome.error;
    const Clock::time_point next = checkStarted + policy.wait->every;
    if (next >= end) {
      outcome.status = Status::failed;
      outcome.error = "not passed within " + formatDuration(policy.wait->within) + " (" +
                      std::to_string(checks) + (checks == 1 ? " check" : " checks") +
                      "); last: " + outcome.error;
      return outcome;
    }
    if (services.onOutput) {
      services.onOutput(kProgress,
                        "check " + std::to_string(checks) + " did not pass: " + outcome.error);
    }
    const auto pause = std::chrono::duration_cast<Milliseconds>(next - Clock::now());
    if (pause.count() > 0 && services.cancel->waitFor(pause)) {
      return cancelledOutcome();
    }
  }
}

}  // namespace

Milliseconds retryPause(const runbook::RetryPolicy& policy, int retry, std::mt19937_64& random) {
  double pause = static_cast<double>(policy.backoff.count());
  for (int i = 1; i < retry; ++i) {
    pause *= policy.multiplier;
    if (pause >= static_cast<double>(policy.maxBackoff.count())) {
      break;
    }
  }
  pause = std::min(pause, static_cast<double>(policy.maxBackoff.count()));
  if (policy.jitter && pause > 1.0) {
    std::uniform_real_distribution<double> spread(pause / 2, pause);
    pause = spread(random);
  }
  return Milliseconds(static_cast<std::int64_t>(std::llround(pause)));
}

StepOutcome runWithPolicy(const AttemptPolicy& policy, const Services& services,
                          std::mt19937_64& random, const std::function<std::string(int)>& onAttempt,
                          const std::function<StepOutcome(Milliseconds)>& once) {
  const int attempts = std::max(1, policy.retry.attempts);
  StepOutcome outcome;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (services.cancel->triggered()) {
      outcome = cancelledOutcome();
      outcome.attempts = attempt - 1;
      return outcome;
    }
    if (onAttempt) {
      if (std::string refusal = onAttempt(attempt); !refusal.empty()) {
        outcome = StepOutcome{};
        outcome.status = Status::failed;
        outcome.error = std::move(refusal);
        outcome.attempts = attempt - 1;
        return outcome;
      }
    }
    outcome = runAttempt(policy, services, once);
    outcome.attempts = attempt;
    if (outcome.status == Status::ok || outcome.status == Status::cancelled ||
        attempt == attempts) {
      return outcome;
    }
    const Milliseconds pause = retryPause(policy.retry, attempt, random);
    if (services.onOutput) {
      services.onOutput(kProgress, "attempt " + std::to_string(attempt) + " of " +
                                       std::to_string(attempts) + " " +
                                       std::string(statusName(outcome.status)) + ": " +
                                       outcome.error + "; retrying in " + formatDuration(pause));
    }
    if (services.cancel->waitFor(pause)) {
      StepOutcome cancelled = cancelledOutcome();
      cancelled.attempts = attempt;
      return cancelled;
    }
  }
  return outcome;
}

}  // namespace lifeboat::steps
