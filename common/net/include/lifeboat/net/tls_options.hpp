#pragma once
// What a TLS endpoint is configured with (PEM files, pin). Light on purpose:
// configuration code includes this, only connection code includes tls.hpp.

#include <filesystem>
#include <string>

namespace lifeboat::net {

struct TlsServerOptions {
  // PEM files: the server's certificate (chain, leaf first) and its
  // unencrypted private key.
  std::filesystem::path certificate;
  std::filesystem::path privateKey;
  // PEM CA certificates that client certificates must chain to. Empty = no
  // client certificate is asked for.
  std::filesystem::path clientCa;
  // Refuse clients without a certificate. Needs clientCa.
  bool requireClientCertificate = false;
};

struct TlsClientOptions {
  // PEM CA certificates the server's certificate must chain to. Required:
  // there is no fallback to the system's store for mutual TLS.
  std::filesystem::path ca;
  // The client's own certificate and unencrypted key (both or neither).
  std::filesystem::path certificate;
  std::filesystem::path privateKey;
  // Optional pin: the SHA-256 of the server certificate's DER encoding, as 64
  // hex digits (colons allowed, any case). Set: a server whose leaf
  // certificate differs is refused even when it chains to `ca`.
  std::string pinSha256;
};

}  // namespace lifeboat::net
