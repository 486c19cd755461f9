#include "session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lifeboat/net/tls.hpp"

namespace lifeboat::listener::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 16 * 1024;
// Closing a socket with unread input makes the kernel send a reset, which can
// destroy the response still on its way (a 413 sent while the client is still
// uploading). So the server half-closes and reads what the client still
// sends, for this long and this much at most, before closing.
constexpr std::chrono::milliseconds kLingerTime{2'000};
constexpr std::size_t kLingerBytes = std::size_t{8} << 20;

using UnixStream = beast::basic_stream<asio::local::stream_protocol>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

// How a connection ends after the HTTP exchange.
enum class Ending {
  abrupt,     // no response owed or the connection is unusable: close now
  graceful,   // the last response went out: TLS close_notify, then linger
  afterError  // a refusal (400, 413, 431) went out: linger, skip close_notify
};

// Registers a session's close callback for stop(); unregisters at its end.
class ConnectionRegistration {
 public:
  ConnectionRegistration(ServerState& state, std::function<void()> close)
      : state_(state), id_(state.nextConnectionId++) {
    state_.closers.emplace(id_, std::move(close));
  }
  ~ConnectionRegistration() { state_.closers.erase(id_); }
  ConnectionRegistration(const ConnectionRegistration&) = delete;
  ConnectionRegistration& operator=(const ConnectionRegistration&) = delete;

 private:
  ServerState& state_;
  std::uint64_t id_;
};

std::string lowerCase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool isTokenCharacter(unsigned char c) {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A header a handler may send: a token for a name, no CR, LF or NUL in the value.
bool isSendableHeader(std::string_view name, std::string_view value) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return isTokenCharacter(static_cast<unsigned char>(c));
  }) && value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Response plainError(int status, const std::string& message) {
  Response response;
  response.status = status;
  response.body = "{\"error\":\"" + message + "\"}";
  return response;
}

// The answer to a request that could not be read, or nullopt when nobody is
// owed one (the peer left, the deadline passed, TLS failed).
std::optional<Response> refusalFor(const beast::error_code& error, const ServerOptions& options) {
  if (error == http::error::body_limit) {
    return plainError(
        413, "request body larger than " + std::to_string(options.maxBodyBytes) + " bytes");
  }
  if (error == http::error::header_limit) {
    return plainError(
        431, "request header fields larger than " + std::to_string(kHeaderLimit) + " bytes");
  }
  const bool parseError =
      error.category() == http::make_error_code(http::error::bad_method).category();
  if (parseError && error != http::error::end_of_stream && error != http::error::partial_message) {
    return plainError(400, "malformed HTTP request");
  }
  return std::nullopt;
}

Request toRequest(BeastRequest&& message, const std::string& peer, const std::string& commonName) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(lowerCase(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.peer = peer;
  request.clientCommonName = commonName;
  return request;
}

bool asksToClose(const Response& response) {
  return std::any_of(response.headers.begin(), response.headers.end(), [](const auto& header) {
    return beast::iequals(header.first, "connection") &&
           lowerCase(header.second).find("close") != std::string::npos;
  });
}

BeastResponse toBeast(const Response& response, unsigned version, bool keepAlive, bool head) {
  BeastResponse message;
  message.version(version);
  const int status = response.status >= 200 && response.status <= 599 ? response.status : 500;
  message.result(static_cast<unsigned>(status));
  for (const auto& [name, value] : response.headers) {
    const bool ours = beast::iequals(name, "content-length") ||
                      beast::iequals(name, "transfer-encoding") ||
                      beast::iequals(name, "connection") ||
                      (beast::iequals(name, "content-type") && !response.contentType.empty());
    if (!ours && isSendableHeader(name, value)) {
      message.insert(name, value);
    }
  }
  if (!response.contentType.empty() && isSendableHeader("content-type", response.contentType)) {
    message.set(http::field::content_type, response.contentType);
  }
  // HTTP forbids a body and a Content-Length in a 204.
  if (status != 204) {
    message.content_length(response.body.size());
    if (!head) {
      message.body() = response.body;
    }
  }
  message.keep_alive(keepAlive);
  return message;
}

// The handler's Response; a throwing handler costs its request a 500, never
// the io thread (which serves every other connection too).
Response callHandler(const Handler& handler, const Request& request) {
  try {
    return handler(request);
  } catch (...) {
    return plainError(500, "internal error");
  }
}

bool expectsContinue(const BeastRequest& header) {
  return header.version() >= 11 && beast::iequals(header[http::field::expect], "100-continue");
}

// Reads requests from `stream` and answers each until the connection should
// end, and says how to end it.
template <class Stream>
asio::awaitable<Ending> exchange(ServerState& state, Stream& stream, const std::string& peer,
                                 const std::string& commonName) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;  // kept across requests: it may hold the next one
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(state.options.maxBodyBytes);
    // One deadline for the idle wait, the header and the body.
    lowest.expires_after(state.options.readTimeout);
    auto [readError, headerBytes] =
        co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    if (!readError && !parser.is_done() && expectsContinue(parser.get())) {
      http::response<http::empty_body> proceed{http::status::continue_, 11};
      auto [continueError, continueBytes] = co_await http::async_write(stream, proceed, kUseTuple);
      readError = continueError;
    }
    if (!readError && !parser.is_done()) {
      auto [bodyError, bodyBytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      readError = bodyError;
    }
    if (state.stopping) {
      co_return Ending::abrupt;
    }
    if (readError) {
      const std::optional<Response> refusal = refusalFor(readError, state.options);
      if (!refusal) {
        co_return Ending::abrupt;
      }
      BeastResponse message = toBeast(*refusal, 11, false, false);
      lowest.expires_after(state.options.readTimeout);
      auto [writeError, written] = co_await http::async_write(stream, message, kUseTuple);
      co_return writeError || state.stopping ? Ending::abrupt : Ending::afterError;
    }

    BeastRequest message = parser.release();
    const unsigned version = message.version();
    const bool head = message.method() == http::verb::head;
    const bool clientKeepsAlive = message.keep_alive();
    const Response response =
        callHandler(state.handler, toRequest(std::move(message), peer, commonName));
    if (state.stopping) {
      co_return Ending::abrupt;
    }
    const bool keepAlive = clientKeepsAlive && !asksToClose(response);
    BeastResponse answer = toBeast(response, version, keepAlive, head);
    lowest.expires_after(state.options.readTimeout);
    auto [writeError, written] = co_await http::async_write(stream, answer, kUseTuple);
    if (writeError || state.stopping) {
      co_return Ending::abrupt;
    }
    if (!keepAlive) {
      co_return Ending::graceful;
    }
  }
}

// Half-closes, reads and drops what the peer still sends (see kLingerTime),
// then closes.
template <class Lowest>
asio::awaitable<void> lingerAndClose(ServerState& state, Lowest& lowest) {
  if (!state.stopping) {
    beast::error_code ignored;
    lowest.socket().shutdown(asio::socket_base::shutdown_send, ignored);
    lowest.expires_after(std::min(state.options.readTimeout, kLingerTime));
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    while (drained < kLingerBytes && !state.stopping) {
      auto [error, got] = co_await lowest.async_read_some(asio::buffer(sink), kUseTuple);
      if (error) {
        break;
      }
      drained += got;
    }
  }
  lowest.close();
}

template <class Stream>
asio::awaitable<void> servePlain(ServerState& state, Stream stream, std::string peer) {
  ConnectionRegistration registration(state, [&stream] { stream.close(); });
  if (state.stopping) {
    co_return;
  }
  const Ending ending = co_await exchange(state, stream, peer, std::string());
  if (ending == Ending::abrupt) {
    stream.close();
  } else {
    co_await lingerAndClose(state, stream);
  }
}

std::string describePeer(const asio::ip::tcp::socket& socket) {
  beast::error_code error;
  const asio::ip::tcp::endpoint remote = socket.remote_endpoint(error);
  if (error) {
    return "unknown";
  }
  const std::string address = remote.address().to_string();
  return (remote.address().is_v6() ? "[" + address + "]" : address) + ":" +
         std::to_string(remote.port());
}

}  // namespace

asio::awaitable<void> serveTcp(ServerState& state, asio::ip::tcp::socket socket) {
  std::string peer = describePeer(socket);
  return servePlain(state, beast::tcp_stream(std::move(socket)), std::move(peer));
}

asio::awaitable<void> serveUnix(ServerState& state, asio::local::stream_protocol::socket socket) {
  return servePlain(state, UnixStream(std::move(socket)), "unix");
}

asio::awaitable<void> serveTls(ServerState& state, asio::ip::tcp::socket socket,
                               asio::ssl::context& tls) {
  const std::string peer = describePeer(socket);
  TlsStream stream(beast::tcp_stream(std::move(socket)), tls);
  auto& lowest = beast::get_lowest_layer(stream);
  ConnectionRegistration registration(state, [&lowest] { lowest.close(); });
  if (state.stopping) {
    co_return;
  }
  // A client that connects and stays silent holds a slot no longer than this.
  lowest.expires_after(state.options.readTimeout);
  auto [handshakeError] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
  // A refused client certificate (or none, when one is required) ends here,
  // before any request is read: with TLS 1.3 the client only learns it at
  // its first read, from our alert or the closed connection.
  if (handshakeError || state.stopping) {
    lowest.close();
    co_return;
  }
  const std::string commonName = net::verifiedPeerCommonName(stream.native_handle());
  const Ending ending = co_await exchange(state, stream, peer, commonName);
  if (ending == Ending::abrupt) {
    lowest.close();
    co_return;
  }
  if (ending == Ending::graceful) {
    lowest.expires_after(std::min(state.options.readTimeout, kLingerTime));
    // Sends close_notify and waits for the peer's. A peer that just closes
    // TCP makes this fail with stream_truncated; that is harmless here, since
    // every response is delimited by Content-Length and was fully written.
    auto [shutdownError] = co_await stream.async_shutdown(kUseTuple);
    static_cast<void>(shutdownError);
  }
  co_await lingerAndClose(state, lowest);
}

}  // namespace lifeboat::listener::detail
