#pragma once
// Plain-text sentences for events: the lines style prints all of them, the
// interactive style prints some as permanent lines above its block.

#include <string>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "run_model.hpp"

namespace lifeboat::live {

// The lines that tell a reader what `event` means, terminal-safe and without
// escapes; empty for events not worth a line (step.process, hello,
// heartbeat, unknown types). `model` has already applied `event`.
std::vector<std::string> describeEvent(const Event& event, const RunModel& model);

// "in this drill" or "in this run", for skipped-step summaries.
std::string modePhrase(const RunModel& model);

}  // namespace lifeboat::live
