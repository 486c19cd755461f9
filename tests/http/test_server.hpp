#pragma once
// Test fixtures for the HTTP client: certificates made with the openssl
// command line, and tests/http/test_server.py run in the background.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace lifeboat::http::fixtures {

// A CA, a server certificate for IP 127.0.0.1 and a client certificate it
// signed, plus a second CA with its own client certificate (one our server
// does not trust). ECDSA P-256, PEM files in `directory`.
struct Certificates {
  std::filesystem::path caCertificate;
  std::filesystem::path serverCertificate, serverKey;
  std::filesystem::path clientCertificate, clientKey;
  std::filesystem::path otherCaCertificate;
  std::filesystem::path otherClientCertificate, otherClientKey;
};
// Fails the current test (ADD_FAILURE) when openssl does.
Certificates makeCertificates(const std::filesystem::path& directory);

// test_server.py, started with `arguments`; killed and reaped on destruction.
// port() is 0 when it could not start (the current test has then failed).
class TestServer {
 public:
  explicit TestServer(const std::vector<std::string>& arguments = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" or "https://…" followed by `path`.
  std::string url(const std::string& path) const;

 private:
  pid_t pid_ = -1;
  int stdinWrite_ = -1;  // closing it makes the server exit
  int stdoutRead_ = -1;
  int port_ = 0;
  bool tls_ = false;
};

// A TCP port on 127.0.0.1 that refuses connections for as long as this
// object lives: bound (so nobody else gets it) but not listening.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int socket_ = -1;
  int port_ = 0;
};

}  // namespace lifeboat::http::fixtures
