#pragma once
// A database client for the failover tests: it writes one numbered row after
// another through a connection string (HAProxy's frontend), reconnecting as
// fast as it can after any failure, and remembers when each write was
// acknowledged. What it saw is what a real application would have seen: the
// outage it observed and the acknowledged writes that a failover lost.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lifeboat::failover_test {

using SystemTime = std::chrono::system_clock::time_point;

struct Acknowledged {
  std::int64_t number = 0;
  SystemTime at;  // when COMMIT returned to the client
};

class WriteClient {
 public:
  // Creates the table `client_writes` through `dsn` (it must reach a primary)
  // and starts writing: one row, then `pause`, then the next.
  WriteClient(std::string dsn, std::chrono::milliseconds pause);
  ~WriteClient();  // stop()
  WriteClient(const WriteClient&) = delete;
  WriteClient& operator=(const WriteClient&) = delete;

  void stop();
  std::vector<Acknowledged> acknowledged() const;
  std::size_t failures() const { return failures_.load(); }
  // The first write acknowledged after `time`, if any.
  std::optional<Acknowledged> firstAfter(SystemTime time) const;
  // The last write acknowledged before `time`, if any.
  std::optional<Acknowledged> lastBefore(SystemTime time) const;
  // Waits up to `timeout` for a write acknowledged after `time`.
  bool waitForWriteAfter(SystemTime time, std::chrono::milliseconds timeout) const;

 private:
  void loop();

  std::string dsn_;
  std::chrono::milliseconds pause_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> failures_{0};
  mutable std::mutex mutex_;
  std::vector<Acknowledged> acknowledged_;
  std::thread thread_;
};

// The largest number, at most `upTo`, among the rows of `client_writes` on the
// server `dsn` reaches; nullopt when there is none or the server cannot be
// asked.
std::optional<std::int64_t> newestSurvivingWrite(const std::string& dsn, std::int64_t upTo);

}  // namespace lifeboat::failover_test
