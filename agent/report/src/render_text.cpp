// The summary `lifeboat show RUN` prints (docs/reports.md, "Text"). Every
// text from the journal goes through terminalLine(): a child's output must
// not be able to move the cursor or change colours of the reader's terminal.

#include <algorithm>
#include <vector>

#include "escape.hpp"
#include "format.hpp"
#include "lifeboat/report/render.hpp"

namespace lifeboat::report {

namespace {

using detail::terminalLine;

// Width in terminal columns, counting each UTF-8 sequence as one column.
std::size_t columns(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string padded(const std::string& text, std::size_t width) {
  std::size_t used = columns(text);
  return text + std::string(width > used ? width - used : 0, ' ');
}

using Row = std::vector<std::string>;

std::string table(const std::vector<Row>& rows) {
  std::vector<std::size_t> widths;
  for (const Row& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], columns(row[i]));
    }
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line = "  ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? padded(row[i], widths[i] + 2) : row[i];
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
  }
  return out;
}

Row executionRow(const std::string& label, const Execution& execution) {
  std::string note = execution.status == StepStatus::skipped ? execution.reason : execution.error;
  if (!execution.resolution.empty()) {
    note += (note.empty() ? "" : "; ") + std::string("resume: ") + execution.resolution;
  }
  // A skipped step took no time and made no attempt, whatever the journal counted.
  const bool ran = execution.started();
  std::optional<std::int64_t> duration = detail::executionDurationMs(execution);
  return Row{terminalLine(label), std::string(statusName(execution.status)),
             ran && duration ? detail::durationText(*duration) : "-",
             ran && execution.attempts > 0 ? std::to_string(execution.attempts) : "-",
             terminalLine(detail::firstLine(note))};
}

}  // namespace

std::string renderText(const RunRecord& record) {
  std::string out;
  out += "Run " + terminalLine(record.runId) + " (" + detail::modeName(record) + ") of " +
         terminalLine(detail::runbookLabel(record)) + "\n";
  out +=
      "  service " + terminalLine(record.service) + ", agent " + terminalLine(record.agent) + "\n";
  out += "  runbook " + terminalLine(record.runbookPath) + " (sha256 " +
         terminalLine(record.runbookSha256) + ")\n";
  out += "  started " + formatTimestamp(record.startedAt) + ", outage start " +
         formatTimestamp(record.outageStart) + " (" + terminalLine(record.outageStartSource) +
         ")\n";
  if (record.finishedAt) {
    out += "  finished " + formatTimestamp(*record.finishedAt) + " after " +
           detail::durationText(detail::runDurationMs(record)) + "\n";
  } else {
    out += "  not finished; last event " + formatTimestamp(record.lastEventAt) + "\n";
  }

  out += "\nSteps:\n";
  std::vector<Row> rows{Row{"STEP", "STATUS", "DURATION", "ATTEMPTS", "NOTE"}};
  for (const StepRecord& step : record.steps) {
    rows.push_back(executionRow(step.id, step.execution));
    if (step.rollback) {
      rows.push_back(executionRow("  rollback of " + step.id, *step.rollback));
    }
  }
  out += table(rows);

  if (const auto outputs = detail::stepOutputs(record); !outputs.empty()) {
    out += "\nOutputs:\n";
    std::vector<Row> lines{Row{"STEP", "OUTPUT", "VALUE"}};
    for (const detail::StepOutput& output : outputs) {
      lines.push_back(
          Row{terminalLine(output.step), terminalLine(output.name), terminalLine(output.value)});
    }
    out += table(lines);
  }

  out += "\nObjectives:\n";
  if (record.objectives.empty()) {
    out += "  none set\n";
  }
  for (const ObjectiveRecord& objective : record.objectives) {
    out += "  " + terminalLine(objective.objective) + ": " +
           terminalLine(detail::verdictSummary(objective)) + "\n";
  }

  for (const DecisionRecord& decision : record.decisions) {
    if (decision.made) {
      out += "\nDecision at " + terminalLine(decision.step) + ": " + terminalLine(decision.choice) +
             " by " + terminalLine(decision.by) + " (" + terminalLine(decision.via) +
             "): " + terminalLine(decision.rationale) + "\n";
    } else {
      out += "\nDecision at " + terminalLine(decision.step) + ": waiting\n";
    }
  }
  for (const ResumeRecord& resume : record.resumes) {
    out += "\nResumed at " + formatTimestamp(resume.at) + "\n";
  }

  out += "\nOutcome: " + std::string(outcomeName(record.outcome));
  if (record.exitCode) {
    out += ", exit code " + std::to_string(*record.exitCode);
  }
  out += "\n";
  if (!record.error.empty()) {
    out += "Error: " + terminalLine(record.error) + "\n";
  }
  return out;
}

}  // namespace lifeboat::report
