#pragma once
// The real `lifeboat-coordinator` as a child process for the stream tests:
// certificates from `certs init`, a config on free loopback ports, start,
// stop (SIGTERM) and crash (SIGKILL), and the store read back read-only.

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace lifeboat::test_support {

std::filesystem::path coordinatorBinary();

class CoordinatorProcess {
 public:
  // Makes `directory`/tls with `certs init --agent NAME` for each of `agents`
  // and a config using `directory`/events.db; `extraConfig` (TOML such as
  // [[token]] and [comms] tables) is appended to it.
  CoordinatorProcess(const std::filesystem::path& directory, const std::vector<std::string>& agents,
                     const std::string& extraConfig = {});
  ~CoordinatorProcess();
  CoordinatorProcess(const CoordinatorProcess&) = delete;
  CoordinatorProcess& operator=(const CoordinatorProcess&) = delete;

  // Starts it and waits for its "listening:" line (fails the test when it
  // exits or does not get there within 20 s).
  void start();
  void stop();   // SIGTERM, then wait
  void crash();  // SIGKILL, then wait
  bool running() const { return pid_ > 0; }

  std::string url() const;
  int apiPort() const { return agentsPort_ + 1; }  // the API's HTTPS port
  std::filesystem::path tls(const std::string& name) const;
  std::filesystem::path database() const;
  std::string log() const;  // the tail of its log

  // Every event the store holds for `agent`, in stored order (the store's
  // own ids), as the store's JSON objects.
  std::vector<boost::json::object> storedEvents(const std::string& agent) const;
  // (run, seq) of the same.
  std::multiset<std::pair<std::string, std::uint64_t>> stored(const std::string& agent) const;

 private:
  std::filesystem::path directory_;
  int agentsPort_ = 0;
  pid_t pid_ = -1;
};

}  // namespace lifeboat::test_support
