#include "lifeboat/comms/message.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

namespace lifeboat::comms {
namespace {

// Every fact a template may name (docs/communications.md, "Facts"). The
// order is the documentation's.
constexpr std::array<std::string_view, 27> kFactNames{
    "service",
    "service_name",
    "impact",
    "state",
    "runbook",
    "run",
    "agent",
    "drill",
    "started_at",
    "outage_start",
    "elapsed",
    "rto_target",
    "rto_budget_left",
    "eta",
    "rpo_target",
    "rpo_measured",
    "rto_measured",
    "objective",
    "step",
    "decision",
    "options",
    "message",
    "next_update",
    "incident_commander",
    "spokesperson",
    "approver",
    "status_page_url",
};

struct Placeholder {
  std::size_t begin = 0;  // of "{{"
  std::size_t end = 0;    // one past "}}"
  std::string_view name;
};

bool isSpace(char c) {
  return c == ' ' || c == '\t';
}

// The placeholder opening at `at` ("{{" is there), if it is one: `{{`, then
// at least one character that is neither a brace nor a line break, then
// `}}`, with a name left once the spaces around it are trimmed.
std::optional<Placeholder> placeholderAt(std::string_view text, std::size_t at) {
  std::size_t position = at + 2;
  while (position < text.size() && text[position] != '{' && text[position] != '}' &&
         text[position] != '\n' && text[position] != '\r') {
    ++position;
  }
  if (position + 1 >= text.size() || text[position] != '}' || text[position + 1] != '}') {
    return std::nullopt;
  }
  std::string_view name = text.substr(at + 2, position - at - 2);
  while (!name.empty() && isSpace(name.front())) {
    name.remove_prefix(1);
  }
  while (!name.empty() && isSpace(name.back())) {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return std::nullopt;
  }
  return Placeholder{at, position + 2, name};
}

// Calls `literal` and `placeholder` for the parts of `text` in order.
template <class Literal, class Visit>
void scan(std::string_view text, Literal&& literal, Visit&& placeholder) {
  std::size_t done = 0;
  std::size_t search = 0;
  while (true) {
    const std::size_t open = text.find("{{", search);
    if (open == std::string_view::npos) {
      break;
    }
    std::optional<Placeholder> found = placeholderAt(text, open);
    if (!found) {
      search = open + 1;
      continue;
    }
    literal(text.substr(done, open - done));
    placeholder(*found);
    done = found->end;
    search = found->end;
  }
  literal(text.substr(done));
}

bool isFactName(std::string_view name) {
  return std::find(kFactNames.begin(), kFactNames.end(), name) != kFactNames.end();
}

}  // namespace

std::span<const std::string_view> factNames() {
  return kFactNames;
}

std::string render(std::string_view text, const Facts& facts) {
  std::string out;
  out.reserve(text.size());
  scan(
      text, [&](std::string_view literal) { out += literal; },
      [&](const Placeholder& placeholder) {
        // A fact's value is inserted as it is and never scanned again, so a
        // value that holds "{{...}}" cannot pull in another fact.
        const auto found = facts.find(placeholder.name);
        out += found != facts.end() ? std::string_view(found->second) : "unknown";
      });
  return out;
}

std::vector<std::string> placeholderNames(std::string_view text) {
  std::vector<std::string> names;
  scan(
      text, [](std::string_view) {},
      [&](const Placeholder& placeholder) { names.emplace_back(placeholder.name); });
  return names;
}

std::vector<std::string> unknownPlaceholders(std::string_view text) {
  std::vector<std::string> unknown;
  for (std::string& name : placeholderNames(text)) {
    if (!isFactName(name)) {
      unknown.push_back(std::move(name));
    }
  }
  return unknown;
}

std::string formatFactDuration(std::chrono::milliseconds duration) {
  using namespace std::chrono;
  std::string out;
  if (duration < milliseconds::zero()) {
    out = "-";
    // Negating the minimum would overflow; it is no real duration anyway.
    duration = duration == milliseconds::min() ? milliseconds::max() : -duration;
  }
  std::int64_t seconds = duration_cast<std::chrono::seconds>(duration).count();
  if (seconds == 0) {
    return "0s";
  }
  constexpr std::array<std::pair<std::int64_t, char>, 4> kUnits{
      {{86'400, 'd'}, {3'600, 'h'}, {60, 'm'}, {1, 's'}}};
  bool first = true;
  for (const auto& [size, unit] : kUnits) {
    const std::int64_t amount = seconds / size;
    seconds %= size;
    if (amount == 0) {
      continue;
    }
    if (!first) {
      out += ' ';
    }
    out += std::to_string(amount);
    out += unit;
    first = false;
  }
  return out;
}

std::string formatFactTime(Timestamp time) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<minutes> clock{floor<minutes>(time - day)};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d UTC", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()));
  return text;
}

}  // namespace lifeboat::comms
