#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <memory>
#include <optional>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/stream_message.hpp"
#include "lifeboat/net/tls.hpp"
#include "lifeboat/net/tls_socket.hpp"
#include "sessions.hpp"
#include "wakeup.hpp"

namespace lifeboat::coordinator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxMessageBytes = kMaxBatchBytes;
constexpr std::size_t kMaxInflightBatches = 8;
constexpr auto kPingInterval = 15s;
constexpr auto kIdleTimeout = 45s;
constexpr auto kHandshakeTimeout = 10s;
// Heartbeats move last_seen; recording every one of 10,000 agents' would
// cost a commit each, so at most one per connection per this interval.
constexpr auto kPresenceInterval = 30s;

using Clock = std::chrono::steady_clock;
// TlsSocket rather than asio::ssl::stream: ~68 KB less per connection
// (docs/coordinator.md, "Capacity").
using WebSocket = websocket::stream<net::TlsSocket>;

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// A close reason fits in a control frame (123 bytes).
std::string closeReason(std::string text) {
  if (text.size() > 123) {
    text.resize(120);
    text += "...";
  }
  return text;
}

class AgentSession : public std::enable_shared_from_this<AgentSession> {
 public:
  AgentSession(ServerState& state, asio::ip::tcp::socket socket, asio::ssl::context& tls)
      : state_(state),
        address_(peerAddress(socket)),
        ip_(address_.substr(0, address_.rfind(':'))),
        ws_(std::move(socket), tls.native_handle()),
        writerWake_(ws_.get_executor()),
        readerWake_(ws_.get_executor()) {}

  asio::any_io_executor executor() { return ws_.get_executor(); }

  asio::awaitable<void> run() {
    const bool ready = co_await handshake();
    if (!ready) {
      co_return;
    }
    auto self = shared_from_this();
    registration_ = state_.sessions.add([weak = weak_from_this()] {
      if (auto session = weak.lock()) {
        asio::post(session->ws_.get_executor(), [session] {
          session->closeWith(websocket::close_code::going_away, "the coordinator is shutting down");
        });
      }
    });
    state_.log.line("agent " + name_ + " connected from " + address_);
    state_.committer.submitPresence(store::Presence{name_, true, now(), "", "", ip_}, true);
    lastPresence_ = Clock::now();
    asio::co_spawn(
        ws_.get_executor(), [self]() { return self->writeLoop(); }, asio::detached);
    const std::string why = co_await readLoop();
    readingEnded_ = true;
    writerWake_.notify();
    state_.committer.submitPresence(store::Presence{name_, false, now(), "", "", ip_}, true);
    state_.sessions.remove(registration_);
    state_.log.line("agent " + name_ + " disconnected from " + address_ + ": " + why);
  }

 private:
  void refuse(const std::string& why) {
    state_.log.line("refused agent connection from " + address_ + ": " + why);
  }

  asio::awaitable<bool> handshake() {
    // The TLS handshake and the HTTP request within kHandshakeTimeout
    // (then the websocket's own handshake timeout takes over).
    asio::steady_timer deadline(ws_.get_executor(), kHandshakeTimeout);
    deadline.async_wait([weak = weak_from_this()](boost::system::error_code error) {
      if (auto session = weak.lock(); session && !error) {
        session->handshakeTimedOut_ = true;
        session->ws_.next_layer().close();
      }
    });
    auto [tlsError] =
        co_await ws_.next_layer().async_handshake(net::TlsSocket::Role::server, kTuple);
    SSL* ssl = ws_.next_layer().native_handle();
    if (tlsError) {
      std::string why = "TLS handshake failed: " +
                        (handshakeTimedOut_ ? std::string("timed out") : tlsError.message());
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      }
      refuse(why);
      co_return false;
    }
    name_ = net::verifiedPeerCommonName(ssl);
    if (name_.empty()) {
      refuse("its certificate has no common name (the agent's name)");
      co_return false;
    }
    beast::flat_buffer buffer(8192);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    auto [readError, readBytes] =
        co_await http::async_read(ws_.next_layer(), buffer, parser, kTuple);
    if (readError) {
      refuse("agent " + name_ + ": no HTTP request: " +
             (handshakeTimedOut_ ? std::string("timed out") : readError.message()));
      co_return false;
    }
    http::request<http::empty_body> request = parser.release();
    if (!websocket::is_upgrade(request) || request.target() != "/v1/stream") {
      http::response<http::string_body> response{http::status::not_found, request.version()};
      response.set(http::field::content_type, "text/plain");
      response.body() = "this port serves agents' websockets at /v1/stream only\n";
      response.keep_alive(false);
      response.prepare_payload();
      co_await http::async_write(ws_.next_layer(), response, kTuple);
      refuse("agent " + name_ + ": asked for " + std::string(request.target()) +
             (websocket::is_upgrade(request) ? "" : " without a websocket upgrade"));
      co_return false;
    }
    deadline.cancel();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kHandshakeTimeout;
    timeouts.idle_timeout = kIdleTimeout;
    timeouts.keep_alive_pings = false;  // our own ping every 15 s (writeLoop)
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "lifeboat-coordinator");
    }));
    ws_.read_message_max(kMaxMessageBytes);
    ws_.auto_fragment(false);
    ws_.write_buffer_bytes(512);
    auto [acceptError] = co_await ws_.async_accept(request, kTuple);
    if (acceptError) {
      refuse("agent " + name_ + ": websocket handshake failed: " + acceptError.message());
      co_return false;
    }
    co_return true;
  }

  // Returns why the connection ended.
  asio::awaitable<std::string> readLoop() {
    beast::flat_buffer buffer(kMaxMessageBytes);
    for (;;) {
      while (!closing_ && inflight_ >= kMaxInflightBatches) {
        co_await readerWake_.wait();
      }
      if (closing_) {
        co_return closingWhy_;
      }
      auto [error, bytes] = co_await ws_.async_read(buffer, kTuple);
      if (error) {
        if (closing_) {
          co_return closingWhy_;
        }
        if (error == websocket::error::closed) {
          co_return "closed by the agent";
        }
        co_return error.message();
      }
      if (!ws_.got_text()) {
        fatal(websocket::close_code::unknown_data, "binary messages are not part of the protocol");
        co_return closingWhy_;
      }
      std::string text = beast::buffers_to_string(buffer.data());
      buffer.clear();
      buffer.shrink_to_fit();
      co_await handleMessage(text);
      if (closing_) {
        co_return closingWhy_;
      }
    }
  }

  asio::awaitable<void> handleMessage(std::string_view text) {
    // The one batch decoder both sides share, and fuzz/event_fuzzer.cpp covers.
    Result<std::vector<Event>> batch = decodeBatch(text);
    if (!batch) {
      fatal(websocket::close_code::bad_payload, batch.error().message);
      co_return;
    }
    std::vector<Event>& events = *batch;
    for (const Event& event : events) {
      if (event.agent != name_) {
        fatal(websocket::close_code::policy_error, "event for agent \"" + event.agent +
                                                       "\" on a connection authenticated as \"" +
                                                       name_ + "\"");
        co_return;
      }
    }
    bool presenceOnly = true;
    for (const Event& event : events) {
      if (event.type == event_type::kHello) {
        const auto text = [&](std::string_view key) {
          const json::value* value = event.data.if_contains(key);
          return value != nullptr && value->is_string() ? std::string(value->as_string())
                                                        : std::string();
        };
        state_.committer.submitPresence(
            store::Presence{name_, true, now(), text("hostname"), text("agent_version"), ip_},
            true);
        lastPresence_ = Clock::now();
      } else if (event.type == event_type::kHeartbeat) {
        if (Clock::now() - lastPresence_ >= kPresenceInterval) {
          state_.committer.submitPresence(store::Presence{name_, true, now(), "", "", ip_}, false);
          lastPresence_ = Clock::now();
        }
      } else {
        presenceOnly = false;
      }
    }
    if (presenceOnly) {
      co_return;
    }
    const std::uint64_t ackSeq = events.back().seq;
    auto self = shared_from_this();
    auto done = [self, ackSeq](std::optional<Error> error) {
      asio::post(self->ws_.get_executor(),
                 [self, ackSeq, error = std::move(error)] { self->committed(ackSeq, error); });
    };
    auto onSpace = [self] {
      asio::post(self->ws_.get_executor(), [self] { self->readerWake_.notify(); });
    };
    ++inflight_;
    while (!state_.committer.trySubmitBatch(events, done, onSpace)) {
      co_await readerWake_.wait();  // the queue is full: stop reading until it has room
      if (closing_) {
        --inflight_;
        co_return;
      }
    }
  }

  void committed(std::uint64_t ackSeq, const std::optional<Error>& error) {
    --inflight_;
    readerWake_.notify();
    if (closing_) {
      return;
    }
    if (error) {
      // Later acknowledgements would cover this batch: close instead, and
      // the agent resends from its spool after reconnecting.
      closeWith(websocket::close_code::internal_error, "not stored: " + error->message);
      return;
    }
    outgoing_.push_back("{\"ack\":" + std::to_string(ackSeq) + "}");
    writerWake_.notify();
  }

  void fatal(websocket::close_code code, const std::string& error) {
    state_.log.line("agent " + name_ + " from " + address_ + ": " + error + "; closing");
    outgoing_.push_back(encodeStreamError(error, true));
    closeWith(code, error);
  }

  void closeWith(websocket::close_code code, const std::string& why) {
    if (closing_) {
      return;
    }
    closing_ = true;
    closingWhy_ = why;
    closeReason_ = websocket::close_reason(code, closeReason(why));
    writerWake_.notify();
    readerWake_.notify();
  }

  asio::awaitable<void> writeLoop() {
    auto self = shared_from_this();
    for (;;) {
      if (!outgoing_.empty()) {
        ws_.text(true);
        auto [error, written] = co_await ws_.async_write(asio::buffer(outgoing_.front()), kTuple);
        if (error) {
          break;
        }
        outgoing_.pop_front();
        continue;
      }
      if (closing_) {
        co_await ws_.async_close(closeReason_, kTuple);
        break;
      }
      if (readingEnded_) {
        break;
      }
      const bool notified = co_await writerWake_.waitFor(kPingInterval);
      if (!notified && !readingEnded_ && !closing_) {
        auto [error] = co_await ws_.async_ping({}, kTuple);
        if (error) {
          break;
        }
      }
    }
    outgoing_.clear();
  }

  ServerState& state_;
  std::string address_;
  std::string ip_;
  WebSocket ws_;
  bool handshakeTimedOut_ = false;
  Wakeup writerWake_;
  Wakeup readerWake_;
  std::string name_;
  std::deque<std::string> outgoing_;
  std::size_t inflight_ = 0;
  bool readingEnded_ = false;
  bool closing_ = false;
  std::string closingWhy_;
  websocket::close_reason closeReason_;
  std::uint64_t registration_ = 0;
  Clock::time_point lastPresence_{};
};

}  // namespace

std::string peerAddress(const asio::ip::tcp::socket& socket) {
  boost::system::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) {
    return "?";
  }
  const auto address = endpoint.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(endpoint.port());
}

void startAgentSession(ServerState& state, asio::ip::tcp::socket socket, asio::ssl::context& tls) {
  auto session = std::make_shared<AgentSession>(state, std::move(socket), tls);
  asio::co_spawn(
      session->executor(), [session]() { return session->run(); }, asio::detached);
}

}  // namespace lifeboat::coordinator
