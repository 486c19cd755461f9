#include <array>
#include <utility>

#include "lifeboat/comms/plan.hpp"

namespace lifeboat::comms {
namespace {

constexpr std::array<std::pair<ChannelKind, std::string_view>, 5> kChannelKinds{{
    {ChannelKind::slack, "slack"},
    {ChannelKind::teams, "teams"},
    {ChannelKind::webhook, "webhook"},
    {ChannelKind::email, "email"},
    {ChannelKind::pagerduty, "pagerduty"},
}};

constexpr std::array<std::pair<Trigger, std::string_view>, 8> kTriggers{{
    {Trigger::opened, "opened"},
    {Trigger::milestone, "milestone"},
    {Trigger::breached, "breached"},
    {Trigger::decision, "decision"},
    {Trigger::restored, "restored"},
    {Trigger::resolved, "resolved"},
    {Trigger::update, "update"},
    {Trigger::notify, "notify"},
}};

}  // namespace

std::string_view channelKindName(ChannelKind kind) {
  for (const auto& [value, name] : kChannelKinds) {
    if (value == kind) {
      return name;
    }
  }
  return "webhook";
}

std::optional<ChannelKind> parseChannelKind(std::string_view name) {
  for (const auto& [value, known] : kChannelKinds) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view triggerName(Trigger trigger) {
  for (const auto& [value, name] : kTriggers) {
    if (value == trigger) {
      return name;
    }
  }
  return "opened";
}

std::optional<Trigger> parseTrigger(std::string_view name) {
  for (const auto& [value, known] : kTriggers) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

const TemplateText& TemplateSpec::forAudience(std::string_view audience) const {
  for (const auto& [name, text] : byAudience) {
    if (name == audience) {
      return text;
    }
  }
  return this->text;
}

}  // namespace lifeboat::comms
