#include "timestamps.hpp"

#include <cstdio>
#include <ctime>

namespace lifeboat::postgres {

std::string sqlTimestampText(std::string_view expression) {
  return "to_char((" + std::string(expression) +
         ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

std::string formatTimestamp(SystemTime time) {
  const auto since = time.time_since_epoch().count();
  std::int64_t seconds = since / 1'000'000;
  std::int64_t micros = since % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  const std::time_t whole = static_cast<std::time_t>(seconds);
  std::tm parts{};
  ::gmtime_r(&whole, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<long long>(micros));
  return text;
}

std::optional<SystemTime> parseTimestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > text.size()) {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
             minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    int count = 0;
    while (at < text.size() - 1 && count < 6) {
      const auto digit = digits(at, 1);
      if (!digit) {
        return std::nullopt;
      }
      micros = micros * 10 + *digit;
      ++at;
      ++count;
    }
    if (count == 0) {
      return std::nullopt;
    }
    for (; count < 6; ++count) {
      micros *= 10;
    }
  }
  if (at != text.size() - 1) {
    return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = *year - 1900;
  parts.tm_mon = *month - 1;
  parts.tm_mday = *day;
  parts.tm_hour = *hour;
  parts.tm_min = *minute;
  parts.tm_sec = *second;
  const std::time_t seconds = ::timegm(&parts);
  return SystemTime(Microseconds(static_cast<std::int64_t>(seconds) * 1'000'000 + micros));
}

SystemTime nowMicroseconds() {
  return std::chrono::time_point_cast<Microseconds>(std::chrono::system_clock::now());
}

}  // namespace lifeboat::postgres
