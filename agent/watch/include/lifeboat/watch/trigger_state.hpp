#pragma once
// TriggerState: outage detection for one [[trigger]] of a runbook, as a pure
// state machine (docs/watch.md is the contract; section numbers below refer
// to it). The daemon runs the probe every `interval`, feeds each result to
// record() and acts on the events it returns; time comes only from the
// results and the failover calls, so the same inputs always give the same
// events.
//
// Summary of the rules:
// - Streaks (section 2). `failures` consecutive failed checks declare an
//   outage; its start, the one RTO is measured from, is the wall time of the
//   FIRST failed check of that streak. Any healthy check ends a failure streak.
//   `recoveries` consecutive healthy checks end a declared outage
//   (`recovered`), or bring a failing trigger that never declared back to
//   healthy (`recovered` with declared = false). An outage is declared once;
//   it stays declared through isolated good checks until it recovers.
// - Holds (section 3). A streak that reaches `failures` while a hold applies
//   is not declared; `suppressed` is reported once per streak and hold
//   reason, and the declaration happens at the first failed check of the same
//   streak after every hold has lifted (outage start still the streak's first
//   failure). Holds, first that applies wins: a failover in progress
//   (failoverStarted() until failoverFinished()), the cooldown (until
//   `cooldown` after the later of those calls), flapping.
// - Still failing after a failover (section 3). failoverStarted() during a
//   declared outage or a failure streak marks it as handled. If the checks
//   still fail `failures` times in a row once the holds lift, the outage is
//   declared (again) with afterFailover = true and the same outage start: the
//   failover did not bring the service back. FailoverBudget decides whether
//   another run may start.
// - Flapping (section 4): see FlapDetector.
// - Anomaly (section 5): see AnomalyDetector; no anomaly episode starts while
//   an outage is declared, nor at the check that declares one.
// - Alertmanager triggers (section 6) have no thresholds: pass a firing alert
//   as a failed check and a resolved one as a healthy check; they are judged
//   with failures = recoveries = 1.
//
// Not thread-safe: one owner (the daemon's strand for this trigger) calls it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/watch/anomaly.hpp"
#include "lifeboat/watch/detector_options.hpp"
#include "lifeboat/watch/flap_detector.hpp"

namespace lifeboat::watch {

using Clock = std::chrono::steady_clock;

// One finished probe. `at` (steady) drives every window and threshold; results
// of one trigger are recorded in the order of `at` (a result older than the
// previous one is treated as if it came at the previous one's time).
struct CheckResult {
  Clock::time_point at{};
  Timestamp wallAt{};                    // when the check started, for reports (RTO start)
  bool healthy = false;                  // the probe's verdict, timeout included
  std::chrono::milliseconds latency{0};  // how long the check took
  std::string detail;                    // what the probe saw ("HTTP 503", "connection refused")
  // The check itself is broken and says nothing about the service: a plugin
  // that refused the request (exit status 2), a plugin, target or command
  // that does not exist. `healthy` is false. The daemon does not record such
  // a result (a typo must not fail a healthy service over); it reports it.
  bool broken = false;
};

enum class Health {
  unknown,     // no check yet
  healthy,     // the last checks passed
  failing,     // failed checks, no outage declared (below the threshold, or held)
  outage,      // outage declared and the last check failed
  recovering,  // good checks after failures, fewer than `recoveries` so far
};

// Why a due declaration is not made (section 3).
enum class Hold { none, failoverInProgress, cooldown, flapping };

struct TriggerEvent {
  enum class Kind {
    outageDeclared,   // start a failover (policy permitting)
    suppressed,       // the threshold was reached but a hold applies
    recovered,        // `recoveries` good checks after failures
    anomaly,          // early warning (no outage declared)
    anomalyCleared,   // the anomaly episode is over
    flappingStarted,  // holds new declarations from now on
    flappingStopped,
  };
  Kind kind = Kind::outageDeclared;
  Clock::time_point at{};  // the check that caused the event
  Timestamp wallAt{};
  // outageDeclared, suppressed: the first failed check of the streak (for a
  // declaration after a failover: of the outage). recovered: the start of the
  // outage (declared) or of the failing streak (not declared).
  Timestamp outageStart{};
  // recovered: the first good check of the run that ended the failures.
  Timestamp recoveryStart{};
  int consecutiveFailures = 0;  // including this check
  bool declared = false;        // recovered: it ended a declared outage
  bool afterFailover = false;   // outageDeclared: again, after a failover did not help
  Hold hold = Hold::none;       // suppressed: the reason
  // suppressed: the earliest time the hold can lift (none while a failover runs).
  std::optional<Clock::time_point> heldUntil;
  // anomaly, anomalyCleared: the signals at that check.
  double latencyEwmaMs = 0.0;
  double latencyBaselineMs = 0.0;
  double errorRateEwma = 0.0;
  std::string reason;  // one line for logs and the live view
};

// Stable names for logs and events: "outage_declared", "suppressed", ...
std::string_view toString(TriggerEvent::Kind kind);
std::string_view toString(Health health);  // "unknown", "healthy", ...
std::string_view toString(Hold hold);      // "none", "failover_in_progress", ...

// Everything a status page or metrics endpoint shows about a trigger.
struct TriggerStatus {
  Health health = Health::unknown;
  bool outageDeclared = false;
  std::optional<Timestamp> outageStart;  // of the declared outage or the failing streak
  int consecutiveFailures = 0;
  int consecutiveSuccesses = 0;
  bool flapping = false;
  int flipsInWindow = 0;  // counted up to flap_limit
  bool failoverInProgress = false;
  std::optional<Clock::time_point> cooldownUntil;  // set once a failover happened
  bool anomaly = false;
  double latencyEwmaMs = 0.0;
  double latencyBaselineMs = 0.0;
  double errorRateEwma = 0.0;
  std::uint64_t checks = 0;
};

class TriggerState {
 public:
  // Checks the trigger's thresholds (failures and recoveries 1..1000,
  // cooldown not negative; loadRunbook() has already, this guards other
  // callers) and `options` (checkDetectorOptions).
  static Result<TriggerState> create(const runbook::Trigger& trigger,
                                     const DetectorOptions& options = {});

  // Feeds one check; returns what it changed, in this order: flapping
  // started/stopped, then outageDeclared | suppressed | recovered, then
  // anomaly/anomalyCleared. Usually empty.
  std::vector<TriggerEvent> record(const CheckResult& result);

  // A failover of this trigger's service started (by this trigger, another
  // one, or a human): holds new declarations until failoverFinished(), and
  // marks a declared outage or a running failure streak as handled.
  void failoverStarted(Clock::time_point at);
  // The failover ended (however it ended): the cooldown runs until
  // `at + cooldown`. Also valid without failoverStarted().
  void failoverFinished(Clock::time_point at);

  Health health() const { return health_; }
  bool outageDeclared() const { return declared_; }
  // The hold that would stop a declaration now (at the time of the latest
  // check or failover call).
  Hold currentHold() const { return holdAt(now_); }
  TriggerStatus status() const;

  int failureThreshold() const { return failures_; }
  int recoveryThreshold() const { return recoveries_; }

 private:
  TriggerState(int failures, int recoveries, std::chrono::milliseconds cooldown,
               const DetectorOptions& options);

  Hold holdAt(Clock::time_point now) const;
  TriggerEvent makeEvent(TriggerEvent::Kind kind, const CheckResult& result,
                         Clock::time_point at) const;
  // A due declaration: declare it, or report the hold (once per streak and reason).
  void declareOrHold(const CheckResult& result, Clock::time_point at,
                     std::vector<TriggerEvent>& events);

  int failures_;
  int recoveries_;
  std::chrono::milliseconds cooldown_;
  FlapDetector flap_;
  AnomalyDetector anomaly_;

  Health health_ = Health::unknown;
  std::uint64_t checks_ = 0;
  Clock::time_point now_{};  // latest check or failover call

  int consecutiveFailures_ = 0;
  int consecutiveSuccesses_ = 0;
  Timestamp streakStart_{};    // first failed check of the current failure streak
  Timestamp failingSince_{};   // first failed check since the trigger was last healthy
  Timestamp recoveryStart_{};  // first good check of the current good run

  bool declared_ = false;
  Timestamp outageStart_{};
  bool handled_ = false;            // a failover started during this outage or failure streak
  Hold reportedHold_ = Hold::none;  // the hold already reported for this streak

  bool failoverInProgress_ = false;
  std::optional<Clock::time_point> cooldownUntil_;
};

}  // namespace lifeboat::watch
