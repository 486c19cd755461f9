#pragma once
// What the connections of one Server share. Only the server's io thread
// touches it once the thread runs.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>

#include "lifeboat/listener/server.hpp"

namespace lifeboat::listener::detail {

struct ServerState {
  Handler handler;
  ServerOptions options;
  // Set once by stop(): sessions start no further I/O.
  bool stopping = false;
  // Counted from accept until the session's coroutine ends.
  std::size_t connections = 0;
  // One entry per running session: closes its socket (stop() calls them).
  std::uint64_t nextConnectionId = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> closers;
};

}  // namespace lifeboat::listener::detail
