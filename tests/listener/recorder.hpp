#pragma once
// Shared pieces of the listener's tests: a handler that records what reaches
// it, and start() that fails the test instead of returning an Error.

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "lifeboat/listener/server.hpp"

namespace lifeboat::listener::testing {

// Handler calls happen on the server's thread; the test reads from its own.
class Recorder {
 public:
  explicit Recorder(Response answer = {}) : answer_(std::move(answer)) {}

  Handler handler() {
    return [this](const Request& request) {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request);
      return answer_;
    };
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }
  Request last() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.empty() ? Request{} : requests_.back();
  }

 private:
  Response answer_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

inline std::unique_ptr<Server> startOrFail(std::vector<Endpoint> endpoints, Handler handler,
                                           ServerOptions options = {}) {
  auto started = Server::start(std::move(endpoints), std::move(handler), options);
  if (!started) {
    ADD_FAILURE() << "Server::start: " << started.error().message << " (" << started.error().hint
                  << ")";
    return nullptr;
  }
  return std::move(*started);
}

inline Endpoint loopback() {
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  return endpoint;
}

}  // namespace lifeboat::listener::testing
