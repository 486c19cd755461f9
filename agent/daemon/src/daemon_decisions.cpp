#include "daemon_decisions.hpp"

#include <algorithm>
#include <boost/json/object.hpp>

namespace lifeboat::daemon {

namespace json = boost::json;

void DaemonDecisions::setRun(std::string run) {
  std::lock_guard guard(mutex_);
  run_ = std::move(run);
}

Result<std::optional<engine::DecisionAnswer>> DaemonDecisions::decide(
    const std::string& step, const runbook::DecisionSpec& decision,
    std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel) {
  std::unique_lock lock(mutex_);
  waiting_[step] = Waiting{&decision, deadline, std::nullopt};
  while (true) {
    Waiting& waiting = waiting_[step];
    if (waiting.answer) {
      engine::DecisionAnswer answer = std::move(*waiting.answer);
      waiting_.erase(step);
      return std::optional<engine::DecisionAnswer>(std::move(answer));
    }
    const auto now = std::chrono::steady_clock::now();
    if (cancel.triggered() || now >= deadline) {
      waiting_.erase(step);
      return std::optional<engine::DecisionAnswer>{};
    }
    // Wakes for answers at once, and polls the cancel signal.
    changed_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
}

Result<std::string> DaemonDecisions::answer(const std::string& step, const std::string& choice,
                                            const std::string& by, const std::string& rationale) {
  std::lock_guard guard(mutex_);
  auto found = waiting_.find(step);
  if (found == waiting_.end() || found->second.answer) {
    std::string open;
    for (const auto& [name, waiting] : waiting_) {
      open += (open.empty() ? "" : ", ") + name;
    }
    return Error{"no decision step " + step + " is waiting in the failover of " + service_,
                 open.empty() ? "none is waiting now" : "waiting: " + open};
  }
  const runbook::DecisionSpec& decision = *found->second.decision;
  const auto option =
      std::find_if(decision.options.begin(), decision.options.end(),
                   [&choice](const runbook::DecisionOption& item) { return item.id == choice; });
  if (option == decision.options.end()) {
    std::string ids;
    for (const auto& item : decision.options) {
      ids += (ids.empty() ? "" : ", ") + item.id;
    }
    return Error{"step " + step + " has no option " + choice, "its options: " + ids};
  }
  if (std::find(decision.approvers.begin(), decision.approvers.end(), by) ==
      decision.approvers.end()) {
    std::string names;
    for (const auto& name : decision.approvers) {
      names += (names.empty() ? "" : ", ") + name;
    }
    return Error{
        by.empty() ? "the decision needs an approver's name" : by + " may not decide step " + step,
        "its approvers: " + names};
  }
  if (decision.requireRationale && rationale.empty()) {
    return Error{"step " + step + " requires a rationale", "say why, with --rationale"};
  }
  found->second.answer = engine::DecisionAnswer{choice, by, rationale, "control-socket"};
  changed_.notify_all();
  return choice;
}

json::array DaemonDecisions::pendingJson() const {
  std::lock_guard guard(mutex_);
  json::array out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [step, waiting] : waiting_) {
    json::array options;
    for (const auto& option : waiting.decision->options) {
      options.push_back(
          json::object{{"id", option.id}, {"label", option.label}, {"impact", option.impact}});
    }
    json::array approvers;
    for (const auto& name : waiting.decision->approvers) {
      approvers.push_back(json::string(name));
    }
    out.push_back(json::object{
        {"run_id", run_},
        {"step", step},
        {"question", waiting.decision->question},
        {"options", std::move(options)},
        {"approvers", std::move(approvers)},
        {"seconds_left",
         std::chrono::duration_cast<std::chrono::seconds>(waiting.deadline - now).count()}});
  }
  return out;
}

}  // namespace lifeboat::daemon
