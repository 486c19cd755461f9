#pragma once
// A small HTTP/1.1 server for the `lifeboat watch` daemon: an HTTPS listener
// for Alertmanager webhooks and peer agents, and the local control API on a
// unix domain socket used by `lifeboat trigger`, `approve` and `status`.
//
// Threads: a Server runs one io thread of its own, started by start(). Every
// Handler call happens on that thread, one at a time, so a handler must be
// quick (the daemon's handlers only enqueue work) and must not call stop().
// start(), port() and stop() may be called from any other thread.
//
// What every connection gets, whatever the handler does:
//   - HTTP/1.1 with keep-alive; `Connection: close` (or HTTP/1.0 without
//     keep-alive) ends the connection after the response;
//   - a request body over ServerOptions::maxBodyBytes is answered 413, header
//     fields over 16 KiB 431, a malformed request 400, each followed by close
//     and without a handler call; `Expect: 100-continue` is answered before
//     the body is read;
//   - a connection that takes longer than readTimeout for a TLS handshake,
//     for a whole request (also while idle between requests) or to take a
//     response is closed without an answer;
//   - once maxConnections connections are open, new ones are closed at once;
//   - every response carries Content-Length (except a 204, which has no
//     body); a HEAD response carries the Content-Length of the body the
//     handler returned, without the body;
//   - a handler that throws yields a 500; nothing is thrown out of the thread.
//
// TLS endpoints speak TLS 1.3 only. With TlsOptions::clientCa set, a client
// certificate is asked for and must chain to that CA; with
// requireClientCertificate a client without one fails its handshake (TLS 1.3
// clients notice only at their first read), and no handler is called for it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/net/tls_options.hpp"

namespace lifeboat::listener {

struct Request {
  std::string method;  // as sent: "GET", "POST", …
  std::string target;  // path and query as sent: "/alerts?x=1"
  // In the order sent; names lower-cased, values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // at most ServerOptions::maxBodyBytes
  std::string peer;  // "127.0.0.1:5555", "[::1]:5555", or "unix"
  // The subject common name of a client certificate that chained to
  // TlsOptions::clientCa; empty without one (or without TLS).
  std::string clientCommonName;

  // The value of the first header named `lowerName` (lower case), "" when
  // there is none.
  std::string header(std::string_view lowerName) const;
};

struct Response {
  int status = 200;  // outside 200-599 is sent as 500
  // Empty = no Content-Type, unless `headers` has one; else it wins over one there.
  std::string contentType = "application/json";
  std::string body;
  // Extra headers. Content-Length and Transfer-Encoding are the server's and
  // ignored here; `Connection: close` closes the connection after this
  // response. A name or value with CR, LF or NUL is dropped.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called on the server's io thread for each complete request; see above.
using Handler = std::function<Response(const Request&)>;

// TLS 1.3 only; see lifeboat/net/tls.hpp.
using TlsOptions = net::TlsServerOptions;

struct Endpoint {
  // TCP (when unixPath is empty): an IP address ("127.0.0.1", "::1",
  // "0.0.0.0"; empty = 127.0.0.1), and a port (0 = the kernel picks one; read
  // it back with Server::port()).
  std::string host;
  std::uint16_t port = 0;
  // A unix domain socket, plain HTTP. The file is created with mode 0660 (the
  // file system's permissions are its only access control); a stale socket
  // file nobody listens on is replaced, a live one or any other kind of file
  // is an error. stop() removes it (unless someone replaced it meanwhile).
  std::filesystem::path unixPath;
  // HTTPS; TCP endpoints only.
  std::optional<TlsOptions> tls;
};

// readTimeout and maxConnections must be more than zero.
struct ServerOptions {
  std::size_t maxBodyBytes = std::size_t{1} << 20;
  // The TLS handshake, each whole request (and the idle time before it) and
  // each response's write must fit in this.
  std::chrono::milliseconds readTimeout{10'000};
  std::size_t maxConnections = 64;  // over all endpoints
};

class Server {
 public:
  // Binds every endpoint (all or none), loads the TLS files, and starts the
  // io thread. The Error names the address, socket path or file at fault.
  static Result<std::unique_ptr<Server>> start(std::vector<Endpoint> endpoints, Handler handler,
                                               ServerOptions options = {});

  // stop()
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The TCP port endpoint `endpointIndex` (in start()'s order) is bound to;
  // 0 for a unix socket endpoint or an index out of range.
  std::uint16_t port(std::size_t endpointIndex) const;

  // Stops accepting, closes every connection (a response being written is
  // cut off), waits for a handler call in progress to return and for the io
  // thread to end, and removes the unix socket files. Idempotent; safe to
  // call from several threads, but not from a handler.
  void stop();

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::listener
