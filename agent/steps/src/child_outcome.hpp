#pragma once
// How a finished child reads as a step outcome, shared by exec and plugin
// steps.

#include <string>
#include <string_view>

#include "lifeboat/common/redactor.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {

// Status and a redacted error from how the child ended: cancelled, timed out
// ("timed out after 2s"), killed by a signal, or a non-zero exit status, with
// the last line of its stderr when there is one. `ok` when it exited 0.
StepOutcome fromChildOutcome(const process::Outcome& child, std::string_view program,
                             Milliseconds timeout, const Redactor& redactor);

// The last non-empty line of `text`, redacted, then cut to at most 300 bytes
// (plus "...").
std::string lastLine(std::string_view text, const Redactor& redactor);

}  // namespace lifeboat::steps
