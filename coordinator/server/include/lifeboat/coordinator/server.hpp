#pragma once
// The coordinator's server (docs/coordinator.md): the agents' mutual-TLS
// websocket endpoint and the people's HTTPS API, live feed and dashboard,
// on one io_context run by `threads` threads, with one committer thread
// that owns the writing Store (group commit; acknowledgements only after
// the commit).
//
// Beast stays inside the library: this header names no network type.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/coordinator/server_config.hpp"

namespace lifeboat::coordinator {

// Loads both listeners' certificates and keys (and the agents' CA) the way
// serve does; one Error per problem, empty when all are usable.
std::vector<Error> checkTls(const ServerConfig& config);

class Server {
 public:
  // Opens the store read-write (migrating it) and marks every agent
  // offline, sets up TLS and binds both listeners. Errors: the store is
  // unusable, a certificate cannot be loaded, a port cannot be bound.
  // Logs go to `log` (one line each; never a token or a key).
  static Result<std::unique_ptr<Server>> start(const ServerConfig& config, std::ostream& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound ports (the real ones when the config said 0).
  std::uint16_t agentsPort() const;
  std::uint16_t apiPort() const;
  // "listening: agents wss://HOST:PORT/v1/stream, api https://HOST:PORT"
  std::string listeningLine() const;

  // Serves until stop(), or SIGTERM/SIGINT when `handleSignals`. Then stops
  // accepting, closes every connection (waiting up to 5 s for them),
  // commits what was queued and returns.
  void run(bool handleSignals);
  // Asks run() to finish; any thread, any time (also before run()).
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::coordinator
