#pragma once
// A small TLS client for the coordinator's tests: websockets (Beast) and
// HTTPS requests on 127.0.0.1, each operation bounded by a deadline so that
// a test fails instead of hanging.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lifeboat::test_support {

struct ClientTls {
  std::filesystem::path ca;           // the server's CA
  std::filesystem::path certificate;  // client certificate ("" for none)
  std::filesystem::path privateKey;
  bool tls12Only = false;  // offer TLS 1.2 and nothing newer
};

class WsClient {
 public:
  // Connects to 127.0.0.1:port, TLS, then the websocket handshake at
  // `target` with the extra headers. nullptr and `error` set on failure.
  static std::unique_ptr<WsClient> connect(
      int port, const ClientTls& tls, const std::string& target, std::string& error,
      const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~WsClient();

  // "" when written, else the error.
  std::string send(const std::string& text);
  // The next text message; nullopt when the connection closed, failed or
  // nothing came within `limit` (then closeCode()/lastError() say which).
  std::optional<std::string> receive(std::chrono::milliseconds limit = std::chrono::seconds(10));
  int closeCode() const;  // 0 when no close frame was received
  std::string closeReason() const;
  std::string lastError() const;
  void close();

 private:
  struct Impl;
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct HttpReply {
  int status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error;
  std::string header(const std::string& name) const;
};

// One HTTPS request on a new connection.
HttpReply httpsRequest(int port, const ClientTls& tls, const std::string& method,
                       const std::string& target, const std::string& token = {},
                       const std::string& body = {});

// Plain TCP: sends an HTTP request where a TLS ClientHello belongs and
// returns whatever came back before the server closed (or 5 s passed).
std::string plaintextExchange(int port);

// A bare TLS handshake; "" when it completed, else the error.
std::string tlsHandshake(int port, const ClientTls& tls);

}  // namespace lifeboat::test_support
