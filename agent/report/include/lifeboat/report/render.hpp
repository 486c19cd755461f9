#pragma once
// The report formats of a run (docs/reports.md). Each renderer is a pure
// function of the record: same record, same bytes. They cannot fail; text
// that came from the journal (step names, errors, child output, rationales)
// is escaped for the format and stripped of control characters the format
// cannot carry. Any thread may call them.

#include <ostream>
#include <string>

#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report {

// The `report_version` renderJson() writes. A consumer refuses versions it
// does not know; adding keys does not change it, changing one's meaning does.
inline constexpr int kReportVersion = 1;

// report.json: one JSON object, indented two spaces, ending in a newline.
// Every documented key is always present (null when not known).
std::string renderJson(const RunRecord& record);
// The same, written to `out` as it is made (a long run's report is never
// held whole in memory).
void renderJson(const RunRecord& record, std::ostream& out);

// JUnit XML for CI (GitLab, Jenkins): one <testsuite>, a <testcase> per step,
// rollback, objective, and (drills with cleanup steps) one for the cleanup.
std::string renderJunit(const RunRecord& record);

// One self-contained HTML page (inline CSS and SVG, no script, nothing
// fetched): header, verdicts, a timeline of the steps, and tables.
std::string renderHtml(const RunRecord& record);

// The summary `lifeboat show RUN` prints: plain text, safe for a terminal.
std::string renderText(const RunRecord& record);

}  // namespace lifeboat::report
