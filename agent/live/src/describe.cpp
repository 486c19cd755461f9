#include "describe.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/live/text.hpp"

namespace lifeboat::live {

namespace json = boost::json;

namespace {

using Lines = std::vector<std::string>;

std::string safeMember(const json::object& data, std::string_view key) {
  return terminalSafe(stringMember(data, key));
}

std::string elapsed(std::int64_t ms) {
  return formatElapsed(std::chrono::milliseconds(ms));
}
std::string target(std::int64_t ms) {
  return formatDuration(std::chrono::milliseconds(ms));
}

// Members that may be a string or an array of strings (approvers, channels).
std::string joinedStrings(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr) {
    return {};
  }
  if (const json::string* text = value->if_string()) {
    return terminalSafe(std::string_view(text->data(), text->size()));
  }
  std::string joined;
  if (const json::array* items = value->if_array()) {
    for (const json::value& item : *items) {
      if (const json::string* text = item.if_string()) {
        joined += joined.empty() ? "" : ", ";
        joined += terminalSafe(std::string_view(text->data(), text->size()));
      }
    }
  }
  return joined;
}

// Splits child output into terminal-safe lines; a trailing newline does not
// make an empty line.
Lines splitLines(std::string_view text) {
  Lines lines;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(terminalSafe(line));
    if (newline == std::string_view::npos) {
      break;
    }
    text.remove_prefix(newline + 1);
  }
  return lines;
}

std::string phasePrefix(const json::object& data) {
  const std::string_view phase = stringMember(data, "phase");
  if (phase == "rollback") {
    return " rollback";
  }
  if (phase == "cleanup") {
    return " cleanup";
  }
  return {};
}

Lines describeRunStarted(const Event& event, const RunModel& model) {
  const json::object& data = event.data;
  Lines lines;
  std::string first = "run started: " + model.runbookName();
  const std::string path = safeMember(data, "runbook");
  if (!path.empty() && path != model.runbookName()) {
    first += " (" + path + ")";
  }
  if (!model.service().empty()) {
    first += ", service " + model.service();
  }
  first += model.drill() ? ", DRILL" : ", REAL";
  first += ", run " + model.runId();
  lines.push_back(std::move(first));

  std::string second;
  const std::string outageStart = safeMember(data, "outage_start");
  if (!outageStart.empty()) {
    second = "outage start " + outageStart;
    const std::string source = safeMember(data, "outage_start_source");
    if (!source.empty()) {
      second += " (" + source + ")";
    }
    second += "; ";
  }
  std::string objectives;
  if (model.rto().targetMs) {
    objectives += "RTO " + target(*model.rto().targetMs);
  }
  if (model.rpo().targetMs) {
    objectives += (objectives.empty() ? "" : ", ") + ("RPO " + target(*model.rpo().targetMs));
  }
  second += objectives.empty() ? "no objectives" : "objectives " + objectives;
  lines.push_back(std::move(second));

  const int skipped = model.skippedInMode();
  const int total = static_cast<int>(model.steps().size());
  std::string plan = std::to_string(total) + " steps, " + std::to_string(total - skipped) +
                     " run " + modePhrase(model);
  if (skipped > 0) {
    plan += "; skipped:";
    bool firstSkipped = true;
    for (const StepModel& step : model.steps()) {
      if (step.runs) {
        continue;
      }
      plan += firstSkipped ? " " : ", ";
      firstSkipped = false;
      plan += step.id;
      if (!step.skipReason.empty()) {
        plan += " (" + step.skipReason + ")";
      }
    }
  }
  lines.push_back(std::move(plan));
  return lines;
}

Lines describePreflight(const Event& event) {
  const json::object& data = event.data;
  Lines lines;
  const bool ok = boolMember(data, "ok").value_or(false);
  std::string summary = ok ? "preflight ok" : "preflight FAILED";
  if (const json::array* checks = arrayMember(data, "checks")) {
    std::string passed;
    for (const json::value& entry : *checks) {
      const json::object* check = entry.if_object();
      if (check == nullptr) {
        continue;
      }
      const std::string name = safeMember(*check, "check");
      if (boolMember(*check, "ok").value_or(false)) {
        passed += (passed.empty() ? "" : ", ") + name;
        continue;
      }
      std::string failed = "preflight check " + name + " failed";
      const std::string detail = safeMember(*check, "detail");
      if (!detail.empty()) {
        failed += ": " + detail;
      }
      lines.push_back(std::move(failed));
    }
    if (!passed.empty()) {
      summary += " (passed: " + passed + ")";
    }
  }
  lines.insert(lines.begin(), std::move(summary));
  if (const json::array* warnings = arrayMember(data, "warnings")) {
    for (const json::value& warning : *warnings) {
      if (const json::string* text = warning.if_string()) {
        lines.push_back("preflight warning: " +
                        terminalSafe(std::string_view(text->data(), text->size())));
      }
    }
  }
  return lines;
}

Lines describeRunResumed(const Event& event) {
  const json::object& data = event.data;
  Lines lines{"run resumed"};
  if (const std::optional<std::int64_t> pid = integerMember(data, "agent_pid")) {
    lines.front() += " (agent pid " + std::to_string(*pid) + ")";
  }
  if (const json::array* interrupted = arrayMember(data, "interrupted")) {
    for (const json::value& entry : *interrupted) {
      if (const json::object* item = entry.if_object()) {
        lines.push_back("interrupted step " + safeMember(*item, "step") + " (" +
                        safeMember(*item, "phase") + "): " + safeMember(*item, "resolution"));
      }
    }
  }
  if (const json::array* orphans = arrayMember(data, "orphans_stopped")) {
    std::string groups;
    for (const json::value& entry : *orphans) {
      if (entry.is_int64() || entry.is_uint64()) {
        groups += (groups.empty() ? "" : ", ") + json::serialize(entry);
      }
    }
    if (!groups.empty()) {
      lines.push_back("stopped orphaned process groups " + groups);
    }
  }
  return lines;
}

Lines describeStepFinished(const Event& event) {
  const json::object& data = event.data;
  const std::string status = safeMember(data, "status");
  const std::string word = status.empty()          ? "finished"
                           : status == "timed_out" ? "timed out"
                                                   : status;
  std::string line = "step " + terminalSafe(event.step) + phasePrefix(data) + " " + word;
  if (status == "skipped") {
    const std::string reason = safeMember(data, "reason");
    return {reason.empty() ? line : line + ": " + reason};
  }
  line += " in " + elapsed(integerMember(data, "duration_ms").value_or(0));
  const std::optional<std::int64_t> attempts = integerMember(data, "attempts");
  if (attempts && *attempts > 1) {
    line += " after " + std::to_string(*attempts) + " attempts";
  }
  if (const std::optional<std::int64_t> code = integerMember(data, "exit_code")) {
    line += ", exit code " + std::to_string(*code);
  }
  if (const std::optional<std::int64_t> signal = integerMember(data, "signal")) {
    line += ", signal " + std::to_string(*signal);
  } else if (const std::string name = safeMember(data, "signal"); !name.empty()) {
    line += ", signal " + name;
  }
  if (const std::optional<std::int64_t> httpStatus = integerMember(data, "http_status")) {
    line += ", HTTP " + std::to_string(*httpStatus);
  }
  Lines lines;
  const Lines error = splitLines(stringMember(data, "error"));
  if (!error.empty()) {
    line += ": " + error.front();
  }
  lines.push_back(std::move(line));
  for (std::size_t i = 1; i < error.size(); ++i) {
    lines.push_back("  " + error[i]);
  }
  return lines;
}

Lines describeDecisionRequested(const Event& event) {
  const json::object& data = event.data;
  Lines lines{"decision " + terminalSafe(event.step) +
              " requested: " + safeMember(data, "question")};
  if (const json::array* options = arrayMember(data, "options")) {
    for (const json::value& entry : *options) {
      const json::object* option = entry.if_object();
      if (option == nullptr) {
        continue;
      }
      std::string line = "  option " + safeMember(*option, "id");
      const std::string label = safeMember(*option, "label");
      if (!label.empty()) {
        line += ": " + label;
      }
      const std::string impact = safeMember(*option, "impact");
      if (!impact.empty()) {
        line += " (impact: " + impact + ")";
      }
      lines.push_back(std::move(line));
    }
  }
  std::string who = "  approvers: ";
  const std::string approvers = joinedStrings(data, "approvers");
  who += approvers.empty() ? "anyone" : approvers;
  if (const std::optional<std::int64_t> deadline = integerMember(data, "deadline_ms")) {
    who += "; deadline " + target(*deadline);
  }
  const std::string fallback = safeMember(data, "default");
  if (!fallback.empty()) {
    who += "; default " + fallback;
  }
  lines.push_back(std::move(who));
  return lines;
}

Lines describeDecisionMade(const Event& event) {
  const json::object& data = event.data;
  std::string line =
      "decision " + terminalSafe(event.step) + " made: " + safeMember(data, "choice");
  const std::string by = safeMember(data, "by");
  if (!by.empty()) {
    line += " by " + by;
  }
  const std::string via = safeMember(data, "via");
  if (!via.empty()) {
    line += " via " + via;
  }
  const std::string rationale = safeMember(data, "rationale");
  if (!rationale.empty()) {
    line += ": \"" + rationale + "\"";
  }
  return {line};
}

Lines describeNotify(const Event& event) {
  const json::object& data = event.data;
  std::string line = "notify " + safeMember(data, "audience");
  const std::string templateName = safeMember(data, "template");
  if (!templateName.empty()) {
    line += " (" + templateName + ")";
  }
  const std::string channels = joinedStrings(data, "channels");
  if (!channels.empty()) {
    line += " via " + channels;
  }
  Lines lines;
  const Lines message = splitLines(stringMember(data, "message"));
  if (!message.empty()) {
    line += ": " + message.front();
  }
  lines.push_back(std::move(line));
  for (std::size_t i = 1; i < message.size(); ++i) {
    lines.push_back("  " + message[i]);
  }
  return lines;
}

std::string objectiveName(const json::object& data) {
  std::string name = safeMember(data, "objective");
  for (char& c : name) {
    c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return name;
}

Lines describeObjective(const Event& event, bool evaluated) {
  const json::object& data = event.data;
  const std::optional<std::int64_t> value = integerMember(data, "value_ms");
  const std::string source = safeMember(data, "source");
  const std::string from = source.empty() ? "" : " (from step " + source + ")";
  if (!evaluated) {
    return {"objective " + objectiveName(data) +
            " measured: " + (value ? elapsed(*value) : std::string("no value")) + from};
  }
  const std::string verdict = safeMember(data, "verdict");
  std::string line = "objective " + objectiveName(data) + " " +
                     (verdict.empty() ? std::string("evaluated") : verdict) + ": ";
  line += value ? elapsed(*value) : std::string("not measured");
  if (const std::optional<std::int64_t> goal = integerMember(data, "target_ms")) {
    line += (value ? " against target " : ", target ") + target(*goal);
  }
  line += from;
  Lines lines{std::move(line)};
  const std::string outageStart = safeMember(data, "outage_start");
  const std::string restoredAt = safeMember(data, "restored_at");
  if (!outageStart.empty() || !restoredAt.empty()) {
    std::string detail = "  outage start " + (outageStart.empty() ? "?" : outageStart);
    const std::string startSource = safeMember(data, "outage_start_source");
    if (!startSource.empty()) {
      detail += " (" + startSource + ")";
    }
    if (!restoredAt.empty()) {
      detail += ", restored at " + restoredAt;
    }
    lines.push_back(std::move(detail));
  }
  return lines;
}

Lines describeRunFinished(const Event& event) {
  const json::object& data = event.data;
  const std::string outcome = safeMember(data, "outcome");
  std::string line = "run finished: " + (outcome.empty() ? std::string("?") : outcome);
  if (const std::optional<std::int64_t> duration = integerMember(data, "duration_ms")) {
    line += " in " + elapsed(*duration);
  }
  if (const std::optional<std::int64_t> code = integerMember(data, "exit_code")) {
    line += ", exit code " + std::to_string(*code);
  }
  const std::string failed = joinedStrings(data, "failed_steps");
  if (!failed.empty()) {
    line += "; failed steps: " + failed;
  }
  const std::string cleanup = safeMember(data, "cleanup");
  if (!cleanup.empty() && cleanup != "none") {
    line += "; cleanup " + cleanup;
  }
  if (boolMember(data, "rolled_back").value_or(false)) {
    line += "; rolled back";
  }
  const std::string error = safeMember(data, "error");
  if (!error.empty()) {
    line += "; error: " + error;
  }
  return {line};
}

}  // namespace

std::string modePhrase(const RunModel& model) {
  return model.drill() ? "in this drill" : "in this run";
}

std::vector<std::string> describeEvent(const Event& event, const RunModel& model) {
  const std::string_view type = event.type;
  const json::object& data = event.data;
  if (type == event_type::kRunStarted) {
    return describeRunStarted(event, model);
  }
  if (type == event_type::kPreflightFinished) {
    return describePreflight(event);
  }
  if (type == event_type::kRunResumed) {
    return describeRunResumed(event);
  }
  if (type == event_type::kRunCancelling) {
    std::string line = "run cancelling: " + safeMember(data, "reason");
    const std::string signal = safeMember(data, "signal");
    if (!signal.empty()) {
      line += " " + signal;
    } else if (const std::optional<std::int64_t> number = integerMember(data, "signal")) {
      line += " " + std::to_string(*number);
    }
    return {line};
  }
  if (type == event_type::kStepStarted) {
    std::string line = "step " + terminalSafe(event.step) + phasePrefix(data) + " started";
    const std::string kind = safeMember(data, "kind");
    std::string detail = kind;
    const int attempt = static_cast<int>(integerMember(data, "attempt").value_or(1));
    const StepModel* step = model.findStep(event.step);
    if (step != nullptr && step->maxAttempts && *step->maxAttempts > 1) {
      detail += (detail.empty() ? "" : ", ") +
                ("attempt " + std::to_string(attempt) + "/" + std::to_string(*step->maxAttempts));
    } else if (attempt > 1) {
      detail += (detail.empty() ? "" : ", ") + ("attempt " + std::to_string(attempt));
    }
    if (!detail.empty()) {
      line += " (" + detail + ")";
    }
    return {line};
  }
  if (type == event_type::kStepOutput) {
    const std::string prefix = terminalSafe(event.step) + " " + safeMember(data, "stream") + ": ";
    Lines lines = splitLines(stringMember(data, "text"));
    for (std::string& line : lines) {
      line.insert(0, prefix);
    }
    return lines;
  }
  if (type == event_type::kStepFinished) {
    return describeStepFinished(event);
  }
  if (type == event_type::kDecisionRequested) {
    return describeDecisionRequested(event);
  }
  if (type == event_type::kDecisionMade) {
    return describeDecisionMade(event);
  }
  if (type == event_type::kNotifyRequested) {
    return describeNotify(event);
  }
  if (type == event_type::kObjectiveMeasured) {
    return describeObjective(event, false);
  }
  if (type == event_type::kObjectiveEvaluated) {
    return describeObjective(event, true);
  }
  if (type == event_type::kRunFinished) {
    return describeRunFinished(event);
  }
  return {};
}

}  // namespace lifeboat::live
