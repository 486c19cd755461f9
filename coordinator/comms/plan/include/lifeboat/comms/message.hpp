#pragma once
// A message of the comms engine: rendered text for one audience on one
// channel, as the outbox keeps it and a channel sends it.

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::comms {

// Run facts a template may name as `{{name}}` (plain text values; each
// channel escapes them for its own format). factNames() lists every name a
// plan may use; a missing fact renders as "unknown".
using Facts = std::map<std::string, std::string, std::less<>>;
std::span<const std::string_view> factNames();

// `{{ name }}` (spaces optional) -> facts[name]. Text outside placeholders
// is kept as written. A name without a fact renders as "unknown"; "{{" that
// does not open a placeholder is kept literally. Never fails.
std::string render(std::string_view text, const Facts& facts);
// The names used in `text` that factNames() does not list (for the plan's
// checks), in order of appearance. A placeholder is `{{`, then anything but
// braces and line breaks, then `}}`; its name is what is inside with the
// spaces around it trimmed. So `{{ Service }}` and `{{service name}}` are
// placeholders with unknown names, not literal text.
std::vector<std::string> unknownPlaceholders(std::string_view text);
// Every placeholder name used in `text`, in order of appearance.
std::vector<std::string> placeholderNames(std::string_view text);

// The one written form of facts (docs/communications.md, "Facts"), so that
// every producer of facts writes the same thing:
// a duration as "1d 2h", "1h 5m 3s", "12m 30s", "45s" (zero units left out,
// below a second dropped; "0s" for under a second; a leading "-" when
// negative), a time as "2026-12-06 19:40 UTC" (minutes, rounded down).
std::string formatFactDuration(std::chrono::milliseconds duration);
std::string formatFactTime(Timestamp time);

struct Message {
  std::int64_t id = 0;     // the outbox's id
  std::string dedupKey{};  // stable for this message across retries and restarts
  std::string incident{};  // the incident's key (PagerDuty dedup_key)
  std::string audience{};
  std::string channel{};  // the plan's channel name
  std::string trigger{};  // triggerName() of what made it
  bool drill = false;     // subject and body already say [DRILL]
  bool resolves = false;  // the incident closed (PagerDuty: resolve)
  std::string subject{};  // one line, plain text
  std::string body{};     // plain text
  Facts facts{};          // as rendered (for structured payloads)
  Timestamp createdAt{};
};

}  // namespace lifeboat::comms
