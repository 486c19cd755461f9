// libFuzzer target for the communication plan (coordinator/comms/plan): the
// coordinator reads it at start, and people write it by hand under
// pressure. Beyond "no crash": a plan that parses has every reference
// resolved (each audience's channels, each rule's audiences and template
// exist), and every template renders with no facts at all.
// Run it with scripts/fuzz.sh plan.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lifeboat/comms/message.hpp"
#include "lifeboat/comms/plan.hpp"

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  lifeboat::DiagnosticSink sink;
  std::optional<lifeboat::comms::Plan> plan = lifeboat::comms::parsePlan(text, sink);
  require(plan.has_value() == !sink.hasErrors());
  // The placeholder scanner and the renderer on arbitrary text.
  (void)lifeboat::comms::unknownPlaceholders(text);
  (void)lifeboat::comms::render(text, lifeboat::comms::Facts{{"service", "orders"}});
  if (!plan) {
    return 0;
  }
  for (const auto& [name, audience] : plan->audiences) {
    for (const std::string& channel : audience.channels) {
      require(channel == lifeboat::comms::kStatusPageChannel || plan->channels.contains(channel));
    }
  }
  for (const lifeboat::comms::RuleSpec& rule : plan->rules) {
    require(plan->templates.contains(rule.templateName));
    for (const std::string& audience : rule.audiences) {
      require(plan->audiences.contains(audience));
    }
  }
  for (const auto& [name, spec] : plan->templates) {
    (void)lifeboat::comms::render(spec.text.subject, {});
    (void)lifeboat::comms::render(spec.text.body, {});
  }
  return 0;
}
