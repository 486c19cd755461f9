#pragma once
// Tuning of outage detection that is not part of a runbook's [[trigger]]:
// flap damping and the anomaly signal (docs/watch.md sections 4 and 5). The
// defaults are what `lifeboat watch` uses when the agent config says nothing.

#include <chrono>
#include <optional>

#include "lifeboat/common/result.hpp"

namespace lifeboat::watch {

struct DetectorOptions {
  // Flap damping: a trigger is flapping once `flapLimit` flips (a check whose
  // verdict differs from the previous check's) fall within `flapWindow`. It
  // stops flapping when no flip has happened for `flapStable`. While it
  // flaps, no new outage is declared.
  std::chrono::milliseconds flapWindow{5 * 60'000};
  int flapLimit = 6;
  std::chrono::milliseconds flapStable{5 * 60'000};

  // Anomaly signal. `ewmaAlpha` weighs the newest check in the fast latency
  // EWMA and in the error-rate EWMA; `baselineAlpha` (smaller: slower) in the
  // latency baseline.
  double ewmaAlpha = 0.3;
  double baselineAlpha = 0.05;
  // Healthy checks the baseline must have seen before latency can be anomalous.
  int warmupChecks = 5;
  // Latency is anomalous when fast > latencyFactor x baseline and
  // fast - baseline >= latencyMinIncrease; normal again when
  // fast <= latencyClearFactor x baseline or fast - baseline < latencyMinIncrease.
  double latencyFactor = 3.0;
  double latencyClearFactor = 1.5;
  std::chrono::milliseconds latencyMinIncrease{20};
  // The error rate is anomalous when its EWMA exceeds errorRateHigh; normal
  // again when it falls below errorRateLow.
  double errorRateHigh = 0.5;
  double errorRateLow = 0.2;
};

// Why `options` cannot be used (naming the option as the agent config would:
// snake_case), or nothing when every value is in range.
std::optional<Error> checkDetectorOptions(const DetectorOptions& options);

}  // namespace lifeboat::watch
