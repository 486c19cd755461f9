#pragma once
// Wording and arithmetic the renderers share, so that every format says the
// same thing the same way.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report::detail {

// "1m30s250ms", the runbook's duration syntax.
std::string durationText(std::int64_t milliseconds);

// Seconds with three decimals, "90.250", as JUnit's `time` wants.
std::string secondsText(std::int64_t milliseconds);

// formatTimestamp(), or "-" when absent.
std::string timeText(const std::optional<Timestamp>& time);

// "drill" or "real".
std::string modeName(const RunRecord& record);

// The runbook's name, else its path.
std::string runbookLabel(const RunRecord& record);

// How long an execution took: its duration_ms, else finished - started.
std::optional<std::int64_t> executionDurationMs(const Execution& execution);

// Where its bar ends on a timeline: its end, or for one that never finished
// the run's end (or the journal's last event).
Timestamp executionEnd(const Execution& execution, const RunRecord& record);

// The run's length: duration_ms, else finished (or the last event) - started.
std::int64_t runDurationMs(const RunRecord& record);

// "met: 4m1s within 5m", "breached: 6m12s against 5m", "unknown: not measured
// (target 5m)".
std::string verdictSummary(const ObjectiveRecord& objective);

// The time the RTO budget runs out (outage start + target), when rto is set.
std::optional<Timestamp> rtoDeadline(const RunRecord& record);

// The first line of a (possibly multi-line) text.
std::string firstLine(const std::string& text);

// One output a step reported: strings as they are, anything else as JSON.
struct StepOutput {
  std::string step;  // the step's id; "rollback of ID" for a rollback's outputs
  std::string name;
  std::string value;
};
// Every output of every step, in the record's step order: what a drill made
// (a copy's directory and tag, a DNS name) and what a run changed, listed
// for readers of the report.
std::vector<StepOutput> stepOutputs(const RunRecord& record);

}  // namespace lifeboat::report::detail
