#pragma once
// The anomaly signal of one trigger (docs/watch.md section 5): an early
// warning that a service is degrading, before enough consecutive checks fail
// to declare an outage.
//
// Per check, with a = ewmaAlpha and b = baselineAlpha:
//   errorRate <- a * (failed ? 1 : 0) + (1 - a) * errorRate       (starts at 0)
// and for a healthy check with latency L (milliseconds; failed checks leave
// latency alone: a refused connection is fast and a timeout is the timeout,
// neither says how fast the service answers):
//   first healthy check: fast = baseline = L
//   afterwards:          fast     <- a * L + (1 - a) * fast
//                        baseline <- b * L + (1 - b) * baseline
// Latency is judged at healthy checks only, after both updates. It is high
// when the baseline had seen at least warmupChecks healthy checks before this
// one, fast > latencyFactor * baseline and fast - baseline >=
// latencyMinIncrease. It is normal again when fast <= latencyClearFactor *
// baseline or fast - baseline < latencyMinIncrease. The error rate is high
// when errorRate > errorRateHigh and normal again when errorRate <
// errorRateLow.
//
// An episode starts when either is high (and the caller allows a start) and
// ends when both are normal: one `started` and one `cleared` per episode,
// whatever happens in between (hysteresis).
//
// Not thread-safe: one owner (the trigger's TriggerState) calls it.

#include <chrono>
#include <string>

#include "lifeboat/watch/detector_options.hpp"

namespace lifeboat::watch {

class AnomalyDetector {
 public:
  // `options` must pass checkDetectorOptions().
  explicit AnomalyDetector(const DetectorOptions& options);

  struct Change {
    enum class Kind { none, started, cleared } kind = Kind::none;
    std::string reason;  // for started: which signal, with its numbers
  };

  // Feeds one check. `mayStart` false keeps a new episode from starting (an
  // outage is already declared: the anomaly would say nothing new); an episode
  // already running still ends normally.
  Change observe(bool healthy, std::chrono::milliseconds latency, bool mayStart);

  bool active() const { return active_; }
  // Zero until the first healthy check.
  double latencyEwmaMs() const { return fast_; }
  double latencyBaselineMs() const { return baseline_; }
  double errorRateEwma() const { return errorRate_; }

 private:
  void observeLatency(double latencyMs);

  DetectorOptions options_;
  double fast_ = 0.0;
  double baseline_ = 0.0;
  int healthySamples_ = 0;
  // Judged at the latest healthy check (failed checks do not move latency).
  bool latencyHigh_ = false;
  bool latencyNormal_ = true;
  std::string latencyText_;  // the numbers behind latencyHigh_, for the reason
  double errorRate_ = 0.0;
  bool active_ = false;
};

}  // namespace lifeboat::watch
