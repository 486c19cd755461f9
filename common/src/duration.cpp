#include "lifeboat/common/duration.hpp"

#include <array>
#include <cstdint>

namespace lifeboat {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t milliseconds;
};

// Ordered from largest to smallest; "ms" before "m" is resolved by lookahead.
constexpr std::array<Unit, 5> kUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

Error durationError(std::string_view text, std::string_view what) {
  return Error{"invalid duration '" + std::string(text) + "': " + std::string(what),
               "write an integer with a unit (d, h, m, s, ms), largest first, e.g. \"90s\", "
               "\"5m\" or \"1h30m\""};
}

}  // namespace

Result<Milliseconds> parseDuration(std::string_view text) {
  if (text.empty()) {
    return durationError(text, "it is empty");
  }
  std::int64_t total = 0;
  std::size_t position = 0;
  std::size_t previousUnit = 0;  // index into kUnits + 1; 0 = none yet
  while (position < text.size()) {
    if (text[position] < '0' || text[position] > '9') {
      if (text[position] == '-') {
        return durationError(text, "it is negative");
      }
      return durationError(text,
                           "expected a digit at '" + std::string(text.substr(position)) + "'");
    }
    std::int64_t amount = 0;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') {
      amount = amount * 10 + (text[position] - '0');
      if (amount > kMaxDuration.count()) {
        return durationError(text, "it is longer than a year");
      }
      ++position;
    }
    std::size_t unitEnd = position;
    while (unitEnd < text.size() && text[unitEnd] >= 'a' && text[unitEnd] <= 'z') {
      ++unitEnd;
    }
    const std::string_view unitName = text.substr(position, unitEnd - position);
    if (unitName.empty()) {
      if (position == text.size()) {
        return durationError(text, "the number has no unit");
      }
      return durationError(text, "unexpected '" + std::string(1, text[position]) + "'");
    }
    std::size_t unitIndex = 0;
    while (unitIndex < kUnits.size() && kUnits[unitIndex].name != unitName) {
      ++unitIndex;
    }
    if (unitIndex == kUnits.size()) {
      return durationError(text, "unknown unit '" + std::string(unitName) + "'");
    }
    if (unitIndex + 1 <= previousUnit) {
      return durationError(text, "units must go from largest to smallest, each once");
    }
    previousUnit = unitIndex + 1;
    total += amount * kUnits[unitIndex].milliseconds;
    if (total > kMaxDuration.count()) {
      return durationError(text, "it is longer than a year");
    }
    position = unitEnd;
  }
  return Milliseconds(total);
}

std::string formatDuration(Milliseconds duration) {
  std::int64_t remaining = duration.count();
  if (remaining == 0) {
    return "0s";
  }
  std::string text;
  if (remaining < 0) {
    text = "-";
    remaining = -remaining;
  }
  for (const Unit& unit : kUnits) {
    if (remaining >= unit.milliseconds) {
      text += std::to_string(remaining / unit.milliseconds);
      text += unit.name;
      remaining %= unit.milliseconds;
    }
  }
  return text;
}

}  // namespace lifeboat
