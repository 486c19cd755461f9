#pragma once
// TLS set-up shared by the agent and the coordinator: TLS 1.3 only, PEM
// certificates and unencrypted keys, client certificates checked against a
// CA, and a client side with host name verification and optional pinning.
// Every failure names the file at fault (missing, unreadable, not PEM, an
// encrypted key, a key that is not the certificate's).
//
// Asio and Beast are compiled once, in this library (src/asio.cpp,
// src/beast.cpp): every target linking lifeboat_net sees
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION.

#include <openssl/types.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"
#include "lifeboat/net/tls_options.hpp"

namespace lifeboat::net {

Result<std::unique_ptr<boost::asio::ssl::context>> makeServerTlsContext(
    const TlsServerOptions& options);

// The context verifies the peer (SSL_VERIFY_PEER against `ca`). Host name
// verification is per connection: call prepareClientConnection().
Result<std::unique_ptr<boost::asio::ssl::context>> makeClientTlsContext(
    const TlsClientOptions& options);

// Per connection, before the handshake: SNI (for names, not IP addresses),
// host name or IP address verification against the certificate's SANs, and
// the pin when `pinSha256` is not empty (normalised by normalizePin()); an
// empty `pinSha256` leaves the context's pin (TlsClientOptions::pinSha256)
// in force.
// Returns an Error when OpenSSL refuses the settings.
Result<bool> prepareClientConnection(SSL* ssl, std::string_view host, std::string_view pinSha256);

// "aa:bb:..." or "AABB..." to 64 lower-case hex digits; an Error when it is
// not 32 bytes of hex.
Result<std::string> normalizePin(std::string_view pin);

// Lower-case hex SHA-256 of the certificate's DER encoding.
std::string certificateSha256(X509* certificate);

// The subject common name of the peer certificate `ssl` verified after its
// handshake; "" when the peer sent none or it did not verify.
std::string verifiedPeerCommonName(SSL* ssl);

// OpenSSL's reason for the last failure on this thread, then a clean queue.
std::string takeOpensslReason();

}  // namespace lifeboat::net
