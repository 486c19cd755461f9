#pragma once
// Timestamps as the canary state file and the plugin's outputs write them:
// RFC 3339, UTC, with microseconds ("2025-01-01T12:00:00.123456Z").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lifeboat::postgres {

using Microseconds = std::chrono::microseconds;
using SystemTime = std::chrono::time_point<std::chrono::system_clock, Microseconds>;

// SQL that turns a timestamptz expression into that text, server-side.
std::string sqlTimestampText(std::string_view expression);

std::string formatTimestamp(SystemTime time);
// Accepts the format above, with 0 to 6 fraction digits; none on anything else.
std::optional<SystemTime> parseTimestamp(std::string_view text);

SystemTime nowMicroseconds();

}  // namespace lifeboat::postgres
