#pragma once
// A message of the comms engine: rendered text for one audience on one
// channel, as the outbox keeps it and a channel sends it.

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
// checks), in order of appearance.
std::vector<std::string> unknownPlaceholders(std::string_view text);

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
