#pragma once
// The two kinds of connection (internal). Each runs as coroutines on the
// socket's strand and ends by itself; ServerState::sessions can close it.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server_state.hpp"

namespace lifeboat::coordinator {

// An agent: mutual TLS, websocket at /v1/stream, batches to the committer,
// acknowledgements back (docs/protocol.md, "Streaming to the coordinator").
void startAgentSession(ServerState& state, boost::asio::ip::tcp::socket socket,
                       boost::asio::ssl::context& tls);

// A person: HTTPS requests (API, dashboard) and the live websocket.
void startApiSession(ServerState& state, boost::asio::ip::tcp::socket socket,
                     boost::asio::ssl::context& tls);

// "1.2.3.4:5678" of the peer, "?" when unknown.
std::string peerAddress(const boost::asio::ip::tcp::socket& socket);

}  // namespace lifeboat::coordinator
