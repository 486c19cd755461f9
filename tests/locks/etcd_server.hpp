#pragma once
// A real etcd (the Debian package's /usr/bin/etcd) on 127.0.0.1, one member,
// data in a directory the caller owns. Ports below 32768, chosen free by
// binding them first; started again on other ports if etcd could not bind.

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace lifeboat::locks::fixtures {

class EtcdServer {
 public:
  // Starts etcd with its data and log under `directory` and waits (up to
  // 20 s, polling /health) until it serves. On failure the current test has
  // failed (ADD_FAILURE) and running() is false.
  explicit EtcdServer(const std::filesystem::path& directory);
  ~EtcdServer();  // stop()
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  bool running() const { return pid_ > 0; }
  // "http://127.0.0.1:PORT"
  const std::string& endpoint() const { return endpoint_; }
  // SIGKILL and reap: the way a crashed or unreachable etcd looks.
  void stop();

 private:
  bool start(const std::filesystem::path& directory, int attempt);
  pid_t pid_ = -1;
  std::string endpoint_;
  std::filesystem::path log_;
};

}  // namespace lifeboat::locks::fixtures
