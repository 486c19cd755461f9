#pragma once
// The coordinator's log: one line per event of note on the given stream
// (stderr), prefixed with the UTC time. Any thread may call line(). Callers
// never pass a token or a key; agent names and addresses are fine.

#include <chrono>
#include <mutex>
#include <ostream>
#include <string_view>

#include "lifeboat/common/event.hpp"

namespace lifeboat::coordinator {

class Log {
 public:
  explicit Log(std::ostream& out) : out_(out) {}

  void line(std::string_view text) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const std::lock_guard lock(mutex_);
    out_ << formatTimestamp(now) << ' ' << text << '\n' << std::flush;
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

}  // namespace lifeboat::coordinator
