#pragma once
// Pieces of the HTML report (render_html.cpp) kept in files of their own.

#include <string>
#include <string_view>

#include "lifeboat/report/run_record.hpp"

namespace lifeboat::report::detail {

// The timeline as an inline <svg>: one bar (a <rect class="bar ...">) per
// step execution that started, the outage start, the RTO budget line and the
// restored marker, and a labelled time axis.
std::string renderTimeline(const RunRecord& record);

// The fill colour of a status, shared by bars and badges.
std::string_view statusColour(StepStatus status);

}  // namespace lifeboat::report::detail
