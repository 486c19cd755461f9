// The HTML report (docs/reports.md, "HTML"): one page that works offline, in
// a mail attachment and on paper. No script, no external resource; every text
// from the journal goes through htmlText().

#include <vector>

#include "escape.hpp"
#include "format.hpp"
#include "html_parts.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {

namespace {

using detail::htmlText;

constexpr std::string_view kStyle = R"(
body { font-family: sans-serif; margin: 1.5em auto; max-width: 62em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr { page-break-inside: avoid; break-inside: avoid; }
td.error, pre { white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; padding: 0.1em 0.6em; border-radius: 0.8em; color: #fff;
         font-weight: bold; border: 1px solid #0003; }
.good { background: #2e7d32; } .bad { background: #c62828; } .unsure { background: #ef6c00; }
.neutral { background: #616161; }
.status { font-weight: bold; }
.muted { color: #666; }
svg.timeline { border: 1px solid #ddd; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { page-break-after: avoid; break-after: avoid; }
  svg.timeline { page-break-inside: avoid; break-inside: avoid; }
}
)";

std::string badge(std::string_view text, std::string_view tone) {
  return "<span class=\"badge " + std::string(tone) + "\">" + htmlText(text) + "</span>";
}

std::string outcomeTone(Outcome outcome) {
  switch (outcome) {
    case Outcome::done:
      return "good";
    case Outcome::failed:
    case Outcome::incomplete:
      return "bad";
    case Outcome::interrupted:
      return "unsure";
    case Outcome::running:
      return "neutral";
  }
  return "neutral";
}

std::string verdictTone(Verdict verdict) {
  switch (verdict) {
    case Verdict::met:
      return "good";
    case Verdict::breached:
      return "bad";
    case Verdict::unknown:
      return "unsure";
  }
  return "unsure";
}

std::string cell(const std::string& text) {
  return "<td>" + htmlText(text) + "</td>";
}

std::string orDash(const std::optional<std::int64_t>& milliseconds) {
  return milliseconds ? detail::durationText(*milliseconds) : "-";
}

std::string fact(std::string_view name, const std::string& valueHtml) {
  return "<dt>" + std::string(name) + "</dt><dd>" + valueHtml + "</dd>\n";
}

std::string statusCell(StepStatus status) {
  return "<td class=\"status\" style=\"color: " + std::string(detail::statusColour(status)) +
         "\">" + std::string(statusName(status)) + "</td>";
}

void writeHeader(const RunRecord& record, std::string& out) {
  out += "<h1>" + htmlText(detail::runbookLabel(record)) + " " +
         badge(detail::modeName(record), record.drill ? "neutral" : "bad") + " " +
         badge(outcomeName(record.outcome), outcomeTone(record.outcome)) + "</h1>\n";
  out += "<dl class=\"facts\">\n";
  out += fact("Service", htmlText(record.service));
  out += fact("Run", htmlText(record.runId));
  out += fact("Agent", htmlText(record.agent));
  out += fact("Mode", record.drill ? "drill" : "real failover");
  out += fact("Runbook", htmlText(record.runbookPath) + " <span class=\"muted\">sha256 " +
                             htmlText(record.runbookSha256) + "</span>");
  out += fact("Started", htmlText(formatTimestamp(record.startedAt)));
  out += fact("Outage start", htmlText(formatTimestamp(record.outageStart)) + " (" +
                                  htmlText(record.outageStartSource) + ")");
  out += fact("Finished", htmlText(detail::timeText(record.finishedAt)));
  out += fact("Duration", htmlText(detail::durationText(detail::runDurationMs(record))));
  out += fact("Outcome", htmlText(outcomeName(record.outcome)) + ", exit code " +
                             (record.exitCode ? std::to_string(*record.exitCode) : "-"));
  if (!record.error.empty()) {
    out += fact("Error", "<span class=\"error\">" + htmlText(record.error) + "</span>");
  }
  if (record.cancellation) {
    out += fact("Cancelled", htmlText(record.cancellation->reason) + " " +
                                 htmlText(record.cancellation->signal) + " at " +
                                 htmlText(formatTimestamp(record.cancellation->at)));
  }
  std::string verdicts;
  for (const ObjectiveRecord& objective : record.objectives) {
    verdicts += badge(objective.objective + " " + std::string(verdictName(objective.verdict)),
                      verdictTone(objective.verdict)) +
                " ";
  }
  out += fact("Objectives", verdicts.empty() ? "none set" : verdicts);
  out += "</dl>\n";
}

std::string executionRow(const std::string& label, const StepRecord& step,
                         const Execution& execution) {
  std::string note = execution.error;
  if (execution.status == StepStatus::skipped) {
    note = execution.reason;
  }
  if (!execution.resolution.empty()) {
    note += (note.empty() ? "" : "; ") + std::string("resume: ") + execution.resolution;
  }
  return "<tr>" + cell(label) + cell(step.kind) + cell(step.target) +
         cell(std::string(phaseName(execution.phase))) + statusCell(execution.status) +
         cell(detail::timeText(execution.startedAt)) +
         cell(orDash(detail::executionDurationMs(execution))) +
         cell(std::to_string(execution.attempts)) +
         cell(execution.exitCode ? std::to_string(*execution.exitCode) : "") +
         "<td class=\"error\">" + htmlText(note) + "</td></tr>\n";
}

void writeSteps(const RunRecord& record, std::string& out) {
  out +=
      "<h2>Steps</h2>\n<table class=\"steps\">\n<tr><th>Step</th><th>Kind</th><th>Target</th>"
      "<th>Phase</th><th>Status</th><th>Started</th><th>Duration</th><th>Attempts</th>"
      "<th>Exit</th><th>Error / note</th></tr>\n";
  for (const StepRecord& step : record.steps) {
    std::string label = step.name == step.id ? step.id : step.name + " (" + step.id + ")";
    out += executionRow(label, step, step.execution);
    if (step.rollback) {
      out += executionRow("rollback of " + step.id, step, *step.rollback);
    }
  }
  out += "</table>\n";
}

// What the steps reported: a drill's copy and its run-id tag, the DNS name
// it made, the address a switch moved to. Shown only when there is any.
void writeOutputs(const RunRecord& record, std::string& out) {
  const std::vector<detail::StepOutput> outputs = detail::stepOutputs(record);
  if (outputs.empty()) {
    return;
  }
  out +=
      "<h2>Outputs</h2>\n<table class=\"outputs\">\n<tr><th>Step</th><th>Output</th>"
      "<th>Value</th></tr>\n";
  for (const detail::StepOutput& output : outputs) {
    out += "<tr>" + cell(output.step) + cell(output.name) + cell(output.value) + "</tr>\n";
  }
  out += "</table>\n";
}

void writeObjectives(const RunRecord& record, std::string& out) {
  out += "<h2>Objectives</h2>\n";
  if (record.objectives.empty()) {
    out += "<p>The runbook sets no recovery objectives.</p>\n";
    return;
  }
  out +=
      "<table class=\"objectives\">\n<tr><th>Objective</th><th>Target</th><th>Measured</th>"
      "<th>Verdict</th><th>Source</th><th>Restored at</th></tr>\n";
  for (const ObjectiveRecord& objective : record.objectives) {
    out += "<tr>" + cell(objective.objective) + cell(orDash(objective.targetMs)) +
           cell(objective.valueMs ? detail::durationText(*objective.valueMs) : "not measured") +
           "<td>" + badge(verdictName(objective.verdict), verdictTone(objective.verdict)) + " " +
           htmlText(detail::verdictSummary(objective)) + "</td>" + cell(objective.source) +
           cell(objective.restoredAt ? formatTimestamp(*objective.restoredAt) : "") + "</tr>\n";
  }
  out +=
      "</table>\n<p class=\"muted\">Not measured is not met: an objective without a "
      "measurement is unknown.</p>\n";
}

void writeDecisions(const RunRecord& record, std::string& out) {
  if (record.decisions.empty()) {
    return;
  }
  out +=
      "<h2>Decisions</h2>\n<table class=\"decisions\">\n<tr><th>Step</th><th>Question</th>"
      "<th>Options</th><th>Choice</th><th>By</th><th>Via</th><th>Rationale</th></tr>\n";
  for (const DecisionRecord& decision : record.decisions) {
    std::string options;
    for (const DecisionOption& option : decision.options) {
      options += "<div><strong>" + htmlText(option.id) + "</strong> " + htmlText(option.label) +
                 (option.impact.empty()
                      ? ""
                      : " <span class=\"muted\">(" + htmlText(option.impact) + ")</span>") +
                 "</div>";
    }
    out += "<tr>" + cell(decision.step) + cell(decision.question) + "<td>" + options + "</td>" +
           cell(decision.made ? decision.choice : "(waiting)") + cell(decision.by) +
           cell(decision.via) + "<td class=\"error\">" + htmlText(decision.rationale) +
           "</td></tr>\n";
  }
  out += "</table>\n";
}

void writeNotifications(const RunRecord& record, std::string& out) {
  if (record.notifications.empty()) {
    return;
  }
  out +=
      "<h2>Notifications</h2>\n<table class=\"notifications\">\n<tr><th>Time</th><th>Step</th>"
      "<th>Audience</th><th>Template</th><th>Channels</th><th>Message</th></tr>\n";
  for (const NotificationRecord& notification : record.notifications) {
    std::string channels;
    for (const std::string& channel : notification.channels) {
      channels += (channels.empty() ? "" : ", ") + channel;
    }
    out += "<tr>" + cell(formatTimestamp(notification.at)) + cell(notification.step) +
           cell(notification.audience) + cell(notification.templateName) + cell(channels) +
           "<td class=\"error\">" + htmlText(notification.message) + "</td></tr>\n";
  }
  out += "</table>\n";
}

void writePreflight(const RunRecord& record, std::string& out) {
  if (record.preflights.empty()) {
    return;
  }
  out += "<h2>Preflight</h2>\n";
  for (const PreflightRecord& preflight : record.preflights) {
    out += "<p>" + htmlText(formatTimestamp(preflight.at)) + " " +
           badge(preflight.ok ? "ok" : "failed", preflight.ok ? "good" : "bad") + "</p>\n";
    out += "<table class=\"preflight\">\n<tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n";
    for (const PreflightCheck& check : preflight.checks) {
      out += "<tr>" + cell(check.check) + cell(check.ok ? "ok" : "failed") + cell(check.detail) +
             "</tr>\n";
    }
    for (const std::string& warning : preflight.warnings) {
      out += "<tr><td>warning</td><td></td>" + cell(warning) + "</tr>\n";
    }
    out += "</table>\n";
  }
}

void writeResumes(const RunRecord& record, std::string& out) {
  if (record.resumes.empty()) {
    return;
  }
  out +=
      "<h2>Resumes</h2>\n<table class=\"resumes\">\n<tr><th>Time</th><th>Agent pid</th>"
      "<th>Interrupted steps</th><th>Orphan process groups stopped</th></tr>\n";
  for (const ResumeRecord& resume : record.resumes) {
    std::string interrupted;
    for (const InterruptedStep& step : resume.interrupted) {
      interrupted += (interrupted.empty() ? "" : "; ") + step.step + " (" + step.phase +
                     "): " + step.resolution;
    }
    std::string orphans;
    for (std::int64_t group : resume.orphansStopped) {
      orphans += (orphans.empty() ? "" : ", ") + std::to_string(group);
    }
    out += "<tr>" + cell(formatTimestamp(resume.at)) +
           cell(resume.agentPid ? std::to_string(*resume.agentPid) : "") + cell(interrupted) +
           cell(orphans) + "</tr>\n";
  }
  out += "</table>\n";
}

}  // namespace

std::string renderHtml(const RunRecord& record) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>Lifeboat " + htmlText(detail::modeName(record)) + " " +
         htmlText(detail::runbookLabel(record)) + " " + htmlText(record.runId) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  writeHeader(record, out);
  out += "<h2>Timeline</h2>\n" + detail::renderTimeline(record);
  writeSteps(record, out);
  writeOutputs(record, out);
  writeObjectives(record, out);
  writeDecisions(record, out);
  writeNotifications(record, out);
  writePreflight(record, out);
  writeResumes(record, out);
  out += "<p class=\"muted\">Report version " + std::to_string(kReportVersion) +
         ", made from the run's journal by Lifeboat.</p>\n</body>\n</html>\n";
  return out;
}

}  // namespace lifeboat::report
