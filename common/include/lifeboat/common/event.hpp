#pragma once
// Event v1 (docs/protocol.md): one line of a run's journal, and the unit the
// agent streams to the coordinator. encodeEvent() writes the one canonical
// form; decodeEvent() checks a line strictly and names the field at fault.
//
// `data` is a boost::json::object rather than JSON text: an Event can then
// never carry a payload that is not a JSON object, encodeEvent() cannot fail,
// and producers (engine) and consumers (report, coordinator) work with the
// object without re-parsing. The price is <boost/json/object.hpp> in this
// header (~0.7 s per translation unit here), which every user of events pays
// for Boost.JSON anyway.

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat {

inline constexpr int kEventVersion = 1;

// Longest line decodeEvent() accepts (and encodeEvent()'s callers should
// refuse to write), without the newline.
inline constexpr std::size_t kMaxEventLineBytes = 1024 * 1024;

// Wall-clock time with the wire's precision. Milliseconds, not the system
// clock's nanoseconds, so that a decoded event equals the one encoded and so
// that years up to 9999 fit (a nanosecond time_point ends in 2262).
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// The event types v1 defines (docs/protocol.md lists the `data` of each).
// decodeEvent() accepts any non-empty type so that an older reader keeps
// newer agents' events; isKnownEventType() tells the two apart.
namespace event_type {
inline constexpr std::string_view kRunStarted = "run.started";
inline constexpr std::string_view kRunFinished = "run.finished";
inline constexpr std::string_view kRunResumed = "run.resumed";
inline constexpr std::string_view kRunCancelling = "run.cancelling";
inline constexpr std::string_view kPreflightFinished = "preflight.finished";
inline constexpr std::string_view kStepStarted = "step.started";
inline constexpr std::string_view kStepProcess = "step.process";
inline constexpr std::string_view kStepOutput = "step.output";
inline constexpr std::string_view kStepFinished = "step.finished";
inline constexpr std::string_view kObjectiveMeasured = "objective.measured";
inline constexpr std::string_view kObjectiveEvaluated = "objective.evaluated";
inline constexpr std::string_view kDecisionRequested = "decision.requested";
inline constexpr std::string_view kDecisionMade = "decision.made";
inline constexpr std::string_view kNotifyRequested = "notify.requested";
inline constexpr std::string_view kHello = "hello";
inline constexpr std::string_view kHeartbeat = "heartbeat";
// `lifeboat watch` (agent-level: `run` is empty; docs/protocol.md).
inline constexpr std::string_view kWatchStarted = "watch.started";
inline constexpr std::string_view kWatchReloaded = "watch.reloaded";
inline constexpr std::string_view kWatchStopped = "watch.stopped";
inline constexpr std::string_view kOutageDeclared = "outage.declared";
inline constexpr std::string_view kOutageSuppressed = "outage.suppressed";
inline constexpr std::string_view kOutageRecovered = "outage.recovered";
inline constexpr std::string_view kAnomalyDetected = "anomaly.detected";
inline constexpr std::string_view kAnomalyCleared = "anomaly.cleared";
inline constexpr std::string_view kFlappingStarted = "flapping.started";
inline constexpr std::string_view kFlappingStopped = "flapping.stopped";
inline constexpr std::string_view kFailoverPending = "failover.pending";
inline constexpr std::string_view kFailoverApproved = "failover.approved";
inline constexpr std::string_view kFailoverSkipped = "failover.skipped";
inline constexpr std::string_view kFailoverStarted = "failover.started";
inline constexpr std::string_view kFailoverFinished = "failover.finished";
inline constexpr std::string_view kAgentMode = "agent.mode";
inline constexpr std::string_view kCheckBroken = "check.broken";
inline constexpr std::string_view kCheckRepaired = "check.repaired";
// The spool (agent/stream): events it could not keep, which stay in journals.
inline constexpr std::string_view kStreamGap = "stream.gap";
}  // namespace event_type

std::span<const std::string_view> knownEventTypes();
bool isKnownEventType(std::string_view type);

struct Event {
  int version = kEventVersion;
  std::string agent{};  // never empty
  std::string run{};    // empty for agent-level events (hello, heartbeat)
  std::uint64_t seq = 0;
  Timestamp time{};
  std::string type{};  // never empty; see event_type
  std::string step{};  // empty when the event is not about one step
  boost::json::object data{};

  friend bool operator==(const Event&, const Event&) = default;
};

// One JSON line, no trailing newline, keys in the order
// v, agent, run, seq, ts, type, step, data; `step` is left out when empty.
// Strings must be valid UTF-8 (the producer replaces invalid bytes, e.g. in a
// child's output): the line is written as given and a reader would refuse it.
std::string encodeEvent(const Event& event);

// Strict: the line must be one JSON object of at most kMaxEventLineBytes with
// v == 1, a non-empty string `agent`, a string `run`, a non-negative integer
// `seq`, a timestamp `ts` (see parseTimestamp), a non-empty string `type`, an
// optional string `step` and an object `data`. Unknown top-level keys are
// ignored (a newer writer may add some; they are dropped, not kept).
Result<Event> decodeEvent(std::string_view line);

// RFC 3339 UTC with exactly three fractional digits and `Z`, e.g.
// 2026-11-24T22:56:10.123Z. Years must lie in 0000..9999 (proleptic
// Gregorian); outside that range the text has a different width and
// parseTimestamp() refuses it.
std::string formatTimestamp(Timestamp time);

// Accepts exactly the form formatTimestamp() writes, or the same with
// `+00:00` in place of `Z`. Checks month lengths and leap years; refuses leap
// seconds (:60), lower-case `t`/`z`, other offsets and other precisions.
Result<Timestamp> parseTimestamp(std::string_view text);

}  // namespace lifeboat
