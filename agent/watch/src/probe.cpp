// runProbe(): timing, dispatch by kind and the last redaction of every detail.
#include "lifeboat/watch/probe.hpp"

#include <exception>
#include <new>

#include "lifeboat/common/duration.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch {
namespace probes {

std::string redact(const ProbeContext& context, std::string_view text) {
  return context.redactor != nullptr ? context.redactor->redact(text) : std::string(text);
}

std::string clip(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return std::string(text);
  }
  constexpr std::string_view kEllipsis = "...";
  std::size_t end = limit > kEllipsis.size() ? limit - kEllipsis.size() : 0;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string(text.substr(0, end)) + std::string(kEllipsis.substr(0, limit - end));
}

std::string timedOutDetail(std::chrono::milliseconds timeout) {
  return "timed out after " + formatDuration(timeout);
}

bool cancelled(const ProbeContext& context) {
  return context.cancel != nullptr && context.cancel->triggered();
}

}  // namespace probes

namespace {

probes::Verdict dispatch(const runbook::Trigger& trigger, const ProbeContext& context,
                         std::string_view name) {
  if (probes::cancelled(context)) {
    return {false, "cancelled"};
  }
  if (trigger.timeout <= std::chrono::milliseconds::zero()) {
    return {false, "the trigger's timeout must be more than zero (it is " +
                       formatDuration(trigger.timeout) + ")"};
  }
  switch (trigger.kind) {
    case runbook::TriggerKind::http:
      return probes::checkHttp(trigger, context);
    case runbook::TriggerKind::tcp:
      return probes::checkTcp(trigger, context);
    case runbook::TriggerKind::exec:
      return probes::checkExec(trigger, context);
    case runbook::TriggerKind::plugin:
      return probes::checkPlugin(trigger, context, name);
    case runbook::TriggerKind::alertmanager:
      break;
  }
  return {false,
          "alertmanager triggers are not polled: they fire from Alertmanager's webhook "
          "(the daemon must not run a probe for them)"};
}

}  // namespace

bool isPolled(runbook::TriggerKind kind) {
  return kind != runbook::TriggerKind::alertmanager;
}

CheckResult runProbe(const runbook::Trigger& trigger, const ProbeContext& context,
                     std::string_view name) {
  CheckResult result;
  result.at = Clock::now();
  result.wallAt =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  probes::Verdict verdict;
  try {
    verdict = dispatch(trigger, context, name);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& error) {
    // A callback of the daemon's, or a library below, failed: this check
    // could not be made, which the detector must see as a failed check.
    verdict = {false, std::string("the check could not run: ") + error.what()};
  }
  result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - result.at);
  result.healthy = verdict.healthy;
  result.broken = !verdict.healthy && verdict.broken;
  result.detail = probes::redact(context, verdict.detail);
  return result;
}

}  // namespace lifeboat::watch
