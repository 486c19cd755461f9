#include <sstream>
#include <system_error>

#include "lifeboat/comms/plan.hpp"
#include "lifeboat/config/input_guard.hpp"

namespace lifeboat::comms {

Result<Plan> loadPlan(const std::filesystem::path& file, std::vector<std::string>* warnings) {
  config::InputLimits limits;
  limits.maxBytes = 1024 * 1024;
  std::error_code code;
  if (!std::filesystem::exists(file, code)) {
    return Error{"communication plan " + file.string() + " does not exist",
                 "check [comms] plan in the coordinator config (docs/communications.md)"};
  }
  Result<std::string> text = config::readInputFile(file, limits);
  if (!text) {
    // readInputFile() speaks of runbooks, its first users.
    std::string message = text.error().message;
    if (const std::string word = "runbook"; message.find(word) != std::string::npos) {
      message.replace(message.find(word), word.size(), "communication plan");
    }
    return Error{message, text.error().hint};
  }
  DiagnosticSink sink;
  std::optional<Plan> plan = parsePlan(*text, sink);
  std::ostringstream lines;
  bool first = true;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    if (diagnostic.severity == Severity::warning) {
      if (warnings != nullptr) {
        warnings->push_back(formatDiagnostic(file.string(), diagnostic));
      }
      continue;
    }
    lines << (first ? "" : "\n") << formatDiagnostic(file.string(), diagnostic);
    first = false;
  }
  if (!plan) {
    return Error{lines.str(), "fix the communication plan (docs/communications.md)"};
  }
  return std::move(*plan);
}

}  // namespace lifeboat::comms
