// JUnit XML (docs/reports.md, "JUnit"): the run as one test suite, so that a
// CI job that runs a drill shows each step, rollback and objective as a test.

#include <vector>

#include "escape.hpp"
#include "format.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {

namespace {

using detail::xmlAttribute;
using detail::xmlText;

enum class CaseResult { kPassed, kFailure, kError, kSkipped };

struct TestCase {
  std::string name{};
  std::int64_t timeMs = 0;
  CaseResult result = CaseResult::kPassed;
  std::string message{};  // failure/error/skipped message
  std::string type{};     // failure/error type
  std::string detail{};   // element text
};

TestCase executionCase(std::string name, const Execution& execution, const RunRecord& record) {
  TestCase test{.name = std::move(name),
                .timeMs = detail::executionDurationMs(execution).value_or(0)};
  const std::string status(statusName(execution.status));
  switch (execution.status) {
    case StepStatus::ok:
      break;
    case StepStatus::skipped:
      test.result = CaseResult::kSkipped;
      test.message = execution.reason.empty() ? "skipped" : execution.reason;
      break;
    case StepStatus::notRun:
      test.result = CaseResult::kSkipped;
      test.message =
          record.outcome == Outcome::running ? "not run yet" : "not run: the run stopped before it";
      break;
    case StepStatus::failed:
    case StepStatus::timedOut:
      test.result = CaseResult::kFailure;
      test.type = status;
      test.message = execution.error.empty() ? status : detail::firstLine(execution.error);
      test.detail = execution.error;
      if (execution.exitCode) {
        test.detail += "\nexit code " + std::to_string(*execution.exitCode);
      }
      if (execution.signal) {
        test.detail += "\nsignal " + std::to_string(*execution.signal);
      }
      if (execution.httpStatus) {
        test.detail += "\nHTTP status " + std::to_string(*execution.httpStatus);
      }
      break;
    case StepStatus::cancelled:
    case StepStatus::interrupted:
      test.result = CaseResult::kError;
      test.type = status;
      test.message = execution.error.empty() ? status : detail::firstLine(execution.error);
      test.detail = execution.error;
      break;
  }
  return test;
}

TestCase objectiveCase(const ObjectiveRecord& objective) {
  TestCase test{.name = "objective " + objective.objective,
                .timeMs = objective.valueMs.value_or(0)};
  if (objective.verdict == Verdict::met) {
    return test;
  }
  test.result = CaseResult::kFailure;
  test.type = std::string(verdictName(objective.verdict));
  test.message = objective.verdict == Verdict::unknown ? "not measured" : "breached";
  test.detail = detail::verdictSummary(objective);
  return test;
}

// One verdict on a drill's cleanup: it must leave nothing behind.
TestCase cleanupCase(const RunRecord& record) {
  TestCase test{.name = "cleanup"};
  std::vector<std::string> failed;
  bool interrupted = false;
  for (const StepRecord& step : record.steps) {
    if (!step.cleanup) {
      continue;
    }
    test.timeMs += detail::executionDurationMs(step.execution).value_or(0);
    StepStatus status = step.execution.status;
    if (status == StepStatus::failed || status == StepStatus::timedOut) {
      failed.push_back(step.id);
    } else if (status == StepStatus::interrupted || status == StepStatus::cancelled ||
               (status == StepStatus::notRun && record.outcome != Outcome::running)) {
      interrupted = true;
    }
  }
  if (!failed.empty() || record.cleanup == "failed") {
    test.result = CaseResult::kFailure;
    test.type = "failed";
    test.message = "cleanup failed";
    for (const std::string& id : failed) {
      test.detail += "step " + id + " failed\n";
    }
  } else if (interrupted) {
    test.result = CaseResult::kError;
    test.type = "interrupted";
    test.message = "cleanup did not finish";
  } else if (record.outcome == Outcome::running && record.cleanup.empty()) {
    test.result = CaseResult::kSkipped;
    test.message = "not run yet";
  }
  return test;
}

void writeCase(const TestCase& test, const std::string& className, std::string& out) {
  out += "  <testcase classname=\"" + xmlAttribute(className) + "\" name=\"" +
         xmlAttribute(test.name) + "\" time=\"" + detail::secondsText(test.timeMs) + "\"";
  std::string element;
  switch (test.result) {
    case CaseResult::kPassed:
      out += "/>\n";
      return;
    case CaseResult::kSkipped:
      out += ">\n    <skipped message=\"" + xmlAttribute(test.message) + "\"/>\n  </testcase>\n";
      return;
    case CaseResult::kFailure:
      element = "failure";
      break;
    case CaseResult::kError:
      element = "error";
      break;
  }
  out += ">\n    <" + element + " message=\"" + xmlAttribute(test.message) + "\" type=\"" +
         xmlAttribute(test.type) + "\">" + xmlText(test.detail) + "</" + element +
         ">\n  </testcase>\n";
}

void writeProperty(const std::string& name, const std::string& value, std::string& out) {
  out +=
      "    <property name=\"" + xmlAttribute(name) + "\" value=\"" + xmlAttribute(value) + "\"/>\n";
}

}  // namespace

std::string renderJunit(const RunRecord& record) {
  std::vector<TestCase> cases;
  if (!record.error.empty()) {
    // The run failed as a whole (preflight, run timeout): say so first.
    cases.push_back(TestCase{.name = "run",
                             .timeMs = detail::runDurationMs(record),
                             .result = CaseResult::kError,
                             .message = detail::firstLine(record.error),
                             .type = std::string(outcomeName(record.outcome)),
                             .detail = record.error});
  }
  for (const StepRecord& step : record.steps) {
    cases.push_back(executionCase("step " + step.id, step.execution, record));
    if (step.rollback) {
      cases.push_back(executionCase("rollback " + step.id, *step.rollback, record));
    }
  }
  for (const ObjectiveRecord& objective : record.objectives) {
    cases.push_back(objectiveCase(objective));
  }
  bool hasCleanup = false;
  for (const StepRecord& step : record.steps) {
    hasCleanup = hasCleanup || step.cleanup;
  }
  if (record.drill && hasCleanup) {
    cases.push_back(cleanupCase(record));
  }

  int failures = 0;
  int errors = 0;
  int skipped = 0;
  for (const TestCase& test : cases) {
    failures += test.result == CaseResult::kFailure ? 1 : 0;
    errors += test.result == CaseResult::kError ? 1 : 0;
    skipped += test.result == CaseResult::kSkipped ? 1 : 0;
  }

  const std::string suiteName =
      std::string("lifeboat ") + (record.drill ? "drill " : "run ") + detail::runbookLabel(record);
  const std::string className = record.service + "." + detail::runbookLabel(record);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuite name=\"" + xmlAttribute(suiteName) + "\" tests=\"" +
         std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"" + std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) +
         "\" time=\"" + detail::secondsText(detail::runDurationMs(record)) + "\" timestamp=\"" +
         formatTimestamp(record.startedAt) + "\">\n";
  out += "  <properties>\n";
  writeProperty("run", record.runId, out);
  writeProperty("agent", record.agent, out);
  writeProperty("service", record.service, out);
  writeProperty("runbook", record.runbookPath, out);
  writeProperty("runbook_sha256", record.runbookSha256, out);
  writeProperty("drill", record.drill ? "true" : "false", out);
  writeProperty("outcome", std::string(outcomeName(record.outcome)), out);
  writeProperty("exit_code", record.exitCode ? std::to_string(*record.exitCode) : "", out);
  if (!record.error.empty()) {
    writeProperty("error", record.error, out);
  }
  out += "  </properties>\n";
  for (const TestCase& test : cases) {
    writeCase(test, className, out);
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace lifeboat::report
