// Alertmanager webhooks: parsing a payload shaped like Alertmanager 0.25's,
// the errors for bad ones (with the JSON path), RFC 3339 times, trigger
// matching and the CheckResult an alert stands for. Pure functions: no
// servers, no clock.

#include "lifeboat/watch/alertmanager.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace lifeboat::watch {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  return Timestamp{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
                   milliseconds{ms}};
}

// What Alertmanager 0.25 posts for a group with one firing and one resolved
// alert (captured shape; values made up).
constexpr std::string_view kPayload = R"({
  "receiver": "lifeboat",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HighErrorRate", "service": "orders", "severity": "page"},
      "annotations": {"summary": "5xx above 5%\nfor orders", "runbook": "https://wiki/x"},
      "startsAt": "2026-11-25T04:05:06.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
      "fingerprint": "6f4c1f4d2c0e8a11"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "HighErrorRate", "service": "payments", "severity": "page"},
      "annotations": {},
      "startsAt": "2026-11-25T05:00:00+01:00",
      "endsAt": "2026-11-25T04:30:00.5Z",
      "generatorURL": "",
      "fingerprint": "0a0b0c0d0e0f1011"
    }
  ],
  "groupLabels": {"alertname": "HighErrorRate"},
  "commonLabels": {"alertname": "HighErrorRate", "severity": "page"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"HighErrorRate\"}",
  "truncatedAlerts": 0
})";

TEST(AlertmanagerWebhookTest, ParsesARealLookingPayload) {
  Result<WebhookMessage> message = parseAlertmanagerWebhook(kPayload);
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_EQ(message->version, "4");
  EXPECT_EQ(message->status, "firing");
  EXPECT_EQ(message->receiver, "lifeboat");
  EXPECT_EQ(message->groupKey, "{}:{alertname=\"HighErrorRate\"}");
  EXPECT_EQ(message->commonLabels,
            (LabelList{{"alertname", "HighErrorRate"}, {"severity", "page"}}));
  ASSERT_EQ(message->alerts.size(), 2u);

  const Alert& firing = message->alerts[0];
  EXPECT_EQ(firing.status, "firing");
  EXPECT_EQ(
      firing.labels,
      (LabelList{{"alertname", "HighErrorRate"}, {"service", "orders"}, {"severity", "page"}}));
  EXPECT_EQ(firing.annotations,
            (LabelList{{"summary", "5xx above 5%\nfor orders"}, {"runbook", "https://wiki/x"}}));
  EXPECT_EQ(firing.startsAt, utc(2026, 11, 25, 4, 5, 6, 123));
  EXPECT_FALSE(firing.endsAt.has_value()) << "Go's zero time means no end";
  EXPECT_EQ(firing.fingerprint, "6f4c1f4d2c0e8a11");
  EXPECT_EQ(firing.generatorUrl, "http://prometheus:9090/graph?g0.expr=up");

  const Alert& resolved = message->alerts[1];
  EXPECT_EQ(resolved.status, "resolved");
  EXPECT_EQ(resolved.startsAt, utc(2026, 11, 25, 4, 0, 0));
  ASSERT_TRUE(resolved.endsAt.has_value());
  EXPECT_EQ(*resolved.endsAt, utc(2026, 11, 25, 4, 30, 0, 500));
  EXPECT_TRUE(resolved.annotations.empty());
}

TEST(AlertmanagerWebhookTest, OptionalFieldsMayBeAbsentOrNull) {
  Result<WebhookMessage> message = parseAlertmanagerWebhook(
      R"({"version":"4","status":"resolved","commonLabels":null,"alerts":[
          {"status":"resolved","labels":{},"annotations":null,"startsAt":"2026-01-01T00:00:00Z",
           "endsAt":null,"somethingNew":[1,2,3]}],"futureField":{"x":1}})");
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_EQ(message->receiver, "");
  EXPECT_EQ(message->groupKey, "");
  EXPECT_TRUE(message->commonLabels.empty());
  ASSERT_EQ(message->alerts.size(), 1u);
  EXPECT_TRUE(message->alerts[0].labels.empty());
  EXPECT_FALSE(message->alerts[0].endsAt.has_value());
  EXPECT_EQ(message->alerts[0].fingerprint, "");
  EXPECT_EQ(message->alerts[0].generatorUrl, "");
}

TEST(AlertmanagerWebhookTest, AcceptsAnEmptyAlertList) {
  Result<WebhookMessage> message =
      parseAlertmanagerWebhook(R"({"version":"4","status":"firing","alerts":[]})");
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_TRUE(message->alerts.empty());
}

struct BadCase {
  std::string body;
  std::string message;  // the whole Error::message
};

TEST(AlertmanagerWebhookTest, NamesTheJsonPathOfWhatIsWrong) {
  const std::string alert0 =
      R"({"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-01T00:00:00Z"})";
  const auto wrap = [&](const std::string& third) {
    return R"({"version":"4","status":"firing","alerts":[)" + alert0 + "," + alert0 + "," + third +
           "]}";
  };
  const std::vector<BadCase> cases{
      {"[1]", "Alertmanager webhook: (body): expected a JSON object, got an array"},
      {R"({"status":"firing","alerts":[]})", "Alertmanager webhook: version: missing"},
      {R"({"version":4,"status":"firing","alerts":[]})",
       "Alertmanager webhook: version: expected a string, got a number"},
      {R"({"version":"5","status":"firing","alerts":[]})",
       "Alertmanager webhook: version: expected \"4\", got '5'"},
      {R"({"version":"4","alerts":[]})", "Alertmanager webhook: status: missing"},
      {R"({"version":"4","status":"burning","alerts":[]})",
       "Alertmanager webhook: status: expected \"firing\" or \"resolved\", got 'burning'"},
      {R"({"version":"4","status":"firing"})", "Alertmanager webhook: alerts: missing"},
      {R"({"version":"4","status":"firing","alerts":{}})",
       "Alertmanager webhook: alerts: expected an array, got an object"},
      {R"({"version":"4","status":"firing","receiver":7,"alerts":[]})",
       "Alertmanager webhook: receiver: expected a string, got a number"},
      {R"({"version":"4","status":"firing","commonLabels":{"a":1},"alerts":[]})",
       "Alertmanager webhook: commonLabels.a: expected a string, got a number"},
      {wrap("3"), "Alertmanager webhook: alerts[2]: expected an object, got a number"},
      {wrap(R"({"labels":{},"startsAt":"2026-01-01T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].status: missing"},
      {wrap(R"({"status":"firing","startsAt":"2026-01-01T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].labels: missing"},
      {wrap(R"({"status":"firing","labels":["a"],"startsAt":"2026-01-01T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].labels: expected an object of strings, got an array"},
      {wrap(R"({"status":"firing","labels":{"severity":true},"startsAt":"2026-01-01T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].labels.severity: expected a string, got a boolean"},
      {wrap(R"({"status":"firing","labels":{},"annotations":{"s":{}},
                "startsAt":"2026-01-01T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].annotations.s: expected a string, got an object"},
      {wrap(R"({"status":"firing","labels":{}})"),
       "Alertmanager webhook: alerts[2].startsAt: missing"},
      {wrap(R"({"status":"firing","labels":{},"startsAt":"yesterday"})"),
       "Alertmanager webhook: alerts[2].startsAt: not an RFC 3339 time: 'yesterday'"},
      {wrap(R"({"status":"firing","labels":{},"startsAt":1764043506})"),
       "Alertmanager webhook: alerts[2].startsAt: expected an RFC 3339 time string, got a number"},
      {wrap(R"({"status":"resolved","labels":{},"startsAt":"2026-01-01T00:00:00Z",
                "endsAt":"2026-02-30T00:00:00Z"})"),
       "Alertmanager webhook: alerts[2].endsAt: not an RFC 3339 time: '2026-02-30T00:00:00Z'"},
      {wrap(R"({"status":"firing","labels":{},"startsAt":"2026-01-01T00:00:00Z",
                "fingerprint":12})"),
       "Alertmanager webhook: alerts[2].fingerprint: expected a string, got a number"},
  };
  for (const BadCase& bad : cases) {
    SCOPED_TRACE(bad.body);
    Result<WebhookMessage> message = parseAlertmanagerWebhook(bad.body);
    ASSERT_FALSE(message.ok());
    EXPECT_EQ(message.error().message, bad.message);
    EXPECT_FALSE(message.error().hint.empty());
  }
}

TEST(AlertmanagerWebhookTest, RefusesWhatIsNotJson) {
  for (std::string_view body : {"", "{", "not json", "{\"version\":\"4\",}", "\xff\xfe"}) {
    SCOPED_TRACE(std::string(body));
    Result<WebhookMessage> message = parseAlertmanagerWebhook(body);
    ASSERT_FALSE(message.ok());
    EXPECT_TRUE(
        message.error().message.starts_with("Alertmanager webhook: the body is not valid "
                                            "JSON: "))
        << message.error().message;
  }
}

TEST(AlertmanagerWebhookTest, RefusesDeepNestingInsteadOfRecursing) {
  const std::string deep = R"({"version":"4","status":"firing","alerts":[],"x":)" +
                           std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_FALSE(parseAlertmanagerWebhook(deep).ok());
}

TEST(AlertmanagerWebhookTest, ErrorsDoNotQuoteLabelValues) {
  Result<WebhookMessage> message = parseAlertmanagerWebhook(
      R"({"version":"4","status":"firing","alerts":[{"status":"firing",
          "labels":{"token":"s3cret","n":5},"startsAt":"x"}]})");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message.find("s3cret"), std::string::npos);
}

TEST(Rfc3339Test, ParsesFractionsOfAnyLengthAndOffsets) {
  struct Case {
    std::string_view text;
    Timestamp expected;
  };
  const Timestamp base = utc(2026, 11, 25, 4, 5, 6);
  const std::vector<Case> cases{
      {"2026-11-25T04:05:06Z", base},
      {"2026-11-25T04:05:06.1Z", base + 100ms},
      {"2026-11-25T04:05:06.12Z", base + 120ms},
      {"2026-11-25T04:05:06.123Z", base + 123ms},
      {"2026-11-25T04:05:06.123456789Z", base + 123ms},  // truncated, not rounded
      {"2026-11-25T04:05:06.999999999Z", base + 999ms},
      {"2026-11-25T04:05:06.123456789012Z", base + 123ms},
      {"2026-11-25T05:05:06+01:00", base},
      {"2026-11-25T05:05:06.123+01:00", base + 123ms},
      {"2026-11-24T23:35:06-04:30", base},
      {"2026-11-25T04:05:06+00:00", base},
      {"2026-11-25T04:05:06-00:00", base},
      {"2026-11-25t04:05:06z", base},
      {"2026-11-25T00:05:06+23:59", utc(2026, 11, 24, 0, 6, 6)},
      {"2028-02-29T12:00:00Z", utc(2028, 2, 29, 12, 0, 0)},
      {"0001-01-01T00:00:00Z", utc(1, 1, 1, 0, 0, 0)},
      {"2027-01-01T00:30:00+01:00", utc(2026, 12, 31, 23, 30, 0)},  // across a year
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    Result<Timestamp> time = parseRfc3339(c.text);
    ASSERT_TRUE(time.ok()) << time.error().message;
    EXPECT_EQ(*time, c.expected) << formatTimestamp(*time);
  }
}

TEST(Rfc3339Test, RefusesWhatIsNotRfc3339) {
  for (std::string_view text : {"",
                                "2026-11-25",
                                "2026-11-25T04:05:06",
                                "2026-11-25 04:05:06Z",
                                "2026-11-25T04:05:06.Z",
                                "2026-11-25T04:05:06.12a3Z",
                                "2026-11-25T04:05:06+0100",
                                "2026-11-25T04:05:06+01",
                                "2026-11-25T04:05:06+24:00",
                                "2026-11-25T04:05:06+01:60",
                                "2026-11-25T04:05:60Z",
                                "2026-11-25T24:00:00Z",
                                "2026-13-01T00:00:00Z",
                                "2027-02-29T00:00:00Z",
                                "2026-11-25T04:05:06ZZ",
                                "2026-11-25T04:05:06Z ",
                                " 2026-11-25T04:05:06Z",
                                "26-11-25T04:05:06Z",
                                "2026-1-25T04:05:06Z",
                                "2026-11-25T04:05:06.123UTC",
                                "2026-11-25T04:05:06\xc3\xa9"}) {
    SCOPED_TRACE(std::string(text));
    Result<Timestamp> time = parseRfc3339(text);
    ASSERT_FALSE(time.ok()) << formatTimestamp(*time);
    EXPECT_TRUE(time.error().message.starts_with("not an RFC 3339 time")) << time.error().message;
  }
}

runbook::Trigger alertTrigger(std::string alertname, LabelList labels = {}) {
  runbook::Trigger trigger;
  trigger.kind = runbook::TriggerKind::alertmanager;
  trigger.alertname = std::move(alertname);
  trigger.matchLabels = std::move(labels);
  return trigger;
}

Alert alertWith(LabelList labels, std::string status = "firing") {
  Alert alert;
  alert.status = std::move(status);
  alert.labels = std::move(labels);
  alert.startsAt = utc(2026, 11, 25, 4, 5, 6);
  return alert;
}

TEST(AlertmanagerMatchTest, NeedsTheAlertnameAndEveryLabel) {
  const runbook::Trigger trigger =
      alertTrigger("OrdersDatabaseDown", {{"env", "prod"}, {"team", "dba"}});
  EXPECT_TRUE(matches(
      trigger, alertWith({{"alertname", "OrdersDatabaseDown"}, {"env", "prod"}, {"team", "dba"}})));
  // Extra labels and any order are fine; the status does not matter.
  EXPECT_TRUE(matches(trigger, alertWith({{"team", "dba"},
                                          {"instance", "db1:5432"},
                                          {"env", "prod"},
                                          {"alertname", "OrdersDatabaseDown"}},
                                         "resolved")));
  // A missing label, a different value, a different name, no name.
  EXPECT_FALSE(matches(trigger, alertWith({{"alertname", "OrdersDatabaseDown"}, {"env", "prod"}})));
  EXPECT_FALSE(matches(
      trigger,
      alertWith({{"alertname", "OrdersDatabaseDown"}, {"env", "staging"}, {"team", "dba"}})));
  EXPECT_FALSE(matches(
      trigger, alertWith({{"alertname", "OrdersDatabaseSlow"}, {"env", "prod"}, {"team", "dba"}})));
  EXPECT_FALSE(matches(trigger, alertWith({{"env", "prod"}, {"team", "dba"}})));
  // Exact comparison: case and whitespace count.
  EXPECT_FALSE(matches(
      trigger, alertWith({{"alertname", "ordersdatabasedown"}, {"env", "prod"}, {"team", "dba"}})));
  EXPECT_FALSE(
      matches(trigger,
              alertWith({{"alertname", "OrdersDatabaseDown"}, {"env", "prod "}, {"team", "dba"}})));
  // An empty wanted value needs the label present with an empty value.
  const runbook::Trigger wantsEmpty = alertTrigger("A", {{"shard", ""}});
  EXPECT_TRUE(matches(wantsEmpty, alertWith({{"alertname", "A"}, {"shard", ""}})));
  EXPECT_FALSE(matches(wantsEmpty, alertWith({{"alertname", "A"}})));
}

TEST(AlertmanagerMatchTest, WithoutAnAlertnameOnlyTheLabelsCount) {
  const runbook::Trigger trigger = alertTrigger("", {{"service", "orders"}});
  EXPECT_TRUE(matches(trigger, alertWith({{"alertname", "Anything"}, {"service", "orders"}})));
  EXPECT_TRUE(matches(trigger, alertWith({{"service", "orders"}})));
  EXPECT_FALSE(matches(trigger, alertWith({{"alertname", "Anything"}})));
  EXPECT_TRUE(matches(alertTrigger("A"), alertWith({{"alertname", "A"}})));
}

TEST(AlertmanagerMatchTest, TriggersOfOtherKindsMatchNothing) {
  runbook::Trigger trigger = alertTrigger("A");
  trigger.kind = runbook::TriggerKind::http;
  EXPECT_FALSE(matches(trigger, alertWith({{"alertname", "A"}})));
}

TEST(AlertmanagerCheckResultTest, FiringIsAFailedCheckFromTheAlertsStart) {
  const Clock::time_point received = Clock::time_point{} + 1000h;
  const Timestamp receivedWall = utc(2026, 11, 25, 4, 6, 0);
  Alert alert = alertWith(
      {{"severity", "page"}, {"alertname", "HighErrorRate"}, {"service", "orders"}}, "firing");
  alert.annotations = {{"summary", "secret-looking text"}};
  const CheckResult result = toCheckResult(alert, received, receivedWall);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.at, received);
  EXPECT_EQ(result.wallAt, alert.startsAt);
  EXPECT_EQ(result.latency, 0ms);
  EXPECT_EQ(result.detail, "alert HighErrorRate firing (service=orders, severity=page)");
}

TEST(AlertmanagerCheckResultTest, ResolvedIsAHealthyCheckAtItsEnd) {
  const Clock::time_point received = Clock::time_point{} + 1000h;
  const Timestamp receivedWall = utc(2026, 11, 25, 5, 0, 0);
  Alert alert = alertWith({{"alertname", "HighErrorRate"}}, "resolved");
  alert.endsAt = utc(2026, 11, 25, 4, 30, 0);
  CheckResult result = toCheckResult(alert, received, receivedWall);
  EXPECT_TRUE(result.healthy);
  EXPECT_EQ(result.at, received);
  EXPECT_EQ(result.wallAt, *alert.endsAt);
  EXPECT_EQ(result.detail, "alert HighErrorRate resolved");

  alert.endsAt.reset();
  result = toCheckResult(alert, received, receivedWall);
  EXPECT_EQ(result.wallAt, receivedWall) << "no endsAt: the time it was received";
}

TEST(AlertmanagerCheckResultTest, TheSystemClockOverloadUsesNowWhenThereIsNoEnd) {
  const Alert alert = alertWith({{"alertname", "A"}}, "resolved");
  const auto before = time_point_cast<milliseconds>(system_clock::now());
  const CheckResult result = toCheckResult(alert, Clock::time_point{});
  const auto after = time_point_cast<milliseconds>(system_clock::now());
  EXPECT_GE(result.wallAt, before);
  EXPECT_LE(result.wallAt, after);
}

TEST(AlertmanagerCheckResultTest, DetailIsOneBoundedLine) {
  Alert alert = alertWith({{"alertname", "Bad\nName"}, {"note", std::string(1000, 'x')}});
  CheckResult result = toCheckResult(alert, Clock::time_point{}, Timestamp{});
  EXPECT_LE(result.detail.size(), kMaxAlertDetailBytes);
  EXPECT_TRUE(result.detail.starts_with("alert Bad?Name firing (note=xxx")) << result.detail;
  EXPECT_TRUE(result.detail.ends_with("...")) << result.detail;
  EXPECT_EQ(result.detail.find('\n'), std::string::npos);

  // Multi-byte characters are not split at the cut.
  std::string wide;
  for (int i = 0; i < 200; ++i) {
    wide += "\xc3\xa9";  // é
  }
  alert = alertWith({{"alertname", "A"}, {"where", wide}});
  result = toCheckResult(alert, Clock::time_point{}, Timestamp{});
  EXPECT_LE(result.detail.size(), kMaxAlertDetailBytes);
  const std::string body = result.detail.substr(0, result.detail.size() - 3);
  EXPECT_EQ((body.size() - std::string("alert A firing (where=").size()) % 2, 0u) << body;

  alert = alertWith({});
  EXPECT_EQ(toCheckResult(alert, Clock::time_point{}, Timestamp{}).detail,
            "alert <unnamed> firing");
}

TEST(AlertmanagerCheckResultTest, ParsedAlertsBecomeTheChecksTheDocsDescribe) {
  Result<WebhookMessage> message = parseAlertmanagerWebhook(kPayload);
  ASSERT_TRUE(message.ok()) << message.error().message;
  const CheckResult firing =
      toCheckResult(message->alerts[0], Clock::time_point{}, utc(2030, 1, 1, 0, 0, 0));
  EXPECT_FALSE(firing.healthy);
  EXPECT_EQ(firing.wallAt, utc(2026, 11, 25, 4, 5, 6, 123));
  EXPECT_EQ(firing.detail, "alert HighErrorRate firing (service=orders, severity=page)");
  const CheckResult resolved =
      toCheckResult(message->alerts[1], Clock::time_point{}, utc(2030, 1, 1, 0, 0, 0));
  EXPECT_TRUE(resolved.healthy);
  EXPECT_EQ(resolved.wallAt, utc(2026, 11, 25, 4, 30, 0, 500));
  EXPECT_EQ(resolved.detail, "alert HighErrorRate resolved (service=payments, severity=page)");
}

}  // namespace
}  // namespace lifeboat::watch
