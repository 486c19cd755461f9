#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <optional>

#include "sessions.hpp"
#include "wakeup.hpp"

namespace lifeboat::coordinator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

constexpr auto kHandshakeTimeout = 10s;
constexpr auto kRequestTimeout = 60s;  // also how long an idle keep-alive connection stays
constexpr std::size_t kMaxLiveBacklogBytes = 8 * 1024 * 1024;

using TlsStream = asio::ssl::stream<beast::tcp_stream>;
using Request = http::request<http::string_body>;

http::response<http::string_body> toHttp(const ApiResponse& answer, unsigned version,
                                         bool keepAlive) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
  response.set(http::field::server, "lifeboat-coordinator");
  response.set(http::field::content_type, answer.contentType);
  response.set("Content-Security-Policy", "default-src 'self'");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : answer.headers) {
    response.set(name, value);
  }
  response.body() = answer.body;
  response.keep_alive(keepAlive);
  response.prepare_payload();
  return response;
}

// The live feed: stored events and agent changes pushed as they happen.
class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  LiveSession(ServerState& state, TlsStream stream, std::string who, std::string address)
      : state_(state),
        ws_(std::move(stream)),
        wake_(ws_.get_executor()),
        who_(std::move(who)),
        address_(std::move(address)) {}

  asio::awaitable<void> run(Request request) {
    auto self = shared_from_this();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kHandshakeTimeout;
    timeouts.idle_timeout = 45s;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(64 * 1024);
    auto [acceptError] = co_await ws_.async_accept(request, kTuple);
    if (acceptError) {
      co_return;
    }
    const auto executor = ws_.get_executor();
    subscription_ =
        state_.subscribers.add([weak = weak_from_this(), executor](LiveMessages messages) {
          asio::post(executor, [weak, messages] {
            if (auto session = weak.lock()) {
              session->push(messages);
            }
          });
        });
    registration_ = state_.sessions.add([weak = weak_from_this(), executor] {
      asio::post(executor, [weak] {
        if (auto session = weak.lock()) {
          session->close("the coordinator is shutting down");
        }
      });
    });
    asio::co_spawn(
        executor, [self]() { return self->writeLoop(); }, asio::detached);
    beast::flat_buffer buffer;
    for (;;) {
      auto [error, bytes] = co_await ws_.async_read(buffer, kTuple);
      if (error) {
        break;
      }
      buffer.clear();  // the feed is one-way; what the browser sends is ignored
    }
    ended_ = true;
    wake_.notify();
    state_.subscribers.remove(subscription_);
    state_.sessions.remove(registration_);
  }

 private:
  void push(const LiveMessages& messages) {
    if (closing_ || ended_) {
      return;
    }
    for (const std::string& message : *messages) {
      backlogBytes_ += message.size();
      outgoing_.push_back(messages);
      outgoingIndex_.push_back(&message);
    }
    if (backlogBytes_ > kMaxLiveBacklogBytes) {
      // A reader that cannot keep up is dropped; the dashboard reconnects and
      // fetches everything again.
      state_.log.line("live feed of " + who_ + " from " + address_ + " fell behind; closing it");
      outgoing_.clear();
      outgoingIndex_.clear();
      close("too far behind; reconnect and fetch again");
      return;
    }
    wake_.notify();
  }

  void close(const std::string& why) {
    if (closing_) {
      return;
    }
    closing_ = true;
    reason_ = websocket::close_reason(websocket::close_code::going_away, why);
    wake_.notify();
  }

  asio::awaitable<void> writeLoop() {
    auto self = shared_from_this();
    for (;;) {
      if (!outgoingIndex_.empty() && !closing_) {
        const std::string* message = outgoingIndex_.front();
        ws_.text(true);
        auto [error, written] = co_await ws_.async_write(asio::buffer(*message), kTuple);
        if (error) {
          break;
        }
        backlogBytes_ -= message->size();
        outgoingIndex_.pop_front();
        outgoing_.pop_front();
        continue;
      }
      if (closing_) {
        co_await ws_.async_close(reason_, kTuple);
        break;
      }
      if (ended_) {
        break;
      }
      co_await wake_.wait();
    }
  }

  ServerState& state_;
  websocket::stream<TlsStream> ws_;
  Wakeup wake_;
  std::string who_;
  std::string address_;
  std::deque<LiveMessages> outgoing_;  // keeps each message's vector alive
  std::deque<const std::string*> outgoingIndex_;
  std::size_t backlogBytes_ = 0;
  bool closing_ = false;
  bool ended_ = false;
  websocket::close_reason reason_;
  std::uint64_t subscription_ = 0;
  std::uint64_t registration_ = 0;
};

class ApiSession : public std::enable_shared_from_this<ApiSession> {
 public:
  ApiSession(ServerState& state, asio::ip::tcp::socket socket, asio::ssl::context& tls)
      : state_(state),
        address_(peerAddress(socket)),
        stream_(beast::tcp_stream(std::move(socket)), tls) {}

  asio::any_io_executor executor() { return stream_.get_executor(); }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    auto [tlsError] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (tlsError) {
      state_.log.line("refused API connection from " + address_ +
                      ": TLS handshake failed: " + tlsError.message());
      co_return;
    }
    registration_ = state_.sessions.add([weak = weak_from_this(), executor = executor()] {
      asio::post(executor, [weak] {
        if (auto session = weak.lock()) {
          beast::get_lowest_layer(session->stream_).cancel();
        }
      });
    });
    beast::flat_buffer buffer;
    for (;;) {
      if (state_.stopping) {
        break;
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(kMaxRequestBody);
      beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
      auto [readError, readBytes] = co_await http::async_read(stream_, buffer, parser, kTuple);
      if (readError == http::error::body_limit) {
        co_await send(errorResponse(413, "the request body is over 64 KiB"), 11, false);
        co_await discardRest();
        break;
      }
      if (readError) {
        break;
      }
      Request request = parser.release();
      if (websocket::is_upgrade(request)) {
        std::optional<Target> target = parseTarget(request.target());
        if (target && ApiRoutes::isLivePath(*target)) {
          std::optional<TokenGrant> who =
              state_.routes.authenticate(std::string(request[http::field::authorization]), *target);
          if (!who) {
            co_await send(errorResponse(401, "the live feed needs a token"), request.version(),
                          false);
            break;
          }
          beast::get_lowest_layer(stream_).expires_never();
          state_.sessions.remove(registration_);
          auto live =
              std::make_shared<LiveSession>(state_, std::move(stream_), who->name, address_);
          co_await live->run(std::move(request));
          co_return;
        }
        co_await send(errorResponse(404, "websockets are served at /api/v1/live only"),
                      request.version(), false);
        break;
      }
      ApiRequest api{std::string(request.method_string()), std::string(request.target()),
                     std::string(request[http::field::authorization]), std::move(request.body())};
      std::variant<ApiResponse, NoteRequest> routed = state_.routes.handle(api);
      ApiResponse answer;
      if (auto* note = std::get_if<NoteRequest>(&routed)) {
        answer = co_await addNote(std::move(*note));
      } else {
        answer = std::move(std::get<ApiResponse>(routed));
      }
      if (request.method() == http::verb::head) {
        answer.body.clear();
      }
      const bool keepAlive = request.keep_alive() && !state_.stopping;
      const bool sent = co_await send(answer, request.version(), keepAlive);
      if (!sent || !keepAlive) {
        break;
      }
    }
    beast::get_lowest_layer(stream_).expires_after(5s);
    co_await stream_.async_shutdown(kTuple);  // a client that just closes is no problem
    state_.sessions.remove(registration_);
  }

 private:
  asio::awaitable<bool> send(const ApiResponse& answer, unsigned version, bool keepAlive) {
    http::response<http::string_body> response = toHttp(answer, version, keepAlive);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    auto [error, written] = co_await http::async_write(stream_, response, kTuple);
    co_return !error;
  }

  // After refusing a request whose body is still arriving: read (and drop)
  // a bounded amount until the client closes, so that closing with unread
  // data does not reset the connection before the client read the answer.
  asio::awaitable<void> discardRest() {
    std::array<char, 16 * 1024> scratch{};
    std::size_t total = 0;
    beast::get_lowest_layer(stream_).expires_after(2s);
    while (total < 1024 * 1024) {
      auto [error, bytes] = co_await stream_.async_read_some(asio::buffer(scratch), kTuple);
      if (error) {
        break;
      }
      total += bytes;
    }
  }

  // The committer owns the writing Store: hand it the note and wait.
  asio::awaitable<ApiResponse> addNote(NoteRequest note) {
    auto self = shared_from_this();
    auto wake = std::make_shared<Wakeup>(executor());
    auto slot = std::make_shared<std::optional<ApiResponse>>();
    state_.committer.submitNote(
        note.agent, note.run, note.author, note.text,
        [wake, slot, executor = executor()](Result<boost::json::object> result) {
          asio::post(executor, [wake, slot, answer = ApiRoutes::noteResponse(std::move(result))] {
            *slot = answer;
            wake->notify();
          });
        });
    co_await wake->wait();
    state_.log.line("note by " + note.author + " on run " + note.run + " of agent " + note.agent);
    co_return std::move(**slot);
  }

  ServerState& state_;
  std::string address_;
  TlsStream stream_;
  std::uint64_t registration_ = 0;
};

}  // namespace

void startApiSession(ServerState& state, asio::ip::tcp::socket socket, asio::ssl::context& tls) {
  auto session = std::make_shared<ApiSession>(state, std::move(socket), tls);
  asio::co_spawn(
      session->executor(), [session]() { return session->run(); }, asio::detached);
}

}  // namespace lifeboat::coordinator
