#pragma once
// Alertmanager triggers (docs/watch.md section 7): the webhook messages that
// Prometheus Alertmanager POSTs to a `webhook_config` receiver, turned into
// the CheckResults that TriggerState judges. Pure: no I/O, no clock reads
// except the one overload of toCheckResult() that says so; the `lifeboat
// watch` daemon receives the HTTP request, bounds its size, and calls these.
//
// The wire format is Alertmanager's webhook payload, version "4":
//   {"version":"4","groupKey":…,"truncatedAlerts":0,"status":"firing"|"resolved",
//    "receiver":…,"groupLabels":{…},"commonLabels":{…},"commonAnnotations":{…},
//    "externalURL":…,"alerts":[{"status":…,"labels":{…},"annotations":{…},
//    "startsAt":RFC 3339,"endsAt":RFC 3339,"generatorURL":…,"fingerprint":…}]}
// Fields not listed in WebhookMessage / Alert are ignored.
//
// Threads: every function here may be called from any thread at once; none
// keeps state.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/watch/trigger_state.hpp"

namespace lifeboat::watch {

// Label or annotation pairs in the order the message gave them (Alertmanager
// sends them sorted by name). Names are unique within one list.
using LabelList = std::vector<std::pair<std::string, std::string>>;

// One alert of a webhook message.
struct Alert {
  std::string status;  // "firing" | "resolved" (parseAlertmanagerWebhook checks)
  LabelList labels;
  // Free text from the alerting rule (summaries, runbook links, anything):
  // never copied into a CheckResult's detail.
  LabelList annotations;
  Timestamp startsAt{};
  // None for a firing alert: Alertmanager sends Go's zero time
  // (0001-01-01T00:00:00Z) there, and that is read as absent.
  std::optional<Timestamp> endsAt;
  std::string fingerprint;   // empty when the message had none
  std::string generatorUrl;  // the message's `generatorURL`; empty when absent
};

struct WebhookMessage {
  std::string version;   // always "4" once parsed
  std::string status;    // "firing" | "resolved": firing when any alert fires
  std::string receiver;  // the receiver's name in Alertmanager's config
  std::string groupKey;
  std::vector<Alert> alerts;
  LabelList commonLabels;  // empty when absent
};

// Parses one webhook body. Required: a JSON object with `version` "4",
// `status` "firing" or "resolved", and an array `alerts` whose elements are
// objects with `status` "firing" or "resolved", an object `labels` of strings
// and a `startsAt` time. Optional (empty when absent, but of the right type
// when present): receiver, groupKey, commonLabels, and each alert's
// annotations, endsAt, fingerprint and generatorURL; JSON null counts as
// absent. The error names the JSON path at fault and why, e.g.
// "Alertmanager webhook: alerts[2].startsAt: not an RFC 3339 time: 'yesterday'",
// and never quotes an annotation or label value. The body's size is the
// caller's to bound; nesting deeper than Boost.JSON's default limit is refused.
Result<WebhookMessage> parseAlertmanagerWebhook(std::string_view body);

// RFC 3339 date-time as Alertmanager (Go) writes it: YYYY-MM-DDTHH:MM:SS,
// optional fraction of any number of digits (kept to the millisecond,
// truncated), then `Z` or an offset ±HH:MM. Lower-case `t`/`z` are accepted
// (RFC 3339 allows them); leap seconds (:60) are not. The result is UTC.
Result<Timestamp> parseRfc3339(std::string_view text);

// Whether `alert` is one that `trigger` (kind alertmanager) listens for: its
// `alertname` label equals trigger.alertname (when that is not empty) and
// every pair of trigger.matchLabels is among its labels with an equal value
// (exact, case-sensitive). Extra labels on the alert do not matter; the
// alert's status does not either (a resolved alert matches like a firing
// one). A trigger of another kind matches nothing.
bool matches(const runbook::Trigger& trigger, const Alert& alert);

// Longest CheckResult::detail toCheckResult() writes, in bytes.
inline constexpr std::size_t kMaxAlertDetailBytes = 256;

// The check an alert stands for (docs/watch.md section 7):
//   firing   -> healthy = false, wallAt = startsAt (the outage starts when the
//               alert began firing, not when the webhook arrived);
//   resolved -> healthy = true, wallAt = endsAt, or `receivedWallAt` when the
//               alert has none.
// `at` = receivedAt, latency 0. The detail reads
// "alert HighErrorRate firing (severity=page, service=orders)": the alertname
// (or "<unnamed>"), the status, and the other labels sorted by name; no
// annotations. Control characters become '?', and the whole is cut (at a
// UTF-8 boundary, "..." appended) to kMaxAlertDetailBytes.
CheckResult toCheckResult(const Alert& alert, Clock::time_point receivedAt,
                          Timestamp receivedWallAt);
// The same with receivedWallAt = now on the system clock (the one clock read
// in this file).
CheckResult toCheckResult(const Alert& alert, Clock::time_point receivedAt);

}  // namespace lifeboat::watch
