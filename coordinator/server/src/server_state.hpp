#pragma once
// What the listeners and sessions share (internal to the server library).
// Every member is safe to use from any thread as documented on it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "api_routes.hpp"
#include "committer.hpp"
#include "log.hpp"

namespace lifeboat::coordinator {

// Callbacks by id, under a mutex: open sessions (to close them at
// shutdown) and live subscribers (to push stored events to them). The
// callbacks must only post work to their session's strand.
template <class Callback>
class CallbackSet {
 public:
  std::uint64_t add(Callback callback) {
    const std::lock_guard lock(mutex_);
    const std::uint64_t id = ++next_;
    callbacks_.emplace(id, std::move(callback));
    return id;
  }
  void remove(std::uint64_t id) {
    const std::lock_guard lock(mutex_);
    callbacks_.erase(id);
  }
  // Drops every callback (and what it holds: executors of the io_context,
  // which must still exist).
  void clear() {
    std::map<std::uint64_t, Callback> dropped;
    {
      const std::lock_guard lock(mutex_);
      dropped.swap(callbacks_);
    }
  }
  std::size_t size() {
    const std::lock_guard lock(mutex_);
    return callbacks_.size();
  }
  template <class... Args>
  void callAll(const Args&... args) {
    std::map<std::uint64_t, Callback> copy;
    {
      const std::lock_guard lock(mutex_);
      copy = callbacks_;
    }
    for (auto& [id, callback] : copy) {
      callback(args...);
    }
  }

 private:
  std::mutex mutex_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, Callback> callbacks_;
};

struct ServerState {
  Log& log;
  Committer& committer;
  ApiRoutes& routes;
  CallbackSet<std::function<void()>> sessions;  // each closes its session
  CallbackSet<std::function<void(LiveMessages)>> subscribers;
  std::atomic<bool> stopping{false};
};

}  // namespace lifeboat::coordinator
