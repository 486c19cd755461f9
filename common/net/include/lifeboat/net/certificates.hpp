#pragma once
// Certificates for a development or test set-up, made with OpenSSL's API (no
// `openssl` program needed): an ECDSA P-256 CA, server certificates with
// subject alternative names, client certificates whose common name is the
// agent's name. `lifeboat-coordinator certs init DIR` and the tests use these;
// production set-ups bring certificates from their own CA.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::net {

// PEM text of a certificate and its unencrypted PKCS#8 private key.
struct PemPair {
  std::string certificate;
  std::string privateKey;
};

struct CertificateRequest {
  std::string commonName;
  // Subject alternative names: host names ("localhost") and IP addresses
  // ("127.0.0.1", "::1"); told apart by parsing. Empty for a client
  // certificate (the common name identifies it).
  std::vector<std::string> alternativeNames;
  bool server = false;  // extendedKeyUsage serverAuth; else clientAuth
  // Validity; a default-constructed (epoch) value means the default: "now -
  // 1 h" and "now + 825 days". A notAfter in the past makes an expired
  // certificate (tests use that).
  std::chrono::system_clock::time_point notBefore{};
  std::chrono::system_clock::time_point notAfter{};
};

// A self-signed CA (basicConstraints CA:TRUE, keyCertSign) named `commonName`,
// valid for ten years.
Result<PemPair> makeCertificateAuthority(const std::string& commonName);

// A leaf certificate signed by `ca` (as returned by makeCertificateAuthority
// or read from its files), with a new P-256 key and a random 128-bit serial.
Result<PemPair> issueCertificate(const PemPair& ca, const CertificateRequest& request);

// Whether `name` can be a subject alternative name: an IP address (v4 or
// v6) or a host name (dot-separated labels of letters, digits and '-', the
// last not all digits, optionally "*." first). Otherwise an Error saying
// why not; issueCertificate refuses the same names.
Result<bool> checkAlternativeName(const std::string& name);

// Writes `pem.certificate` to `certificate` (mode 0644) and `pem.privateKey`
// to `privateKey` (mode 0600), each atomically (temporary file + rename).
Result<bool> writePemPair(const PemPair& pem, const std::filesystem::path& certificate,
                          const std::filesystem::path& privateKey);

}  // namespace lifeboat::net
