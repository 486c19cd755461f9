#pragma once
// systemd's service notification protocol (sd_notify(3)), spoken directly:
// one datagram of NEWLINE-separated KEY=VALUE lines to the unix socket named
// by $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@').
// Used for Type=notify readiness (READY=1), reloads (RELOADING=1), stopping
// (STOPPING=1), a one-line STATUS= and the watchdog (WATCHDOG=1). Without
// $NOTIFY_SOCKET (not started by systemd) every call does nothing.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::daemon {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once.
  static SystemdNotifier fromEnvironment();

  bool enabled() const { return !socket_.empty(); }
  // Sends `state` ("READY=1\nSTATUS=watching 3 triggers"). Ok when disabled.
  Result<std::monostate> notify(std::string_view state) const;

  // How often to send WATCHDOG=1: half of $WATCHDOG_USEC, when the watchdog
  // is on for this process ($WATCHDOG_PID unset or equal to our pid).
  std::optional<std::chrono::microseconds> watchdogInterval() const { return watchdog_; }

 private:
  std::string socket_;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace lifeboat::daemon
