#pragma once
// A client of HAProxy's runtime API (the `stats socket` of haproxy.cfg),
// spoken natively over its unix socket: one connection per command, the
// command and a newline written, the reply read until HAProxy closes the
// connection. Every step has the same deadline.

#include <chrono>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::haproxy_plugin {

class RuntimeApi {
 public:
  // `socketPath` is the path of the stats socket; `timeout` bounds each
  // command from connect to the end of the reply.
  RuntimeApi(std::string socketPath, std::chrono::milliseconds timeout);

  // Sends one command (one line, no newline in it: callers build commands
  // from validated names only) and returns HAProxy's whole reply. An Error
  // names the socket and what failed (missing, refused, permission, timeout).
  Result<std::string> send(std::string_view command) const;

  const std::string& socketPath() const { return socketPath_; }

 private:
  std::string socketPath_;
  std::chrono::milliseconds timeout_;
};

}  // namespace lifeboat::haproxy_plugin
