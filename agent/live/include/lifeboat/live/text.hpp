#pragma once
// Text helpers of the live view, public so that their contracts are tested
// and so that other terminal output can share them.

#include <chrono>
#include <string>
#include <string_view>

namespace lifeboat::live {

// A compact, human form for elapsed times and measured durations:
// "850ms", "12.3s" (tenths, truncated), "1m03s", "1h02m03s"; negative values
// get a leading '-'. Targets the user wrote (RTO "5m") use
// lifeboat::formatDuration instead, so they read as in the runbook.
std::string formatElapsed(std::chrono::milliseconds duration);

// `text` made safe to write to a terminal on one line: every control
// character (C0 including ESC, DEL, and the C1 range U+0080..U+009F) becomes
// one space (tab) or '?', and every byte that is not part of valid UTF-8
// becomes '?'. Newlines are control characters too: split lines first.
std::string terminalSafe(std::string_view text);

// Columns `text` occupies on a terminal, assuming valid UTF-8 without
// control characters (see terminalSafe): wide East Asian characters and
// emoji count two, everything else one.
int displayWidth(std::string_view text);

// The longest prefix of `text` (valid UTF-8) that fits in `columns`, never
// splitting a character; "…" marks a cut (and counts against `columns`).
std::string truncateToWidth(std::string_view text, int columns);

}  // namespace lifeboat::live
