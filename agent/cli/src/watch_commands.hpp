#pragma once
// The daemon and its control commands: watch, status, trigger, approve,
// decide. All but `watch` talk to a running `lifeboat watch` over its control
// socket (plain HTTP on a unix socket; the socket's file permissions are the
// access control).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace lifeboat::cli {

// Exit codes of the control commands, on top of the README's table.
inline constexpr int kExitNoDaemon = 5;  // no `lifeboat watch` answers on the socket
inline constexpr int kExitRefused = 6;   // the daemon refused (nothing pending, wrong approver)

class WatchCommands {
 public:
  explicit WatchCommands(CLI::App& app);
  std::optional<int> dispatch();

 private:
  int watch();
  int status();
  int trigger();
  int approve();
  int decide();

  CLI::App* watch_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* trigger_ = nullptr;
  CLI::App* approve_ = nullptr;
  CLI::App* decide_ = nullptr;

  std::string config_;
  std::string socket_;
  bool check_ = false;
  std::string output_ = "text";
  std::string service_;
  std::string step_;
  std::string choice_;
  std::string by_;
  std::string rationale_;
  std::string outageStart_;
};

}  // namespace lifeboat::cli
