#pragma once
// The one duration syntax of Lifeboat: integer amounts with units, largest
// first, e.g. `250ms`, `90s`, `5m`, `1h30m`, `2d`. Units: d, h, m, s, ms.

#include <chrono>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat {

using Milliseconds = std::chrono::milliseconds;

// Longest duration accepted anywhere (a year): larger values are typos.
inline constexpr Milliseconds kMaxDuration = std::chrono::hours(24 * 366);

// Parses `text`; the error says what is wrong and shows a valid form.
Result<Milliseconds> parseDuration(std::string_view text);

// The canonical form parseDuration accepts, e.g. 5400000ms -> "1h30m", 0 -> "0s".
std::string formatDuration(Milliseconds duration);

}  // namespace lifeboat
