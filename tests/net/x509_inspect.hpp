#pragma once
// Reading the certificates the tests made back with OpenSSL, to check what
// they say rather than that they were written.

#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace lifeboat::net::testing {

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using CertificatePtr = std::unique_ptr<X509, X509Free>;

// nullptr when `pem` holds no PEM certificate.
CertificatePtr parseCertificate(const std::string& pem);

// Whether `leaf` verifies against the single trusted `ca` (chain, signature,
// validity at the current time) for `purpose` (X509_PURPOSE_SSL_CLIENT, ...;
// 0 for none). `reason` gets OpenSSL's words when it does not.
bool verifiesAgainst(X509* leaf, X509* ca, int purpose, std::string* reason = nullptr);

std::string commonName(X509* certificate);
std::chrono::system_clock::time_point notBefore(X509* certificate);
std::chrono::system_clock::time_point notAfter(X509* certificate);
// The serial number's magnitude in bytes.
int serialBytes(X509* certificate);
std::string serialHex(X509* certificate);

}  // namespace lifeboat::net::testing
