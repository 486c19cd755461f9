#include "lifeboat/watch/anomaly.hpp"

#include <cstdio>

namespace lifeboat::watch {
namespace {

// Numbers for a reason text; `pattern` is always one of the literals below.
template <class... Numbers>
std::string format(const char* pattern, Numbers... numbers) {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, pattern, numbers...);
  return buffer;
}

}  // namespace

AnomalyDetector::AnomalyDetector(const DetectorOptions& options) : options_(options) {}

void AnomalyDetector::observeLatency(double latencyMs) {
  const double alpha = options_.ewmaAlpha;
  if (healthySamples_ == 0) {
    fast_ = latencyMs;
    baseline_ = latencyMs;
    healthySamples_ = 1;
    return;
  }
  fast_ = alpha * latencyMs + (1.0 - alpha) * fast_;
  baseline_ = options_.baselineAlpha * latencyMs + (1.0 - options_.baselineAlpha) * baseline_;
  const double increase = fast_ - baseline_;
  const double minIncrease = static_cast<double>(options_.latencyMinIncrease.count());
  latencyHigh_ = healthySamples_ >= options_.warmupChecks &&
                 fast_ > options_.latencyFactor * baseline_ && increase >= minIncrease;
  latencyNormal_ = fast_ <= options_.latencyClearFactor * baseline_ || increase < minIncrease;
  if (latencyHigh_) {
    latencyText_ = format("latency EWMA %.0f ms is above %.1fx its baseline %.0f ms", fast_,
                          options_.latencyFactor, baseline_);
  }
  ++healthySamples_;
}

AnomalyDetector::Change AnomalyDetector::observe(bool healthy, std::chrono::milliseconds latency,
                                                 bool mayStart) {
  const double alpha = options_.ewmaAlpha;
  errorRate_ = alpha * (healthy ? 0.0 : 1.0) + (1.0 - alpha) * errorRate_;
  if (healthy) {
    observeLatency(static_cast<double>(latency.count()));
  }

  const bool errorHigh = errorRate_ > options_.errorRateHigh;
  const bool errorNormal = errorRate_ < options_.errorRateLow;

  Change change;
  if (!active_) {
    if (mayStart && (latencyHigh_ || errorHigh)) {
      active_ = true;
      change.kind = Change::Kind::started;
      if (latencyHigh_) {
        change.reason = latencyText_;
      }
      if (errorHigh) {
        if (!change.reason.empty()) {
          change.reason += "; ";
        }
        change.reason +=
            format("error-rate EWMA %.2f is above %.2f", errorRate_, options_.errorRateHigh);
      }
    }
  } else if (latencyNormal_ && errorNormal) {
    active_ = false;
    change.kind = Change::Kind::cleared;
    change.reason = format("latency EWMA %.0f ms (baseline %.0f ms), error-rate EWMA %.2f", fast_,
                           baseline_, errorRate_);
  }
  return change;
}

}  // namespace lifeboat::watch
