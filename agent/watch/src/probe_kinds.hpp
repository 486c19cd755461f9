#pragma once
// The kinds of probe behind runProbe() (probe.cpp), one file each. Private to
// lifeboat_watch.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "lifeboat/runbook/model.hpp"
#include "lifeboat/watch/probe.hpp"

namespace lifeboat::watch::probes {

// A probe's answer before runProbe() adds the timing. `detail` may still hold
// secrets: runProbe() redacts it.
struct Verdict {
  bool healthy = false;
  std::string detail;
  // The check could not judge the service at all (see CheckResult::broken).
  bool broken = false;
};

Verdict checkHttp(const runbook::Trigger& trigger, const ProbeContext& context);
Verdict checkTcp(const runbook::Trigger& trigger, const ProbeContext& context);
Verdict checkExec(const runbook::Trigger& trigger, const ProbeContext& context);
Verdict checkPlugin(const runbook::Trigger& trigger, const ProbeContext& context,
                    std::string_view name);

// `text` redacted with the context's Redactor (unchanged without one).
std::string redact(const ProbeContext& context, std::string_view text);

// At most `limit` bytes of `text`, cut at a UTF-8 character boundary, with
// "..." appended (within the limit) when something was cut. Redact first:
// cutting first could leave the start of a secret that no longer matches.
std::string clip(std::string_view text, std::size_t limit);

// "timed out after 2s".
std::string timedOutDetail(std::chrono::milliseconds timeout);

bool cancelled(const ProbeContext& context);

}  // namespace lifeboat::watch::probes
