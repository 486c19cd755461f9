// Alertmanager webhook messages: parsing (strict on what we use, blind to the
// rest), trigger matching, and the CheckResult an alert stands for.
#include "lifeboat/watch/alertmanager.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>

#include "lifeboat/common/text.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch {

namespace json = boost::json;

namespace {

constexpr std::string_view kWebhookVersion = "4";
constexpr std::size_t kMaxQuotedValueBytes = 64;  // of a bad value quoted in an error
constexpr std::string_view kTimeHint =
    "expected RFC 3339, e.g. 2026-11-25T04:05:06.123Z or 2026-11-25T05:05:06+01:00";

Error webhookError(std::string_view path, std::string_view why, std::string hint = {}) {
  if (hint.empty()) {
    hint =
        "the body must be Alertmanager's webhook payload (webhook_config, version 4); "
        "check what is posting to this endpoint";
  }
  return Error{"Alertmanager webhook: " + std::string(path) + ": " + std::string(why),
               std::move(hint)};
}

std::string_view typeName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string expected(std::string_view what, const json::value& got) {
  return "expected " + std::string(what) + ", got " + std::string(typeName(got));
}

std::string join(std::string_view path, std::string_view member) {
  return path.empty() ? std::string(member) : std::string(path) + "." + std::string(member);
}

// The member `name` of `object`, nullptr when it is missing or JSON null
// (Go's encoder writes null for a nil map).
const json::value* member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value == nullptr || value->is_null() ? nullptr : value;
}

// A string member; "" when absent and not required.
Result<std::string> readString(const json::object& object, std::string_view path,
                               std::string_view name, bool required) {
  const json::value* value = member(object, name);
  if (value == nullptr) {
    if (required) {
      return webhookError(join(path, name), "missing");
    }
    return std::string();
  }
  if (!value->is_string()) {
    return webhookError(join(path, name), expected("a string", *value));
  }
  return std::string(value->get_string());
}

// "firing" or "resolved".
Result<std::string> readStatus(const json::object& object, std::string_view path) {
  Result<std::string> status = readString(object, path, "status", true);
  if (!status) {
    return status;
  }
  if (*status != "firing" && *status != "resolved") {
    return webhookError(join(path, "status"),
                        "expected \"firing\" or \"resolved\", got " +
                            inQuotes(probes::clip(*status, kMaxQuotedValueBytes)));
  }
  return status;
}

// An object of strings (labels, annotations); empty when absent and not
// required. Values are never quoted in errors.
Result<LabelList> readLabels(const json::object& object, std::string_view path,
                             std::string_view name, bool required) {
  const std::string where = join(path, name);
  const json::value* value = member(object, name);
  if (value == nullptr) {
    if (required) {
      return webhookError(where, "missing");
    }
    return LabelList{};
  }
  if (!value->is_object()) {
    return webhookError(where, expected("an object of strings", *value));
  }
  LabelList labels;
  labels.reserve(value->get_object().size());
  for (const auto& [key, entry] : value->get_object()) {
    if (!entry.is_string()) {
      return webhookError(join(where, probes::clip(key, kMaxQuotedValueBytes)),
                          expected("a string", entry));
    }
    labels.emplace_back(std::string(key), std::string(entry.get_string()));
  }
  return labels;
}

// A time member; none when absent and not required. Go's zero time is read
// as absent too when `zeroIsAbsent`.
Result<std::optional<Timestamp>> readTime(const json::object& object, std::string_view path,
                                          std::string_view name, bool required) {
  const std::string where = join(path, name);
  const json::value* value = member(object, name);
  if (value == nullptr) {
    if (required) {
      return webhookError(where, "missing");
    }
    return std::optional<Timestamp>{};
  }
  if (!value->is_string()) {
    return webhookError(where, expected("an RFC 3339 time string", *value));
  }
  const std::string_view text = value->get_string();
  Result<Timestamp> time = parseRfc3339(text);
  if (!time) {
    return webhookError(
        where, "not an RFC 3339 time: " + inQuotes(probes::clip(text, kMaxQuotedValueBytes)),
        std::string(kTimeHint));
  }
  return std::optional<Timestamp>{*time};
}

bool isGoZeroTime(Timestamp time) {
  using namespace std::chrono;
  return time == Timestamp{sys_days{year{1} / January / 1}};
}

Result<Alert> readAlert(const json::value& value, const std::string& path) {
  if (!value.is_object()) {
    return webhookError(path, expected("an object", value));
  }
  const json::object& object = value.get_object();
  Alert alert;
  Result<std::string> status = readStatus(object, path);
  if (!status) {
    return status.error();
  }
  alert.status = std::move(*status);
  Result<LabelList> labels = readLabels(object, path, "labels", true);
  if (!labels) {
    return labels.error();
  }
  alert.labels = std::move(*labels);
  Result<LabelList> annotations = readLabels(object, path, "annotations", false);
  if (!annotations) {
    return annotations.error();
  }
  alert.annotations = std::move(*annotations);
  Result<std::optional<Timestamp>> startsAt = readTime(object, path, "startsAt", true);
  if (!startsAt) {
    return startsAt.error();
  }
  alert.startsAt = **startsAt;
  Result<std::optional<Timestamp>> endsAt = readTime(object, path, "endsAt", false);
  if (!endsAt) {
    return endsAt.error();
  }
  if (*endsAt && !isGoZeroTime(**endsAt)) {
    alert.endsAt = **endsAt;
  }
  Result<std::string> fingerprint = readString(object, path, "fingerprint", false);
  if (!fingerprint) {
    return fingerprint.error();
  }
  alert.fingerprint = std::move(*fingerprint);
  Result<std::string> generator = readString(object, path, "generatorURL", false);
  if (!generator) {
    return generator.error();
  }
  alert.generatorUrl = std::move(*generator);
  return alert;
}

// Reads `count` digits at text[at...]; -1 when one is not a digit or the
// text is too short.
int readDigits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) {
    return -1;
  }
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return -1;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Printable: control characters become '?', so a label cannot break a log line.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      c = '?';
    }
  }
  return out;
}

const std::string* findLabel(const LabelList& labels, std::string_view name) {
  for (const auto& [key, value] : labels) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

}  // namespace

Result<Timestamp> parseRfc3339(std::string_view text) {
  using namespace std::chrono;
  const Error bad{"not an RFC 3339 time: " + inQuotes(probes::clip(text, kMaxQuotedValueBytes)),
                  std::string(kTimeHint)};
  // YYYY-MM-DDTHH:MM:SS is 19 characters; the shape and ranges of those are
  // left to parseTimestamp(), given the same with milliseconds and Z.
  constexpr std::size_t kSeconds = 19;
  if (text.size() < kSeconds + 1) {
    return bad;
  }
  std::string canonical(text.substr(0, kSeconds));
  if (canonical[10] == 't') {
    canonical[10] = 'T';
  }
  std::size_t at = kSeconds;
  std::string millis = "000";
  if (text[at] == '.') {
    ++at;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (at - first < 3) {
        millis[at - first] = text[at];
      }
      ++at;
    }
    if (at == first) {
      return bad;  // "." without digits
    }
  }
  minutes offset{0};
  const std::string_view zone = text.substr(at);
  if (zone == "Z" || zone == "z") {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const int offsetHours = readDigits(zone, 1, 2);
    const int offsetMinutes = readDigits(zone, 4, 2);
    if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) {
      return bad;
    }
    offset = minutes{offsetHours * 60 + offsetMinutes};
    if (zone[0] == '-') {
      offset = -offset;
    }
  } else {
    return bad;
  }
  Result<Timestamp> utc = parseTimestamp(canonical + "." + millis + "Z");
  if (!utc) {
    return bad;
  }
  // 05:05:06+01:00 is 04:05:06Z.
  return Timestamp{*utc - offset};
}

Result<WebhookMessage> parseAlertmanagerWebhook(std::string_view body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec) {
    return Error{"Alertmanager webhook: the body is not valid JSON: " + ec.message(),
                 "the body must be Alertmanager's webhook payload (webhook_config, version 4)"};
  }
  if (!parsed.is_object()) {
    return webhookError("(body)", expected("a JSON object", parsed));
  }
  const json::object& object = parsed.get_object();
  WebhookMessage message;

  Result<std::string> version = readString(object, "", "version", true);
  if (!version) {
    return version.error();
  }
  if (*version != kWebhookVersion) {
    return webhookError(
        "version", "expected \"4\", got " + inQuotes(probes::clip(*version, kMaxQuotedValueBytes)),
        "this agent reads Alertmanager's webhook payload version 4 (Alertmanager "
        "0.x); a newer format needs a newer agent");
  }
  message.version = std::move(*version);

  Result<std::string> status = readStatus(object, "");
  if (!status) {
    return status.error();
  }
  message.status = std::move(*status);

  Result<std::string> receiver = readString(object, "", "receiver", false);
  if (!receiver) {
    return receiver.error();
  }
  message.receiver = std::move(*receiver);
  Result<std::string> groupKey = readString(object, "", "groupKey", false);
  if (!groupKey) {
    return groupKey.error();
  }
  message.groupKey = std::move(*groupKey);
  Result<LabelList> commonLabels = readLabels(object, "", "commonLabels", false);
  if (!commonLabels) {
    return commonLabels.error();
  }
  message.commonLabels = std::move(*commonLabels);

  const json::value* alerts = object.if_contains("alerts");
  if (alerts == nullptr) {
    return webhookError("alerts", "missing");
  }
  if (!alerts->is_array()) {
    return webhookError("alerts", expected("an array", *alerts));
  }
  message.alerts.reserve(alerts->get_array().size());
  std::size_t index = 0;
  for (const json::value& entry : alerts->get_array()) {
    Result<Alert> alert = readAlert(entry, "alerts[" + std::to_string(index) + "]");
    if (!alert) {
      return alert.error();
    }
    message.alerts.push_back(std::move(*alert));
    ++index;
  }
  return message;
}

bool matches(const runbook::Trigger& trigger, const Alert& alert) {
  if (trigger.kind != runbook::TriggerKind::alertmanager) {
    return false;
  }
  if (!trigger.alertname.empty()) {
    const std::string* name = findLabel(alert.labels, "alertname");
    if (name == nullptr || *name != trigger.alertname) {
      return false;
    }
  }
  return std::all_of(trigger.matchLabels.begin(), trigger.matchLabels.end(),
                     [&](const std::pair<std::string, std::string>& wanted) {
                       const std::string* value = findLabel(alert.labels, wanted.first);
                       return value != nullptr && *value == wanted.second;
                     });
}

CheckResult toCheckResult(const Alert& alert, Clock::time_point receivedAt,
                          Timestamp receivedWallAt) {
  CheckResult result;
  result.at = receivedAt;
  result.latency = std::chrono::milliseconds{0};
  result.healthy = alert.status == "resolved";
  result.wallAt = result.healthy ? alert.endsAt.value_or(receivedWallAt) : alert.startsAt;

  const std::string* name = findLabel(alert.labels, "alertname");
  std::string detail = "alert " + (name != nullptr ? *name : std::string("<unnamed>")) + " " +
                       (result.healthy ? "resolved" : "firing");
  std::vector<const std::pair<std::string, std::string>*> others;
  for (const auto& label : alert.labels) {
    if (label.first != "alertname") {
      others.push_back(&label);
    }
  }
  std::sort(others.begin(), others.end(),
            [](const auto* left, const auto* right) { return left->first < right->first; });
  for (std::size_t i = 0; i < others.size(); ++i) {
    detail += i == 0 ? " (" : ", ";
    detail += others[i]->first + "=" + others[i]->second;
    // Enough to fill the limit; the rest would be cut anyway.
    if (detail.size() > kMaxAlertDetailBytes) {
      break;
    }
  }
  if (!others.empty()) {
    detail += ")";
  }
  result.detail = probes::clip(printable(detail), kMaxAlertDetailBytes);
  return result;
}

CheckResult toCheckResult(const Alert& alert, Clock::time_point receivedAt) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return toCheckResult(alert, receivedAt, Timestamp{now});
}

}  // namespace lifeboat::watch
