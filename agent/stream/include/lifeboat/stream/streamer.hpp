#pragma once
// Sends the spool to the coordinator (docs/protocol.md, "Streaming to the
// coordinator"): a Boost.Beast websocket over TLS 1.3 with mutual TLS, hello
// first, then batches of spooled lines, a heartbeat every 10 s when idle,
// acknowledgements advancing the spool. Reconnects with exponential backoff
// (0.5 s doubling to 30 s, ±20 % jitter, reset after a connection that lasted
// a minute) and logs each change of state once.
//
// Only the process holding <spool>/stream.lock streams; a Streamer that cannot
// take it tries again every second and meanwhile leaves the spool to the
// process that holds it.
//
// Threads: the Streamer runs on a thread of its own with its own io_context;
// its public functions may be called from any thread and never wait for the
// network.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "lifeboat/common/result.hpp"
#include "lifeboat/net/tls_options.hpp"
#include "lifeboat/stream/spool.hpp"

namespace lifeboat::stream {

struct StreamerOptions {
  std::string url;  // wss://HOST:PORT/PATH
  net::TlsClientOptions tls;
  std::filesystem::path spoolDirectory;
  std::string agent;  // hello's and heartbeats' `agent` (the certificate's name)
  std::string agentVersion;
  Log log;  // connection changes and refusals, one line each
  std::chrono::milliseconds heartbeat{10'000};
  std::chrono::milliseconds backoffInitial{500};
  std::chrono::milliseconds backoffMax{30'000};
  std::chrono::milliseconds rescan{1'000};  // how often the spool is looked at
  std::size_t maxInFlight = 16;             // batches sent and not yet acknowledged
  std::uint64_t seed = 0;                   // jitter; 0 = std::random_device
};

struct StreamerStatus {
  bool holdsSpool = false;  // this process streams
  bool connected = false;
  std::uint64_t ackedBatches = 0;
  std::uint64_t ackedEvents = 0;
  std::string lastError;  // why the last connection attempt or connection failed
};

// The parts of a wss:// URL.
struct StreamUrl {
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string target;  // the path, "/" when empty
};
Result<StreamUrl> parseStreamUrl(std::string_view url);

class Streamer {
 public:
  // Checks the URL and the TLS files, then starts the thread.
  static Result<std::unique_ptr<Streamer>> start(StreamerOptions options);
  ~Streamer();  // stop()
  Streamer(const Streamer&) = delete;
  Streamer& operator=(const Streamer&) = delete;

  // Something was spooled: look at the spool now rather than at the next
  // rescan.
  void notify();
  // Closes the connection and joins the thread. Idempotent.
  void stop();
  StreamerStatus status() const;

 private:
  struct Impl;
  explicit Streamer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::stream
