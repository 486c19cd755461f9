#pragma once
// The engine's insides, shared by engine.cpp (threads, API) and pages.cpp
// (status page, post-incident summary).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "composer.hpp"
#include "ingest.hpp"
#include "lifeboat/comms/engine.hpp"
#include "lifeboat/store/store.hpp"

namespace lifeboat::comms::detail {

class ChannelWorker;

// `fn` runs with the connection; SqliteFailure becomes the Error.
template <typename T, typename Fn>
Result<T> guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const SqliteFailure& failure) {
    return failure.error;
  }
}

}  // namespace lifeboat::comms::detail

namespace lifeboat::comms {

struct Engine::Impl {
  explicit Impl(EngineOptions engineOptions);

  std::int64_t now() const { return detail::toMillis(options.clock()); }
  void log(std::string_view line) const {
    if (options.log) {
      options.log(line);
    }
  }
  // Wakes every channel's sender (new or approved messages).
  void wakeSenders();
  // Reads new events and runs the clocks; returns messages queued.
  std::size_t pass(std::optional<std::int64_t>& nextWake);
  void loop();

  EngineOptions options;
  detail::Composer composer;
  detail::Ingest ingest;

  std::mutex writerMutex;  // the ingest connection and the events reader
  std::unique_ptr<detail::Connection> writer;
  std::unique_ptr<store::Store> events;

  std::mutex apiMutex;  // the API's connection
  std::unique_ptr<detail::Connection> api;

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool eventsPending = true;
  std::thread thread;
  std::vector<std::unique_ptr<detail::ChannelWorker>> workers;
};

}  // namespace lifeboat::comms
