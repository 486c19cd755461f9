#include "lifeboat/watch/detector_options.hpp"

#include <string>

namespace lifeboat::watch {
namespace {

Error optionError(const std::string& name, const std::string& problem, const std::string& hint) {
  return Error{"watch detector option `" + name + "` " + problem, hint};
}

std::string number(double value) {
  std::string text = std::to_string(value);
  // "0.300000" -> "0.3": the message should show the value as written.
  while (text.size() > 1 && text.back() == '0') {
    text.pop_back();
  }
  if (!text.empty() && text.back() == '.') {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::optional<Error> checkDetectorOptions(const DetectorOptions& options) {
  if (options.flapWindow.count() <= 0) {
    return optionError("flap_window", "must be longer than 0",
                       "it is the sliding window in which state flips are counted");
  }
  if (options.flapLimit < 2) {
    return optionError("flap_limit",
                       "is " + std::to_string(options.flapLimit) + "; it must be at least 2",
                       "every outage and its recovery are two flips; 6 is the default");
  }
  if (options.flapStable.count() < 0) {
    return optionError("flap_stable", "must not be negative",
                       "it is how long a flapping check must keep its verdict");
  }
  if (!(options.ewmaAlpha > 0.0 && options.ewmaAlpha <= 1.0)) {
    return optionError("ewma_alpha", "is " + number(options.ewmaAlpha) + "; it must lie in (0, 1]",
                       "the weight of the newest check; 0.3 is the default");
  }
  if (!(options.baselineAlpha > 0.0 && options.baselineAlpha < options.ewmaAlpha)) {
    return optionError("baseline_alpha",
                       "is " + number(options.baselineAlpha) +
                           "; it must lie in (0, ewma_alpha = " + number(options.ewmaAlpha) + ")",
                       "the baseline must follow latency more slowly than the fast average");
  }
  if (options.warmupChecks < 1) {
    return optionError("warmup_checks", "must be at least 1",
                       "healthy checks needed before latency can be judged anomalous");
  }
  if (!(options.latencyFactor > 1.0)) {
    return optionError("latency_factor",
                       "is " + number(options.latencyFactor) + "; it must exceed 1",
                       "latency is anomalous at this multiple of its baseline; 3 is the default");
  }
  if (!(options.latencyClearFactor >= 1.0 && options.latencyClearFactor < options.latencyFactor)) {
    return optionError(
        "latency_clear_factor",
        "is " + number(options.latencyClearFactor) +
            "; it must lie in [1, latency_factor = " + number(options.latencyFactor) + ")",
        "a lower clear level than the raise level keeps one episode from "
        "reporting twice");
  }
  if (options.latencyMinIncrease.count() < 0) {
    return optionError("latency_min_increase", "must not be negative",
                       "it keeps tiny latencies (1 ms -> 4 ms) from counting as anomalies");
  }
  if (!(options.errorRateHigh > 0.0 && options.errorRateHigh <= 1.0)) {
    return optionError(
        "error_rate_high", "is " + number(options.errorRateHigh) + "; it must lie in (0, 1]",
        "the error-rate EWMA above which an anomaly is reported; 0.5 is the default");
  }
  if (!(options.errorRateLow >= 0.0 && options.errorRateLow < options.errorRateHigh)) {
    return optionError(
        "error_rate_low",
        "is " + number(options.errorRateLow) +
            "; it must lie in [0, error_rate_high = " + number(options.errorRateHigh) + ")",
        "a lower clear level than the raise level keeps one episode from "
        "reporting twice");
  }
  return std::nullopt;
}

}  // namespace lifeboat::watch
