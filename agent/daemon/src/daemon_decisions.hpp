#pragma once
// Decision steps of runs `lifeboat watch` started: nobody sits at a terminal,
// so a decision waits for `lifeboat decide SERVICE STEP CHOICE --approver NAME
// --rationale TEXT` (POST /v1/decide on the control socket) until its
// deadline, when the engine takes the runbook's default.

#include <boost/json/array.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lifeboat/engine/run.hpp"

namespace lifeboat::daemon {

class DaemonDecisions final : public engine::DecisionProvider {
 public:
  explicit DaemonDecisions(std::string service) : service_(std::move(service)) {}

  void setRun(std::string run);

  // The engine's worker thread.
  Result<std::optional<engine::DecisionAnswer>> decide(
      const std::string& step, const runbook::DecisionSpec& decision,
      std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel) override;

  // Any thread. Checks the choice against the options, the approver against
  // the step's approvers and the rationale when required; returns the chosen
  // option's id.
  Result<std::string> answer(const std::string& step, const std::string& choice,
                             const std::string& by, const std::string& rationale);

  // The decisions waiting now: step, question, options (id, label, impact),
  // approvers, seconds left.
  boost::json::array pendingJson() const;

 private:
  struct Waiting {
    const runbook::DecisionSpec* decision = nullptr;
    std::chrono::steady_clock::time_point deadline;
    std::optional<engine::DecisionAnswer> answer;
  };
  std::string service_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string run_;
  std::map<std::string, Waiting> waiting_;
};

}  // namespace lifeboat::daemon
