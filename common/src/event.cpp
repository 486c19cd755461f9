#include "lifeboat/common/event.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

namespace lifeboat {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 35> kKnownTypes{
    event_type::kRunStarted,        event_type::kRunFinished,        event_type::kRunResumed,
    event_type::kRunCancelling,     event_type::kPreflightFinished,  event_type::kStepStarted,
    event_type::kStepProcess,       event_type::kStepOutput,         event_type::kStepFinished,
    event_type::kObjectiveMeasured, event_type::kObjectiveEvaluated, event_type::kDecisionRequested,
    event_type::kDecisionMade,      event_type::kNotifyRequested,    event_type::kHello,
    event_type::kHeartbeat,         event_type::kWatchStarted,       event_type::kWatchReloaded,
    event_type::kWatchStopped,      event_type::kOutageDeclared,     event_type::kOutageSuppressed,
    event_type::kOutageRecovered,   event_type::kAnomalyDetected,    event_type::kAnomalyCleared,
    event_type::kFlappingStarted,   event_type::kFlappingStopped,    event_type::kFailoverPending,
    event_type::kFailoverApproved,  event_type::kFailoverSkipped,    event_type::kFailoverStarted,
    event_type::kFailoverFinished,  event_type::kAgentMode,          event_type::kCheckBroken,
    event_type::kCheckRepaired,     event_type::kStreamGap,
};

// Reads `count` decimal digits at text[at...]; -1 if any is not a digit.
int readDigits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return -1;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Error timestampError(std::string_view text, std::string_view why) {
  return Error{"invalid timestamp \"" + std::string(text.substr(0, 64)) + "\": " + std::string(why),
               "write RFC 3339 UTC with milliseconds, e.g. 2026-11-24T22:56:10.123Z"};
}

Error fieldError(std::string_view field, std::string_view why) {
  return Error{"event field \"" + std::string(field) + "\" " + std::string(why), ""};
}

// The member `name` of `object` if it is a string; an Error naming it if it is
// missing or not a string.
Result<std::string> requireString(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return fieldError(name, "is missing");
  }
  if (!value->is_string()) {
    return fieldError(name, "must be a string");
  }
  return std::string(value->get_string());
}

// False when `value` holds a number JSON cannot write back: 1e999 parses to
// infinity, which Boost.JSON would serialize as the non-JSON `Infinity`.
// (Boost.JSON's parser limits nesting to 32, so the recursion is bounded.)
bool allNumbersFinite(const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      return std::isfinite(value.get_double());
    case json::kind::object:
      for (const auto& member : value.get_object()) {
        if (!allNumbersFinite(member.value())) {
          return false;
        }
      }
      return true;
    case json::kind::array:
      for (const json::value& element : value.get_array()) {
        if (!allNumbersFinite(element)) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

std::span<const std::string_view> knownEventTypes() {
  return kKnownTypes;
}

bool isKnownEventType(std::string_view type) {
  return std::find(kKnownTypes.begin(), kKnownTypes.end(), type) != kKnownTypes.end();
}

std::string formatTimestamp(Timestamp time) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock{time - day};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02lld.%03lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()),
                static_cast<long long>(clock.subseconds().count()));
  return text;
}

Result<Timestamp> parseTimestamp(std::string_view text) {
  using namespace std::chrono;
  // 2026-11-24T22:56:10.123Z (24) or 2026-11-24T22:56:10.123+00:00 (29)
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd";
  if (text.size() == kShape.size() + 1) {
    if (text.back() != 'Z') {
      return timestampError(text, "must end in Z or +00:00");
    }
  } else if (text.size() == kShape.size() + 6) {
    if (text.substr(kShape.size()) != "+00:00") {
      return timestampError(text, "must be UTC: end in Z or +00:00");
    }
  } else {
    return timestampError(text, "expected the form YYYY-MM-DDTHH:MM:SS.mmmZ");
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
      return timestampError(text, "expected the form YYYY-MM-DDTHH:MM:SS.mmmZ");
    }
  }
  const int yearValue = readDigits(text, 0, 4);
  const int monthValue = readDigits(text, 5, 2);
  const int dayValue = readDigits(text, 8, 2);
  const int hourValue = readDigits(text, 11, 2);
  const int minuteValue = readDigits(text, 14, 2);
  const int secondValue = readDigits(text, 17, 2);
  const int millisecondValue = readDigits(text, 20, 3);
  if (monthValue < 1 || monthValue > 12) {
    return timestampError(text, "month out of range");
  }
  const year_month_day date{year{yearValue}, month{static_cast<unsigned>(monthValue)},
                            day{static_cast<unsigned>(dayValue)}};
  if (!date.ok()) {
    return timestampError(text, "no such day in that month");
  }
  if (hourValue > 23) {
    return timestampError(text, "hour out of range");
  }
  if (minuteValue > 59) {
    return timestampError(text, "minute out of range");
  }
  if (secondValue > 59) {
    return timestampError(text, "second out of range (leap seconds are not accepted)");
  }
  return Timestamp{sys_days{date} + hours{hourValue} + minutes{minuteValue} + seconds{secondValue} +
                   milliseconds{millisecondValue}};
}

std::string encodeEvent(const Event& event) {
  json::object line;
  line.reserve(8);
  line.emplace("v", event.version);
  line.emplace("agent", event.agent);
  line.emplace("run", event.run);
  line.emplace("seq", event.seq);
  line.emplace("ts", formatTimestamp(event.time));
  line.emplace("type", event.type);
  if (!event.step.empty()) {
    line.emplace("step", event.step);
  }
  line.emplace("data", event.data);
  return json::serialize(line);
}

Result<Event> decodeEvent(std::string_view line) {
  if (line.size() > kMaxEventLineBytes) {
    return Error{"event line is " + std::to_string(line.size()) + " bytes, over the limit of " +
                     std::to_string(kMaxEventLineBytes),
                 "large output belongs in a file in the run directory, not in an event"};
  }
  json::error_code ec;
  json::value parsed = json::parse(line, ec);
  if (ec) {
    return Error{"event line is not valid JSON: " + ec.message(), ""};
  }
  if (!parsed.is_object()) {
    return Error{"event line is not a JSON object", ""};
  }
  const json::object& object = parsed.get_object();
  Event event;

  const json::value* version = object.if_contains("v");
  if (version == nullptr) {
    return fieldError("v", "is missing");
  }
  if (!version->is_int64() && !version->is_uint64()) {
    return fieldError("v", "must be an integer");
  }
  if (!version->is_int64() || version->get_int64() != kEventVersion) {
    return Error{"event field \"v\" is " + json::serialize(*version) +
                     ", but this reader understands only version " + std::to_string(kEventVersion),
                 "upgrade the reader (agent or coordinator) to one that knows this version"};
  }

  Result<std::string> agent = requireString(object, "agent");
  if (!agent) {
    return agent.error();
  }
  if (agent->empty()) {
    return fieldError("agent", "must not be empty");
  }
  event.agent = std::move(*agent);

  Result<std::string> run = requireString(object, "run");
  if (!run) {
    return run.error();
  }
  event.run = std::move(*run);

  const json::value* seq = object.if_contains("seq");
  if (seq == nullptr) {
    return fieldError("seq", "is missing");
  }
  if (seq->is_uint64()) {
    event.seq = seq->get_uint64();
  } else if (seq->is_int64() && seq->get_int64() >= 0) {
    event.seq = static_cast<std::uint64_t>(seq->get_int64());
  } else {
    return fieldError("seq", "must be a non-negative integer");
  }

  Result<std::string> ts = requireString(object, "ts");
  if (!ts) {
    return ts.error();
  }
  Result<Timestamp> time = parseTimestamp(*ts);
  if (!time) {
    return Error{"event field \"ts\": " + time.error().message, time.error().hint};
  }
  event.time = *time;

  Result<std::string> type = requireString(object, "type");
  if (!type) {
    return type.error();
  }
  if (type->empty()) {
    return fieldError("type", "must not be empty");
  }
  event.type = std::move(*type);

  if (object.contains("step")) {
    Result<std::string> step = requireString(object, "step");
    if (!step) {
      return step.error();
    }
    event.step = std::move(*step);
  }

  const json::value* data = object.if_contains("data");
  if (data == nullptr) {
    return fieldError("data", "is missing");
  }
  if (!data->is_object()) {
    return fieldError("data", "must be an object");
  }
  if (!allNumbersFinite(*data)) {
    return fieldError("data", "holds a number too large for a double (e.g. 1e999)");
  }
  event.data = data->get_object();
  return event;
}

}  // namespace lifeboat
