#pragma once
// Who answers decision steps when there is no coordinator: the answers given
// with --decide STEP=OPTION (with --rationale and --approver), else the
// operator at the terminal, else nobody (the runbook's default after its
// deadline, or the step fails).

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "lifeboat/engine/run.hpp"

namespace lifeboat::cli {

struct DecisionOptions {
  std::map<std::string, std::string> choices;  // step -> option id (--decide)
  std::string rationale;                       // --rationale
  std::string approver;                        // --approver; else the login name
  bool interactive = false;                    // a terminal may be asked
};

class TerminalDecisions final : public engine::DecisionProvider {
 public:
  // `pauseView(true)` is called before the terminal is used and
  // `pauseView(false)` after, so that the live view does not draw over it.
  TerminalDecisions(DecisionOptions options, std::function<void(bool)> pauseView);

  Result<std::optional<engine::DecisionAnswer>> decide(
      const std::string& step, const runbook::DecisionSpec& decision,
      std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel) override;

 private:
  Result<std::optional<engine::DecisionAnswer>> askTerminal(
      const std::string& step, const runbook::DecisionSpec& decision,
      std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel);

  DecisionOptions options_;
  std::function<void(bool)> pauseView_;
  std::mutex terminal_;  // one prompt at a time
};

// The operator's login name ($SUDO_USER, $USER, or getlogin()).
std::string loginName();

}  // namespace lifeboat::cli
