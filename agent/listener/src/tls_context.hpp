#pragma once
// The server side of TLS: TLS 1.3 only, certificate and key from PEM files,
// client certificates checked against TlsOptions::clientCa when it is set.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "lifeboat/common/result.hpp"
#include "lifeboat/listener/server.hpp"

namespace lifeboat::listener::detail {

// The Error names the file at fault (missing, unreadable, not PEM, an
// encrypted key, a key that is not the certificate's).
Result<std::unique_ptr<boost::asio::ssl::context>> makeTlsContext(const TlsOptions& options);

// The subject common name of the client certificate `ssl` verified after its
// handshake; "" when the client sent none or it did not verify.
std::string verifiedClientCommonName(SSL* ssl);

}  // namespace lifeboat::listener::detail
