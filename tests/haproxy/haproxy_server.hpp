#pragma once
// A real HAProxy (Debian's /usr/sbin/haproxy, 2.6) in the foreground (-db),
// for integration tests: every file it uses (haproxy.cfg, the runtime API
// socket, the pid file, its log) lives in a directory the caller owns. Each
// backend gets a TCP frontend of its own on 127.0.0.1 at a port chosen free
// (test_support::freePorts); HAProxy is started again on other ports if it
// could not bind. The runtime API socket is `stats socket DIR/haproxy.sock
// mode 600 level admin`, which is what the `haproxy` plugin needs.
//
// Typical use (the shape the failover test needs):
//
//   HaproxyConfig config;
//   config.backends.push_back({.name = "pg", .servers = {
//       {.name = "primary", .address = "127.0.0.1", .port = p1},
//       {.name = "standby", .address = "127.0.0.2", .port = p2, .ready = false}}});
//   config.backends.push_back({.name = "pg_drill", .servers = {
//       {.name = "copy", .address = "127.0.0.1", .port = 1, .ready = false}}});
//   HaproxyServer haproxy(dir, config);
//   connect to 127.0.0.1:haproxy.frontendPort("pg") ...
//
// Not thread-safe; one object owns one HAProxy process, stopped (and reaped)
// by the destructor.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lifeboat::test_servers {

// One `server` line of a backend.
struct HaproxyServerSpec {
  std::string name;
  std::string address = "127.0.0.1";
  int port = 0;
  // A TCP-connect health check every `checkInterval` ms; `fall` failures mark
  // the server down, `rise` successes up. With a check the server also gets
  // `on-marked-down shutdown-sessions`.
  bool check = true;
  int checkIntervalMs = 100;
  int fall = 1;
  int rise = 1;
  // false: the server starts in maintenance (`disabled`).
  bool ready = true;
};

struct HaproxyBackendSpec {
  std::string name;
  std::vector<HaproxyServerSpec> servers;
};

struct HaproxyConfig {
  // Each backend gets its own frontend (mode tcp) on 127.0.0.1.
  std::vector<HaproxyBackendSpec> backends;
};

class HaproxyServer {
 public:
  // Writes DIR/haproxy.cfg, starts HAProxy and waits (up to 10 s) until its
  // runtime API answers. On failure the current test has failed
  // (ADD_FAILURE, naming the missing binary or quoting HAProxy's log) and
  // running() is false.
  HaproxyServer(const std::filesystem::path& directory, HaproxyConfig config);
  ~HaproxyServer();  // stop()
  HaproxyServer(const HaproxyServer&) = delete;
  HaproxyServer& operator=(const HaproxyServer&) = delete;

  bool running() const { return pid_ > 0; }
  // The port of the frontend of `backend` on 127.0.0.1 (0 for an unknown one).
  int frontendPort(const std::string& backend) const;
  // The frontend port of the first backend.
  int frontendPort() const;
  // The runtime API socket, for the plugin's `socket` target field.
  const std::filesystem::path& socketPath() const { return socket_; }
  // Sends one runtime API command and returns the reply text ("" when the
  // socket cannot be reached), for assertions.
  std::string runtime(const std::string& command) const;
  // SIGTERM, then SIGKILL after 2 s; reaps the process.
  void stop();

 private:
  bool start(int attempt);

  std::filesystem::path directory_;
  HaproxyConfig config_;
  std::filesystem::path socket_;
  std::filesystem::path log_;
  std::map<std::string, int> frontendPorts_;
  pid_t pid_ = -1;
};

}  // namespace lifeboat::test_servers
