#include "ws_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "lifeboat/net/tls.hpp"

namespace lifeboat::test_support {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
using SslStream = asio::ssl::stream<tcp::socket>;
constexpr auto kStepLimit = std::chrono::seconds(10);

// Runs the one operation `start` begins until it completes or `limit`
// passes (then: timed_out, and `onTimeout` closes the socket).
template <class Start, class OnTimeout>
error_code runFor(asio::io_context& io, std::chrono::milliseconds limit, Start start,
                  OnTimeout onTimeout) {
  std::optional<error_code> result;
  start([&result](error_code error, auto&&...) { result = error; });
  io.restart();
  io.run_for(limit);
  if (!result) {
    onTimeout();
    io.restart();
    io.run_for(std::chrono::seconds(1));
    return asio::error::timed_out;
  }
  return *result;
}

std::unique_ptr<asio::ssl::context> clientContext(const ClientTls& tls, std::string& error) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (tls.tls12Only) {
    SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION);
  }
  if (SSL_CTX_load_verify_locations(native, tls.ca.c_str(), nullptr) != 1) {
    error = "cannot load CA " + tls.ca.string();
    return nullptr;
  }
  if (!tls.certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, tls.certificate.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(native, tls.privateKey.c_str(), SSL_FILETYPE_PEM) != 1) {
      error = "cannot load client certificate " + tls.certificate.string();
      return nullptr;
    }
  }
  return context;
}

// TCP connect + TLS handshake (verifying the server as 127.0.0.1).
error_code connectTls(asio::io_context& io, SslStream& stream, int port) {
  const tcp::endpoint server(asio::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(port));
  auto closeIt = [&stream] {
    error_code ignored;
    stream.lowest_layer().close(ignored);
  };
  error_code error = runFor(
      io, kStepLimit,
      [&](auto handler) { stream.lowest_layer().async_connect(server, std::move(handler)); },
      closeIt);
  if (error)
    return error;
  Result<bool> prepared = net::prepareClientConnection(stream.native_handle(), "127.0.0.1", "");
  if (!prepared)
    return asio::error::invalid_argument;
  return runFor(
      io, kStepLimit,
      [&](auto handler) { stream.async_handshake(SslStream::client, std::move(handler)); },
      closeIt);
}

}  // namespace

struct WsClient::Impl {
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> context;
  std::unique_ptr<websocket::stream<SslStream>> ws;
  beast::flat_buffer buffer;
  std::string lastError;
  void closeSocket() {
    error_code ignored;
    ws->next_layer().lowest_layer().close(ignored);
  }
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

std::unique_ptr<WsClient> WsClient::connect(
    int port, const ClientTls& tls, const std::string& target, std::string& error,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto impl = std::make_unique<Impl>();
  impl->context = clientContext(tls, error);
  if (!impl->context)
    return nullptr;
  impl->ws = std::make_unique<websocket::stream<SslStream>>(impl->io, *impl->context);
  if (error_code failed = connectTls(impl->io, impl->ws->next_layer(), port)) {
    error = "TLS: " + failed.message();
    return nullptr;
  }
  impl->ws->set_option(
      websocket::stream_base::decorator([headers](websocket::request_type& request) {
        for (const auto& [name, value] : headers)
          request.set(name, value);
      }));
  Impl& raw = *impl;
  websocket::response_type response;
  error_code failed = runFor(
      raw.io, kStepLimit,
      [&](auto handler) {
        raw.ws->async_handshake(response, "127.0.0.1", target, std::move(handler));
      },
      [&raw] { raw.closeSocket(); });
  if (failed) {
    error =
        "websocket: " + failed.message() + " (HTTP " + std::to_string(response.result_int()) + ")";
    return nullptr;
  }
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

std::string WsClient::send(const std::string& text) {
  Impl& raw = *impl_;
  raw.ws->text(true);
  error_code failed = runFor(
      raw.io, kStepLimit,
      [&](auto handler) { raw.ws->async_write(asio::buffer(text), std::move(handler)); },
      [&raw] { raw.closeSocket(); });
  return failed ? failed.message() : std::string();
}

std::optional<std::string> WsClient::receive(std::chrono::milliseconds limit) {
  Impl& raw = *impl_;
  raw.buffer.clear();
  error_code failed = runFor(
      raw.io, limit, [&](auto handler) { raw.ws->async_read(raw.buffer, std::move(handler)); },
      [&raw] { raw.closeSocket(); });
  if (failed) {
    raw.lastError = failed.message();
    return std::nullopt;
  }
  return beast::buffers_to_string(raw.buffer.data());
}

int WsClient::closeCode() const {
  return impl_->ws->reason().code;
}
std::string WsClient::closeReason() const {
  const auto& reason = impl_->ws->reason().reason;
  return std::string(reason.data(), reason.size());
}
std::string WsClient::lastError() const {
  return impl_->lastError;
}

void WsClient::close() {
  Impl& raw = *impl_;
  runFor(
      raw.io, kStepLimit,
      [&](auto handler) { raw.ws->async_close(websocket::close_code::normal, std::move(handler)); },
      [&raw] { raw.closeSocket(); });
}

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name))
      return value;
  }
  return {};
}

HttpReply httpsRequest(int port, const ClientTls& tls, const std::string& method,
                       const std::string& target, const std::string& token,
                       const std::string& body) {
  HttpReply reply;
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> context = clientContext(tls, reply.error);
  if (!context)
    return reply;
  SslStream stream(io, *context);
  if (error_code failed = connectTls(io, stream, port)) {
    reply.error = "TLS: " + failed.message();
    return reply;
  }
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty())
    request.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.keep_alive(false);
  request.prepare_payload();
  auto closeIt = [&stream] {
    error_code ignored;
    stream.lowest_layer().close(ignored);
  };
  if (error_code failed = runFor(
          io, kStepLimit,
          [&](auto handler) { http::async_write(stream, request, std::move(handler)); }, closeIt)) {
    reply.error = "write: " + failed.message();
    return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (error_code failed = runFor(
          io, kStepLimit,
          [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); },
          closeIt)) {
    reply.error = "read: " + failed.message();
    return reply;
  }
  auto response = parser.release();
  reply.status = response.result_int();
  reply.body = response.body();
  for (const auto& field : response) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return reply;
}

std::string plaintextExchange(int port) {
  asio::io_context io;
  tcp::socket socket(io);
  const tcp::endpoint server(asio::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(port));
  auto closeIt = [&socket] {
    error_code ignored;
    socket.close(ignored);
  };
  if (runFor(
          io, kStepLimit, [&](auto handler) { socket.async_connect(server, std::move(handler)); },
          closeIt)) {
    return "(no connection)";
  }
  const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  runFor(
      io, kStepLimit,
      [&](auto handler) { asio::async_write(socket, asio::buffer(request), std::move(handler)); },
      closeIt);
  std::string received;
  runFor(
      io, std::chrono::seconds(5),
      [&](auto handler) {
        asio::async_read(socket, asio::dynamic_buffer(received), std::move(handler));
      },
      closeIt);
  return received;
}

std::string tlsHandshake(int port, const ClientTls& tls) {
  asio::io_context io;
  std::string error;
  std::unique_ptr<asio::ssl::context> context = clientContext(tls, error);
  if (!context)
    return error;
  SslStream stream(io, *context);
  error_code failed = connectTls(io, stream, port);
  return failed ? failed.message() : std::string();
}

}  // namespace lifeboat::test_support
