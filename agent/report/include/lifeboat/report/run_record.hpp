#pragma once
// RunRecord: what one run did, folded from its journal (docs/protocol.md,
// "Types and their `data`"). Every report format (JSON, JUnit, HTML, text;
// docs/reports.md) is rendered from a RunRecord, never from events directly,
// so that they all tell the same story.
//
// The fold is tolerant by contract: unknown event types and unknown `data`
// members are ignored, a member of the wrong type counts as absent, and a
// journal that stops in the middle (the agent died, or the run is still
// going) still gives a record. It is strict only about what makes a journal
// a journal: the first event is run.started and every event is of that run.
//
// Plain values; no threads, no I/O. Any thread may build and read records.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::report {

// `running`: the journal has no run.finished (after the last run.resumed), so
// the run is either still going or its agent died; the journal alone cannot
// tell which.
enum class Outcome { running, done, failed, incomplete, interrupted };

// notRun: the mode runs the step but it never started (the run stopped
// first, or has not got there yet). interrupted: it started and no
// step.finished followed. A status the journal names that this reader does
// not know counts as failed: a report must never make an unknown look good.
enum class StepStatus { notRun, ok, failed, timedOut, cancelled, skipped, interrupted };

enum class Phase { main, rollback, cleanup };

// Not measured is not met: met only ever comes with a measured value.
enum class Verdict { met, breached, unknown };

// The words the journal and the reports use: "done", "timed_out", "rollback"...
std::string_view outcomeName(Outcome outcome);
std::string_view statusName(StepStatus status);
std::string_view phaseName(Phase phase);
std::string_view verdictName(Verdict verdict);

// One phase of one step: its main (or cleanup) run, or its rollback.
struct Execution {
  Phase phase = Phase::main;
  StepStatus status = StepStatus::notRun;
  int attempts = 0;                       // 0 when it never started
  std::optional<Timestamp> startedAt{};   // the first step.started of this phase
  std::optional<Timestamp> finishedAt{};  // the step.finished, when there was one
  std::optional<std::int64_t> durationMs{};
  std::optional<std::int64_t> exitCode{};    // exec, when the child exited
  std::optional<std::int64_t> signal{};      // exec, when a signal ended it
  std::optional<std::int64_t> httpStatus{};  // http
  std::string error{};                       // when not ok
  std::string reason{};                      // skipped: why
  std::string resolution{};  // rerun / mark_done / mark_failed, when a resume settled it
  boost::json::object outputs{};
  boost::json::object measurements{};

  bool started() const { return startedAt.has_value(); }
};

struct StepRecord {
  // From the plan in run.started.
  std::string id{};
  std::string name{};  // the id when the runbook gives no name
  std::string kind{};  // exec / http / plugin / decision / notify
  std::string target{};
  int wave = 0;
  bool cleanup = false;
  bool runs = true;  // false: this mode skips the step (skipReason says why)
  std::string skipReason{};
  bool restoresService = false;
  bool measuresRpo = false;
  bool idempotent = false;
  bool hasRollback = false;
  // False for a step the journal mentions but the plan does not list.
  bool inPlan = true;

  Execution execution{};                // phase main, or cleanup for cleanup steps
  std::optional<Execution> rollback{};  // present once its rollback started or finished
};

struct ObjectiveRecord {
  std::string objective{};  // "rto", "rpo"
  std::optional<std::int64_t> targetMs{};
  std::optional<std::int64_t> valueMs{};
  // From objective.evaluated only; unknown until the engine evaluated it.
  Verdict verdict = Verdict::unknown;
  bool evaluated = false;
  std::string source{};  // the step whose measurement counted
  // RTO only: when the service was back, and the outage start the engine used.
  std::optional<Timestamp> restoredAt{};
  std::optional<Timestamp> outageStart{};
  std::string outageStartSource{};
};

struct DecisionOption {
  std::string id{};
  std::string label{};
  std::string impact{};
};

struct DecisionRecord {
  std::string step{};
  std::string question{};
  std::vector<DecisionOption> options{};
  std::vector<std::string> approvers{};
  std::optional<std::int64_t> deadlineMs{};
  std::string defaultOption{};
  std::optional<Timestamp> requestedAt{};
  bool made = false;
  std::string choice{};
  std::string by{};
  std::string rationale{};
  std::string via{};  // terminal / cli / coordinator / deadline
  std::optional<Timestamp> madeAt{};
};

struct NotificationRecord {
  std::string step{};
  Timestamp at{};
  std::string audience{};
  std::string templateName{};
  std::string message{};
  std::vector<std::string> channels{};
};

struct PreflightCheck {
  std::string check{};  // plugins / secrets / lock
  bool ok = false;
  std::string detail{};
};

struct PreflightRecord {
  Timestamp at{};
  bool ok = false;
  std::vector<PreflightCheck> checks{};
  std::vector<std::string> warnings{};
};

struct InterruptedStep {
  std::string step{};
  std::string phase{};
  std::string resolution{};
};

struct ResumeRecord {
  Timestamp at{};
  std::optional<std::int64_t> agentPid{};
  std::vector<InterruptedStep> interrupted{};
  std::vector<std::int64_t> orphansStopped{};
};

struct CancellationRecord {
  Timestamp at{};
  std::string reason{};  // signal / run_timeout / cancel
  std::string signal{};  // as the journal gave it, when a signal
};

struct RunRecord {
  std::string runId{};
  std::string agent{};
  std::string runbookPath{};
  std::string runbookName{};
  std::string runbookSha256{};
  std::string service{};
  bool drill = false;
  std::optional<std::int64_t> agentPid{};
  boost::json::object variables{};

  Timestamp startedAt{};            // run.started's started_at, else its ts
  Timestamp outageStart{};          // the run's start when the journal names none
  std::string outageStartSource{};  // trigger / flag / run_start

  // From the last run.finished, unless a run.resumed came after it.
  Outcome outcome = Outcome::running;
  std::optional<int> exitCode{};
  std::optional<Timestamp> finishedAt{};
  std::optional<std::int64_t> durationMs{};
  std::vector<std::string> failedSteps{};
  std::string cleanup{};  // none / ok / failed; empty when not finished
  bool rolledBack = false;
  std::string error{};  // the run's own failure (preflight, run timeout)
  std::optional<CancellationRecord> cancellation{};

  std::vector<ObjectiveRecord> objectives{};  // in run.started order, then as met
  std::vector<StepRecord> steps{};            // plan order, then unplanned steps as met
  std::vector<DecisionRecord> decisions{};
  std::vector<NotificationRecord> notifications{};
  std::vector<PreflightRecord> preflights{};
  std::vector<ResumeRecord> resumes{};

  Timestamp lastEventAt{};  // the latest `ts` in the journal

  const ObjectiveRecord* findObjective(std::string_view objective) const;
  const StepRecord* findStep(std::string_view id) const;
};

// Folds one run's journal, in journal order, into a RunRecord. Errors: an
// empty journal, a first event other than run.started, an event of another
// run. Agent-level events (empty `run`: hello, heartbeat) are ignored.
Result<RunRecord> buildRunRecord(std::span<const Event> events);

// The same fold, one event at a time, so that a long journal can be read
// without holding all its events (journal::scanJournal).
class RunRecordBuilder {
 public:
  RunRecordBuilder();
  ~RunRecordBuilder();
  RunRecordBuilder(RunRecordBuilder&&) noexcept;
  RunRecordBuilder& operator=(RunRecordBuilder&&) noexcept;

  // The same errors as buildRunRecord, at the event that causes them.
  Result<std::monostate> add(const Event& event);
  Result<RunRecord> finish() &&;

 private:
  std::unique_ptr<RunRecord> record_;
  std::string run_;
  bool started_ = false;
};

}  // namespace lifeboat::report
