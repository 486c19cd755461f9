#include "child_outcome.hpp"

#include <string.h>

#include "lifeboat/common/duration.hpp"

namespace lifeboat::steps {

std::string_view statusName(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::failed:
      return "failed";
    case Status::timedOut:
      return "timed_out";
    case Status::cancelled:
      return "cancelled";
  }
  return "failed";
}

std::string lastLine(std::string_view text, const Redactor& redactor) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const std::size_t newline = text.rfind('\n');
  // Redacted whole before it is cut, so that a secret across the cut cannot
  // show in part.
  std::string line =
      redactor.redact(newline == std::string_view::npos ? text : text.substr(newline + 1));
  if (line.size() > 300) {
    std::size_t cut = 300;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
      --cut;  // not inside a UTF-8 sequence
    }
    line = line.substr(0, cut) + "...";
  }
  return line;
}

StepOutcome fromChildOutcome(const process::Outcome& child, std::string_view program,
                             Milliseconds timeout, const Redactor& redactor) {
  StepOutcome outcome;
  if (child.signal == 0 && child.exitCode >= 0) {
    outcome.exitCode = child.exitCode;
  }
  if (child.signal != 0) {
    outcome.signal = child.signal;
  }
  std::string error;
  if (child.cancelled) {
    outcome.status = Status::cancelled;
    error = std::string(program) + " was stopped: the run was cancelled";
  } else if (child.timedOut) {
    outcome.status = Status::timedOut;
    error = std::string(program) + " timed out after " + formatDuration(timeout);
  } else if (child.signal != 0) {
    outcome.status = Status::failed;
    const char* name = ::strsignal(child.signal);
    error = std::string(program) + " was killed by signal " + std::to_string(child.signal) +
            (name != nullptr ? std::string(" (") + name + ")" : std::string());
  } else if (child.exitCode != 0) {
    outcome.status = Status::failed;
    error = child.exitCode < 0
                ? std::string(program) + " ended, but its exit status was lost"
                : std::string(program) + " exited with status " + std::to_string(child.exitCode);
  } else {
    outcome.status = Status::ok;
    return outcome;
  }
  if (const std::string stderrLine = lastLine(child.standardError, redactor); !stderrLine.empty()) {
    error += ": " + stderrLine;
  }
  outcome.error = redactor.redact(error);
  return outcome;
}

}  // namespace lifeboat::steps
