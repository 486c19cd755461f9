#include "format.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <limits>

#include "lifeboat/common/duration.hpp"

namespace lifeboat::report::detail {

std::string durationText(std::int64_t milliseconds) {
  // formatDuration negates negative values; keep that defined.
  milliseconds = std::max<std::int64_t>(milliseconds, -std::numeric_limits<std::int64_t>::max());
  return formatDuration(Milliseconds(milliseconds));
}

std::string secondsText(std::int64_t milliseconds) {
  milliseconds = std::max<std::int64_t>(milliseconds, 0);
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%03lld", static_cast<long long>(milliseconds / 1000),
                static_cast<long long>(milliseconds % 1000));
  return text;
}

std::string timeText(const std::optional<Timestamp>& time) {
  return time ? formatTimestamp(*time) : "-";
}

std::string modeName(const RunRecord& record) {
  return record.drill ? "drill" : "real";
}

std::string runbookLabel(const RunRecord& record) {
  return record.runbookName.empty() ? record.runbookPath : record.runbookName;
}

std::optional<std::int64_t> executionDurationMs(const Execution& execution) {
  if (execution.durationMs) {
    return execution.durationMs;
  }
  if (execution.startedAt && execution.finishedAt) {
    return (*execution.finishedAt - *execution.startedAt).count();
  }
  return std::nullopt;
}

Timestamp executionEnd(const Execution& execution, const RunRecord& record) {
  Timestamp start = execution.startedAt.value_or(record.startedAt);
  if (execution.finishedAt) {
    return std::max(*execution.finishedAt, start);
  }
  return std::max(record.finishedAt.value_or(record.lastEventAt), start);
}

std::int64_t runDurationMs(const RunRecord& record) {
  if (record.durationMs) {
    return *record.durationMs;
  }
  Timestamp end = record.finishedAt.value_or(record.lastEventAt);
  return std::max<std::int64_t>((end - record.startedAt).count(), 0);
}

std::string verdictSummary(const ObjectiveRecord& objective) {
  std::string target = objective.targetMs ? durationText(*objective.targetMs) : "none";
  switch (objective.verdict) {
    case Verdict::met:
      return "met: " + durationText(objective.valueMs.value_or(0)) + " within " + target;
    case Verdict::breached:
      if (objective.valueMs) {
        return "breached: " + durationText(*objective.valueMs) + " against " + target;
      }
      return "breached (target " + target + ")";
    case Verdict::unknown:
      break;
  }
  if (objective.valueMs && !objective.evaluated) {
    return "unknown: " + durationText(*objective.valueMs) + " measured, not evaluated (target " +
           target + ")";
  }
  return "unknown: not measured (target " + target + ")";
}

std::optional<Timestamp> rtoDeadline(const RunRecord& record) {
  const ObjectiveRecord* rto = record.findObjective("rto");
  if (rto == nullptr || !rto->targetMs) {
    return std::nullopt;
  }
  return rto->outageStart.value_or(record.outageStart) + Milliseconds(*rto->targetMs);
}

std::string firstLine(const std::string& text) {
  std::size_t end = text.find('\n');
  if (end == std::string::npos) {
    return text;
  }
  return text.substr(0, end) + " ...";
}

std::vector<StepOutput> stepOutputs(const RunRecord& record) {
  std::vector<StepOutput> outputs;
  const auto add = [&outputs](const std::string& step, const boost::json::object& values) {
    for (const auto& member : values) {
      const boost::json::value& value = member.value();
      outputs.push_back(
          {step, std::string(member.key()),
           value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value)});
    }
  };
  for (const StepRecord& step : record.steps) {
    add(step.id, step.execution.outputs);
    if (step.rollback) {
      add("rollback of " + step.id, step.rollback->outputs);
    }
  }
  return outputs;
}

}  // namespace lifeboat::report::detail
