// The exec probe: `command` through the process runner; healthy on exit 0.
#include <string.h>

#include "lifeboat/process/runner.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch::probes {
namespace {

// Output is only looked at line by line (onLine); what the runner captures
// besides is not used, so keep its buffers small.
constexpr std::size_t kCapturedBytes = 4096;

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string trimmed(std::string_view line) {
  const std::size_t end = line.find_last_not_of(" \t\r");
  line = line.substr(0, end == std::string_view::npos ? 0 : end + 1);
  const std::size_t begin = line.find_first_not_of(" \t");
  return std::string(begin == std::string_view::npos ? std::string_view{} : line.substr(begin));
}

}  // namespace

Verdict checkExec(const runbook::Trigger& trigger, const ProbeContext& context) {
  if (trigger.command.empty() || trigger.command.front().empty()) {
    return {false, "the trigger has no command", true};
  }
  if (context.runner == nullptr) {
    return {false, "no process runner to start '" + trigger.command.front() + "'", true};
  }
  // The last non-empty line of each stream, kept whole (the runner hands
  // over lines of at most 1 MiB) so that redaction sees every secret entire.
  std::string lastError;
  std::string lastOutput;
  process::Command command;
  command.argv = trigger.command;
  command.environment = context.childEnvironment;
  command.timeout = trigger.timeout;
  command.killGrace = context.killGrace;
  command.maxCapturedBytes = kCapturedBytes;
  command.cancel = context.cancel;
  command.onLine = [&](process::Stream stream, std::string_view line) {
    if (!blank(line)) {
      (stream == process::Stream::standardError ? lastError : lastOutput).assign(line);
    }
  };
  Result<process::Outcome> result = context.runner->run(command);
  if (!result) {
    // The command could not even start (no such file, not executable).
    return {false, clip(redact(context, result.error().message), 2 * kMaxQuotedBytes), true};
  }
  const process::Outcome& child = *result;
  if (child.cancelled) {
    return {false, "cancelled"};
  }
  if (child.timedOut) {
    return {false, timedOutDetail(trigger.timeout)};
  }
  std::string detail;
  if (child.signal != 0) {
    const char* name = ::sigdescr_np(child.signal);  // thread-safe, unlike strsignal
    detail = "killed by signal " + std::to_string(child.signal) +
             (name != nullptr ? std::string(" (") + name + ")" : std::string());
  } else if (child.exitCode < 0) {
    detail = "ended, but its exit status was lost";
  } else {
    detail = "exit " + std::to_string(child.exitCode);
  }
  const std::string& quoted = lastError.empty() ? lastOutput : lastError;
  if (!quoted.empty()) {
    detail += ": " + clip(trimmed(redact(context, quoted)), kMaxQuotedBytes);
  }
  return {child.succeeded(), std::move(detail)};
}

}  // namespace lifeboat::watch::probes
