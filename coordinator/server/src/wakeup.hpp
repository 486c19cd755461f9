#pragma once
// A one-shot signal between handlers of one strand: wait() suspends a
// coroutine until notify() (or returns at once when notify() came first).
// Both must run on the strand that owns the Wakeup.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace lifeboat::coordinator {

class Wakeup {
 public:
  template <class Executor>
  explicit Wakeup(const Executor& executor) : timer_(executor) {}

  // Returns true when notified, false when `limit` passed first.
  boost::asio::awaitable<bool> waitFor(std::chrono::steady_clock::duration limit) {
    if (!pending_) {
      timer_.expires_after(limit);
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    const bool notified = pending_;
    pending_ = false;
    co_return notified;
  }

  boost::asio::awaitable<void> wait() {
    while (!pending_) {
      timer_.expires_after(std::chrono::hours(24));
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    pending_ = false;
  }

  void notify() {
    pending_ = true;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  bool pending_ = false;
};

}  // namespace lifeboat::coordinator
