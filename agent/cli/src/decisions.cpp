#include "decisions.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iostream>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"

namespace lifeboat::cli {
namespace {

using Steady = std::chrono::steady_clock;

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    text += (text.empty() ? "" : ", ") + item;
  }
  return text;
}

const runbook::DecisionOption* findOption(const runbook::DecisionSpec& decision,
                                          std::string_view answer) {
  for (std::size_t i = 0; i < decision.options.size(); ++i) {
    if (decision.options[i].id == answer || std::to_string(i + 1) == answer) {
      return &decision.options[i];
    }
  }
  return nullptr;
}

bool isApprover(const runbook::DecisionSpec& decision, std::string_view name) {
  return std::find(decision.approvers.begin(), decision.approvers.end(), name) !=
         decision.approvers.end();
}

// Reads one line from `fd`, waiting until `deadline` or a cancel. nullopt on
// deadline, cancel or end of input.
std::optional<std::string> readLine(int fd, Steady::time_point deadline,
                                    const process::CancelSignal& cancel) {
  std::string line;
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0 || cancel.triggered()) {
      return std::nullopt;
    }
    std::array<pollfd, 2> fds{pollfd{fd, POLLIN, 0}, pollfd{cancel.fd(), POLLIN, 0}};
    const int timeout = static_cast<int>(std::min<std::int64_t>(left.count(), 200));
    if (::poll(fds.data(), fds.size(), timeout) <= 0) {
      continue;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP)) == 0) {
      continue;
    }
    char c = 0;
    const ssize_t got = ::read(fd, &c, 1);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return std::nullopt;
    }
    if (c == '\n') {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
      }
      return line;
    }
    if (line.size() < 4096) {
      line.push_back(c);
    }
  }
}

}  // namespace

std::string loginName() {
  for (const char* variable : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
      return value;
    }
  }
  const char* login = ::getlogin();
  return login != nullptr ? login : "unknown";
}

TerminalDecisions::TerminalDecisions(DecisionOptions options, std::function<void(bool)> pauseView)
    : options_(std::move(options)), pauseView_(std::move(pauseView)) {}

Result<std::optional<engine::DecisionAnswer>> TerminalDecisions::decide(
    const std::string& step, const runbook::DecisionSpec& decision, Steady::time_point deadline,
    const process::CancelSignal& cancel) {
  if (auto given = options_.choices.find(step); given != options_.choices.end()) {
    const runbook::DecisionOption* option = findOption(decision, given->second);
    if (option == nullptr) {
      std::vector<std::string> ids;
      for (const auto& candidate : decision.options) {
        ids.push_back(candidate.id);
      }
      return Error{"--decide " + step + "=" + given->second + ": no such option",
                   "the options are: " + joined(ids)};
    }
    const std::string approver = options_.approver.empty() ? loginName() : options_.approver;
    if (!isApprover(decision, approver)) {
      return Error{approver + " is not an approver of decision " + step,
                   "its approvers are: " + joined(decision.approvers) +
                       "; pass --approver NAME to answer as one of them"};
    }
    if (decision.requireRationale && options_.rationale.empty()) {
      return Error{"decision " + step + " needs a rationale",
                   "pass --rationale \"why this option\" with --decide"};
    }
    return std::optional<engine::DecisionAnswer>(
        engine::DecisionAnswer{option->id, approver, options_.rationale, "cli"});
  }
  if (options_.interactive) {
    return askTerminal(step, decision, deadline, cancel);
  }
  if (!decision.defaultOption.empty()) {
    // Nobody can answer here: the policy default is taken at the deadline.
    cancel.waitFor(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(deadline - Steady::now(), Steady::duration::zero())));
    return std::optional<engine::DecisionAnswer>();
  }
  return Error{"decision " + step + " needs an answer, and there is no terminal to ask",
               "pass --decide " + step + "=OPTION --rationale \"why\" (and --approver NAME)"};
}

Result<std::optional<engine::DecisionAnswer>> TerminalDecisions::askTerminal(
    const std::string& step, const runbook::DecisionSpec& decision, Steady::time_point deadline,
    const process::CancelSignal& cancel) {
  std::lock_guard lock(terminal_);
  if (pauseView_) {
    pauseView_(true);
  }
  struct Resume {
    std::function<void(bool)>& pause;
    ~Resume() {
      if (pause) {
        pause(false);
      }
    }
  } resume{pauseView_};

  std::ostream& out = std::cerr;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::round<std::chrono::seconds>(deadline - Steady::now()));
  out << "\nDecision " << step << ": " << decision.question << '\n';
  for (std::size_t i = 0; i < decision.options.size(); ++i) {
    const auto& option = decision.options[i];
    out << "  " << (i + 1) << ") " << option.id;
    if (!option.label.empty() && option.label != option.id) {
      out << " - " << option.label;
    }
    out << "\n     impact: " << option.impact << '\n';
  }
  out << "Approvers: " << joined(decision.approvers) << ". Answer within " << formatDuration(left);
  if (!decision.defaultOption.empty()) {
    out << " or '" << decision.defaultOption << "' is taken";
  }
  out << ".\n";

  const runbook::DecisionOption* option = nullptr;
  while (option == nullptr) {
    out << "Choice (number or id): " << std::flush;
    std::optional<std::string> answer = readLine(STDIN_FILENO, deadline, cancel);
    if (!answer) {
      out << '\n';
      return std::optional<engine::DecisionAnswer>();
    }
    option = findOption(decision, *answer);
    if (option == nullptr) {
      out << "No option '" << *answer << "'.\n";
    }
  }
  std::string approver = options_.approver;
  while (approver.empty() || !isApprover(decision, approver)) {
    const std::string suggestion =
        isApprover(decision, loginName()) ? loginName() : decision.approvers.front();
    out << "Your name, as an approver (" << joined(decision.approvers) << ") [" << suggestion
        << "]: " << std::flush;
    std::optional<std::string> answer = readLine(STDIN_FILENO, deadline, cancel);
    if (!answer) {
      out << '\n';
      return std::optional<engine::DecisionAnswer>();
    }
    approver = answer->empty() ? suggestion : *answer;
    if (!isApprover(decision, approver)) {
      out << approver << " is not an approver of this decision.\n";
    }
  }
  std::string rationale = options_.rationale;
  while (rationale.empty()) {
    out << "Rationale" << (decision.requireRationale ? "" : " (optional)") << ": " << std::flush;
    std::optional<std::string> answer = readLine(STDIN_FILENO, deadline, cancel);
    if (!answer) {
      out << '\n';
      return std::optional<engine::DecisionAnswer>();
    }
    rationale = *answer;
    if (!decision.requireRationale) {
      break;
    }
  }
  return std::optional<engine::DecisionAnswer>(
      engine::DecisionAnswer{option->id, approver, rationale, "terminal"});
}

}  // namespace lifeboat::cli
