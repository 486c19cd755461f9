#pragma once
// One accepted connection, from its first byte (or TLS handshake) to its
// close: the coroutines run on the server's io thread and end on their own
// when stop() closes their sockets.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server_state.hpp"

namespace lifeboat::listener::detail {

// Plain HTTP on TCP.
boost::asio::awaitable<void> serveTcp(ServerState& state, boost::asio::ip::tcp::socket socket);
// HTTPS: TLS handshake with `tls` (which outlives the session), then HTTP.
boost::asio::awaitable<void> serveTls(ServerState& state, boost::asio::ip::tcp::socket socket,
                                      boost::asio::ssl::context& tls);
// Plain HTTP on a unix domain socket.
boost::asio::awaitable<void> serveUnix(ServerState& state,
                                       boost::asio::local::stream_protocol::socket socket);

}  // namespace lifeboat::listener::detail
