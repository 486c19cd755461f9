#include "lifeboat/common/event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <random>

namespace lifeboat {
namespace {

namespace json = boost::json;
using namespace std::chrono;
using ::testing::HasSubstr;

Timestamp at(int y, unsigned m, unsigned d, int h, int min, int s, int ms) {
  return Timestamp{sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min} + seconds{s} +
                   milliseconds{ms}};
}

Event sampleEvent() {
  Event event;
  event.agent = "db-eu-1";
  event.run = "20261124T225610Z-k3f9";
  event.seq = 42;
  event.time = at(2026, 11, 24, 22, 56, 10, 123);
  event.type = std::string(event_type::kStepFinished);
  event.step = "promote";
  event.data = json::object{{"status", "ok"}, {"exit_code", 0}};
  return event;
}

// A valid line with one member replaced (or removed when `value` is empty).
std::string lineWith(std::string_view key, std::string_view value) {
  json::object object = json::parse(encodeEvent(sampleEvent())).as_object();
  if (value.empty()) {
    object.erase(key);
  } else {
    object[key] = json::parse(value);
  }
  return json::serialize(object);
}

std::string decodeErrorFor(std::string_view line) {
  Result<Event> decoded = decodeEvent(line);
  EXPECT_FALSE(decoded.ok()) << line;
  return decoded.ok() ? std::string() : decoded.error().message;
}

TEST(EventEncode, ExactBytesForAFixedEvent) {
  EXPECT_EQ(encodeEvent(sampleEvent()),
            R"({"v":1,"agent":"db-eu-1","run":"20261124T225610Z-k3f9","seq":42,)"
            R"("ts":"2026-11-24T22:56:10.123Z","type":"step.finished","step":"promote",)"
            R"("data":{"status":"ok","exit_code":0}})");
}

TEST(EventEncode, OmitsEmptyStepAndEscapesStrings) {
  Event event = sampleEvent();
  event.step.clear();
  event.run.clear();
  event.type = std::string(event_type::kHeartbeat);
  event.agent = "a\"b\n";
  event.data = {};
  EXPECT_EQ(encodeEvent(event),
            R"({"v":1,"agent":"a\"b\n","run":"","seq":42,"ts":"2026-11-24T22:56:10.123Z",)"
            R"("type":"heartbeat","data":{}})");
}

TEST(EventDecode, RoundTripsAFixedEvent) {
  Result<Event> decoded = decodeEvent(encodeEvent(sampleEvent()));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, sampleEvent());
}

TEST(EventDecode, IgnoresUnknownTopLevelKeysAndAcceptsUnknownTypes) {
  std::string line = lineWith("future", R"({"x":1})");
  Result<Event> decoded = decodeEvent(line);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, sampleEvent());

  decoded = decodeEvent(lineWith("type", R"("step.retried")"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->type, "step.retried");
  EXPECT_FALSE(isKnownEventType(decoded->type));
}

TEST(EventDecode, AcceptsPlusZeroOffsetAndLargeSeq) {
  Result<Event> decoded = decodeEvent(lineWith("ts", R"("2026-11-24T22:56:10.123+00:00")"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->time, sampleEvent().time);

  decoded = decodeEvent(lineWith("seq", "18446744073709551615"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->seq, 18446744073709551615ULL);
}

TEST(EventDecode, RejectsUnknownVersion) {
  EXPECT_THAT(decodeErrorFor(lineWith("v", "2")), HasSubstr("\"v\" is 2"));
  EXPECT_THAT(decodeErrorFor(lineWith("v", "0")), HasSubstr("\"v\" is 0"));
  EXPECT_THAT(decodeErrorFor(lineWith("v", "\"1\"")), HasSubstr("\"v\" must be an integer"));
  EXPECT_THAT(decodeErrorFor(lineWith("v", "1.0")), HasSubstr("\"v\" must be an integer"));
}

TEST(EventDecode, RejectsMissingRequiredFieldsNamingThem) {
  for (std::string_view field : {"v", "agent", "run", "seq", "ts", "type", "data"}) {
    EXPECT_THAT(decodeErrorFor(lineWith(field, "")),
                HasSubstr("\"" + std::string(field) + "\" is missing"));
  }
}

TEST(EventDecode, RejectsMistypedFieldsNamingThem) {
  EXPECT_THAT(decodeErrorFor(lineWith("agent", "7")), HasSubstr("\"agent\" must be a string"));
  EXPECT_THAT(decodeErrorFor(lineWith("agent", "\"\"")), HasSubstr("\"agent\" must not be empty"));
  EXPECT_THAT(decodeErrorFor(lineWith("run", "null")), HasSubstr("\"run\" must be a string"));
  EXPECT_THAT(decodeErrorFor(lineWith("ts", "1700000000")), HasSubstr("\"ts\" must be a string"));
  EXPECT_THAT(decodeErrorFor(lineWith("type", "[]")), HasSubstr("\"type\" must be a string"));
  EXPECT_THAT(decodeErrorFor(lineWith("type", "\"\"")), HasSubstr("\"type\" must not be empty"));
  EXPECT_THAT(decodeErrorFor(lineWith("step", "{}")), HasSubstr("\"step\" must be a string"));
  EXPECT_THAT(decodeErrorFor(lineWith("data", "[]")), HasSubstr("\"data\" must be an object"));
  EXPECT_THAT(decodeErrorFor(lineWith("data", "\"{}\"")), HasSubstr("\"data\" must be an object"));
}

TEST(EventDecode, RejectsSeqThatIsNotANonNegativeInteger) {
  for (std::string_view seq :
       {"-1", "1.5", "1.0", "1e3", "\"7\"", "true", "null", "18446744073709551616"}) {
    std::string line = lineWith("seq", "0");
    // Splice the raw text in: json::parse would turn 2^64 into a double first.
    line.replace(line.find("\"seq\":0"), 7, "\"seq\":" + std::string(seq));
    EXPECT_THAT(decodeErrorFor(line), HasSubstr("\"seq\" must be a non-negative integer")) << seq;
  }
}

TEST(EventDecode, RejectsBadTimestampsNamingTheField) {
  EXPECT_THAT(decodeErrorFor(lineWith("ts", R"("2026-02-29T00:00:00.000Z")")), HasSubstr("\"ts\""));
}

TEST(EventDecode, RejectsNonObjectsBadJsonAndOverlongLines) {
  EXPECT_THAT(decodeErrorFor("[1,2]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(decodeErrorFor(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(decodeErrorFor(R"({"v":1,)"), HasSubstr("not valid JSON"));
  EXPECT_THAT(decodeErrorFor(encodeEvent(sampleEvent()) + "x"), HasSubstr("not valid JSON"));

  Event big = sampleEvent();
  big.data = json::object{{"text", std::string(kMaxEventLineBytes, 'x')}};
  EXPECT_THAT(decodeErrorFor(encodeEvent(big)), HasSubstr("over the limit"));

  // Exactly at the limit is accepted.
  std::string line = encodeEvent(sampleEvent());
  Event fitting = sampleEvent();
  fitting.data = json::object{{"status", "ok"},
                              {"exit_code", 0},
                              {"pad", std::string(kMaxEventLineBytes - line.size() - 9, 'y')}};
  std::string fittingLine = encodeEvent(fitting);
  ASSERT_EQ(fittingLine.size(), kMaxEventLineBytes);
  EXPECT_TRUE(decodeEvent(fittingLine).ok());
}

// Found by fuzz/event_fuzzer.cpp: 1e999 parses to infinity, which would be
// written back as `Infinity` (not JSON), so the store could not read it again.
TEST(EventDecode, RejectsNumbersOutsideTheDoubleRange) {
  // Built as text: parsing the data first would already make it infinite.
  const std::string line = encodeEvent(sampleEvent());
  const std::string head = line.substr(0, line.find("\"data\":") + 7);
  EXPECT_THAT(decodeErrorFor(head + R"({"value_ms":1e999}})"), HasSubstr("too large"));
  EXPECT_THAT(decodeErrorFor(head + R"({"a":[1,{"b":-1e400}]}})"), HasSubstr("too large"));
  EXPECT_TRUE(decodeEvent(head + R"({"value_ms":1.5e300,"n":-2}})").ok());
}

TEST(Timestamp, FormatsEdgeCases) {
  EXPECT_EQ(formatTimestamp(at(2024, 2, 29, 12, 0, 0, 0)), "2024-02-29T12:00:00.000Z");
  EXPECT_EQ(formatTimestamp(at(2026, 12, 31, 23, 59, 59, 999)), "2026-12-31T23:59:59.999Z");
  EXPECT_EQ(formatTimestamp(at(9999, 12, 31, 23, 59, 59, 999)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(formatTimestamp(at(0, 1, 1, 0, 0, 0, 0)), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTimestamp(Timestamp{}), "1970-01-01T00:00:00.000Z");
  // Before the epoch the milliseconds still count forward within the second.
  EXPECT_EQ(formatTimestamp(Timestamp{milliseconds{-1}}), "1969-12-31T23:59:59.999Z");
}

TEST(Timestamp, ParsesEdgeCases) {
  struct Case {
    std::string_view text;
    Timestamp expected;
  };
  for (const Case& c : {
           Case{"2024-02-29T12:00:00.000Z", at(2024, 2, 29, 12, 0, 0, 0)},
           Case{"2000-02-29T00:00:00.000Z", at(2000, 2, 29, 0, 0, 0, 0)},
           Case{"2026-12-31T23:59:59.999Z", at(2026, 12, 31, 23, 59, 59, 999)},
           Case{"9999-12-31T23:59:59.999Z", at(9999, 12, 31, 23, 59, 59, 999)},
           Case{"0000-01-01T00:00:00.000Z", at(0, 1, 1, 0, 0, 0, 0)},
           Case{"1969-12-31T23:59:59.999Z", Timestamp{milliseconds{-1}}},
           Case{"2026-04-30T01:02:03.004+00:00", at(2026, 4, 30, 1, 2, 3, 4)},
       }) {
    Result<Timestamp> parsed = parseTimestamp(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected) << c.text;
    if (c.text.back() == 'Z') {
      EXPECT_EQ(formatTimestamp(*parsed), c.text);
    }
  }
}

TEST(Timestamp, RejectsWhatWeDoNotWrite) {
  for (std::string_view text : {
           "2023-02-29T00:00:00.000Z",       // not a leap year
           "1900-02-29T00:00:00.000Z",       // century, not a leap year
           "2026-04-31T00:00:00.000Z",       // April has 30 days
           "2026-00-10T00:00:00.000Z",       // month 0
           "2026-13-10T00:00:00.000Z",       // month 13
           "2026-01-00T00:00:00.000Z",       // day 0
           "2026-01-32T00:00:00.000Z",       // day 32
           "2026-01-01T24:00:00.000Z",       // hour 24
           "2026-01-01T23:60:00.000Z",       // minute 60
           "2016-12-31T23:59:60.000Z",       // leap second
           "2026-01-01T00:00:00Z",           // no fraction
           "2026-01-01T00:00:00.12Z",        // two digits
           "2026-01-01T00:00:00.1234Z",      // four digits
           "2026-01-01t00:00:00.000Z",       // lower-case t
           "2026-01-01T00:00:00.000z",       // lower-case z
           "2026-01-01 00:00:00.000Z",       // space
           "2026-01-01T00:00:00.000",        // no zone
           "2026-01-01T00:00:00.000+01:00",  // not UTC
           "2026-01-01T00:00:00.000-00:00",  // RFC 3339's "unknown offset"
           "10000-01-01T00:00:00.000Z",      // five-digit year
           "+2026-01-01T00:00:00.000Z",      // sign
           "2026-1-01T00:00:00.000Z",        // one-digit month
           "2026-01-01T00:00:0a.000Z",       // letter
           "",
       }) {
    EXPECT_FALSE(parseTimestamp(text).ok()) << text;
  }
  EXPECT_THAT(parseTimestamp("2023-02-29T00:00:00.000Z").error().message, HasSubstr("no such day"));
  EXPECT_THAT(parseTimestamp("2016-12-31T23:59:60.000Z").error().message, HasSubstr("leap second"));
}

TEST(EventTypes, ListIsCompleteAndKnown) {
  EXPECT_EQ(knownEventTypes().size(), 35u);
  for (std::string_view type : knownEventTypes()) {
    EXPECT_TRUE(isKnownEventType(type)) << type;
  }
  EXPECT_TRUE(isKnownEventType("objective.evaluated"));
  EXPECT_FALSE(isKnownEventType("step"));
  EXPECT_FALSE(isKnownEventType(""));
}

// Property: any event we can build (valid UTF-8 strings, any seq, any
// millisecond in 0000..9999, nested data) survives encode + decode unchanged.
TEST(EventProperty, TenThousandRandomEventsRoundTrip) {
  std::mt19937 random(20261124);
  auto pick = [&](std::size_t below) {
    return std::uniform_int_distribution<std::size_t>(0, below - 1)(random);
  };
  // Pieces to build strings from: controls, quotes, backslashes, multi-byte UTF-8.
  const std::vector<std::string> pieces{"a", "Z",  "0",  "-",    " ",      "\"",   "\\",
                                        "/", "\n", "\t", "\x01", "\x1f",   "\x7f", "é",
                                        "€", "😀",  "{",  "}",    "\u2028", ":",    ","};
  auto randomString = [&](std::size_t maxLength) {
    std::string text;
    const std::size_t length = pick(maxLength + 1);
    for (std::size_t i = 0; i < length; ++i) {
      text += pieces[pick(pieces.size())];
    }
    return text;
  };
  std::function<json::value(int)> randomValue = [&](int depth) -> json::value {
    switch (pick(depth > 2 ? 6 : 8)) {
      case 0:
        return nullptr;
      case 1:
        return pick(2) == 1;
      case 2:
        return static_cast<std::int64_t>(random()) - (std::int64_t{1} << 31);
      case 3:
        return static_cast<std::uint64_t>(random()) << 32 | random();
      case 4:
        return static_cast<double>(pick(1000000)) / 8.0;  // exact in binary
      case 5:
        return json::string(randomString(12));
      case 6: {
        json::array array;
        for (std::size_t i = pick(4); i > 0; --i) {
          array.push_back(randomValue(depth + 1));
        }
        return array;
      }
      default: {
        json::object object;
        for (std::size_t i = pick(4); i > 0; --i) {
          object[randomString(6)] = randomValue(depth + 1);
        }
        return object;
      }
    }
  };
  const std::int64_t first = sys_days{year{0} / 1 / 1}.time_since_epoch() / milliseconds{1};
  const std::int64_t last =
      (sys_days{year{10000} / 1 / 1}.time_since_epoch() / milliseconds{1}) - 1;

  for (int i = 0; i < 10000; ++i) {
    Event event;
    event.agent = "agent-" + randomString(10);
    event.run = randomString(20);
    event.seq = static_cast<std::uint64_t>(random()) << 32 | random();
    event.time =
        Timestamp{milliseconds{std::uniform_int_distribution<std::int64_t>(first, last)(random)}};
    event.type = std::string(knownEventTypes()[pick(knownEventTypes().size())]);
    event.step = pick(3) == 0 ? std::string() : randomString(8);
    for (std::size_t k = pick(5); k > 0; --k) {
      event.data[randomString(6)] = randomValue(0);
    }
    const std::string line = encodeEvent(event);
    ASSERT_EQ(line.find('\n'), std::string::npos) << line;
    Result<Event> decoded = decodeEvent(line);
    ASSERT_TRUE(decoded.ok()) << line << ": " << decoded.error().message;
    ASSERT_EQ(*decoded, event) << line;
    ASSERT_EQ(encodeEvent(*decoded), line);
  }
}

}  // namespace
}  // namespace lifeboat
