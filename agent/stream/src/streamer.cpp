#include "lifeboat/stream/streamer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "lifeboat/common/host.hpp"
#include "lifeboat/common/stream_message.hpp"
#include "lifeboat/net/tls.hpp"

namespace lifeboat::stream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Socket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kConnectTimeout{10};
// A connection that lasted this long resets the backoff.
constexpr std::chrono::seconds kStableConnection{60};

Event agentEvent(const std::string& agent, std::string_view type, boost::json::object data) {
  Event event;
  event.agent = agent;
  event.seq = 0;
  event.time =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  event.type = std::string(type);
  event.data = std::move(data);
  return event;
}

std::string describe(const boost::system::error_code& error) {
  std::string text = error.message();
  if (error.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason says what to fix ("certificate verify failed").
    const std::string reason = net::takeOpensslReason();
    if (!reason.empty() && text.find(reason) == std::string::npos) {
      text += " (" + reason + ")";
    }
  }
  return text;
}

}  // namespace

Result<StreamUrl> parseStreamUrl(std::string_view url) {
  constexpr std::string_view kScheme = "wss://";
  if (!url.starts_with(kScheme)) {
    return Error{"coordinator URL " + std::string(url) + " is not a wss:// URL",
                 "agents talk to the coordinator over TLS only, e.g. "
                 "wss://coordinator.example:7443/v1/stream"};
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  StreamUrl parsed;
  parsed.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view authority = rest.substr(0, slash);
  std::string_view port = "443";
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error{"coordinator URL " + std::string(url) + " has an unclosed '['",
                   "write IPv6 addresses as wss://[::1]:7443/v1/stream"};
    }
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(':')) {
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (parsed.host.empty() || port.empty() ||
      port.find_first_not_of("0123456789") != std::string_view::npos || port.size() > 5) {
    return Error{"coordinator URL " + std::string(url) + " has no valid host and port",
                 "e.g. wss://coordinator.example:7443/v1/stream"};
  }
  parsed.port = std::string(port);
  return parsed;
}

struct Streamer::Impl {
  struct InFlight {
    std::string key;
    std::uint64_t endOffset = 0;
    std::uint64_t lastSeq = 0;
    std::size_t lines = 0;
  };

  StreamerOptions options;
  StreamUrl url;
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context io;
  asio::steady_timer wake{io};
  asio::steady_timer sleeper{io};
  // Bounds the closing handshake when stop() is called: a coordinator that
  // does not answer the close frame within a second is cut off.
  asio::steady_timer closeGuard{io};
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool pendingWake = false;   // io thread only
  Socket* current = nullptr;  // io thread only
  std::unique_ptr<SpoolReader> reader;
  std::deque<InFlight> inFlight;
  bool readerDone = false;
  int lockFd = -1;
  std::mt19937_64 random;
  enum class Link { unknown, up, down } link = Link::unknown;
  std::string lastRefusal;

  mutable std::mutex statusMutex;
  StreamerStatus status;

  ~Impl() {
    if (lockFd >= 0) {
      ::close(lockFd);
    }
  }

  void log(const std::string& line) {
    if (options.log) {
      options.log(line);
    }
  }

  void setStatus(const std::function<void(StreamerStatus&)>& change) {
    std::lock_guard lock(statusMutex);
    change(status);
  }

  bool tryLock() {
    if (lockFd < 0) {
      lockFd = ::open((options.spoolDirectory / "stream.lock").c_str(),
                      O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (lockFd < 0) {
        return false;
      }
    }
    if (::flock(lockFd, LOCK_EX | LOCK_NB) != 0) {
      return false;
    }
    setStatus([](StreamerStatus& s) { s.holdsSpool = true; });
    reader = std::make_unique<SpoolReader>(options.spoolDirectory, options.log);
    return true;
  }

  asio::awaitable<void> sleepFor(std::chrono::milliseconds duration) {
    sleeper.expires_after(duration);
    co_await sleeper.async_wait(kTuple);
  }

  // Waits until notify(), an ack, the reader's end, or `until`.
  asio::awaitable<void> waitForWork(Clock::time_point until) {
    if (pendingWake || readerDone || stopping) {
      pendingWake = false;
      co_return;
    }
    wake.expires_at(until);
    co_await wake.async_wait(kTuple);
    pendingWake = false;
  }

  void wakeUp() {
    pendingWake = true;
    wake.cancel();
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
    std::uniform_real_distribution<double> factor(0.8, 1.2);
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(base.count()) * factor(random)));
  }

  void onAck(std::uint64_t seq) {
    // Acks come in the order batches were sent and cover earlier batches.
    auto match = std::find_if(inFlight.begin(), inFlight.end(),
                              [seq](const InFlight& batch) { return batch.lastSeq == seq; });
    if (match == inFlight.end()) {
      return;
    }
    std::size_t lines = 0;
    std::size_t batches = 0;
    const auto end = std::next(match);
    for (auto it = inFlight.begin(); it != end; ++it) {
      reader->acknowledge(it->key, it->endOffset);
      lines += it->lines;
      ++batches;
    }
    inFlight.erase(inFlight.begin(), end);
    setStatus([&](StreamerStatus& s) {
      s.ackedBatches += batches;
      s.ackedEvents += lines;
    });
    wakeUp();
  }

  asio::awaitable<void> readLoop(Socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [error, bytes] = co_await socket.async_read(buffer, kTuple);
      if (error) {
        break;
      }
      const std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(bytes);
      Result<StreamReply> reply = decodeStreamReply(message);
      if (!reply) {
        log("coordinator sent a message this agent does not understand: " + reply.error().message);
        continue;
      }
      if (reply->kind == StreamReply::Kind::ack) {
        onAck(reply->ack);
      } else if (reply->error != lastRefusal) {
        lastRefusal = reply->error;
        log("coordinator refused the stream: " + reply->error +
            (reply->fatal ? " (it closes the connection; the events stay spooled)" : ""));
      }
    }
    readerDone = true;
    wakeUp();
  }

  asio::awaitable<bool> send(Socket& socket, const std::string& text, std::string& failure) {
    auto [error, bytes] = co_await socket.async_write(asio::buffer(text), kTuple);
    (void)bytes;
    if (error) {
      failure = "sending: " + describe(error);
      co_return false;
    }
    co_return true;
  }

  // One connection, from resolving to its end. Returns why it ended.
  asio::awaitable<std::string> session(Clock::time_point& connectedAt) {
    const std::string where = url.host + ":" + url.port;
    tcp::resolver resolver(io);
    auto [resolveError, endpoints] = co_await resolver.async_resolve(url.host, url.port, kTuple);
    if (resolveError) {
      co_return "resolving " + url.host + ": " + resolveError.message();
    }
    Socket socket(io, *tls);
    current = &socket;
    struct Clear {
      Socket*& current;
      ~Clear() { current = nullptr; }
    } clear{current};
    Result<bool> prepared = net::prepareClientConnection(socket.next_layer().native_handle(),
                                                         url.host, options.tls.pinSha256);
    if (!prepared) {
      co_return prepared.error().message;
    }
    beast::get_lowest_layer(socket).expires_after(kConnectTimeout);
    auto [connectError, endpoint] =
        co_await beast::get_lowest_layer(socket).async_connect(endpoints, kTuple);
    (void)endpoint;
    if (connectError) {
      co_return "connecting to " + where + ": " + connectError.message();
    }
    auto [tlsError] =
        co_await socket.next_layer().async_handshake(asio::ssl::stream_base::client, kTuple);
    if (tlsError) {
      co_return "TLS handshake with " + where + ": " + describe(tlsError);
    }
    beast::get_lowest_layer(socket).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kConnectTimeout;
    timeouts.idle_timeout = std::chrono::seconds(45);
    timeouts.keep_alive_pings = true;
    socket.set_option(timeouts);
    socket.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::user_agent, "lifeboat-agent");
    }));
    socket.read_message_max(64 * 1024);
    std::string hostHeader =
        url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    hostHeader += ":" + url.port;
    auto [wsError] = co_await socket.async_handshake(hostHeader, url.target, kTuple);
    if (wsError) {
      co_return "websocket handshake with " + where + url.target + ": " + describe(wsError);
    }
    socket.text(true);
    std::string failure;
    const std::string hello =
        encodeEvent(agentEvent(options.agent, event_type::kHello,
                               {{"agent_version", options.agentVersion},
                                {"protocol", kEventVersion},
                                {"hostname", hostName()},
                                {"pid", static_cast<std::int64_t>(::getpid())}}));
    // (GCC 12 miscompiles co_await inside a condition: a local first.)
    const bool helloSent = co_await send(socket, hello, failure);
    if (!helloSent) {
      co_return failure;
    }
    connectedAt = Clock::now();
    if (link != Link::up) {
      log("connected to the coordinator at " + options.url);
      link = Link::up;
    }
    lastRefusal.clear();
    setStatus([](StreamerStatus& s) {
      s.connected = true;
      s.lastError.clear();
    });

    inFlight.clear();
    reader->rescan();
    reader->rewind();
    readerDone = false;
    asio::co_spawn(io, readLoop(socket), asio::detached);

    Clock::time_point lastSent = Clock::now();
    Clock::time_point lastScan = Clock::now();
    while (!stopping && !readerDone) {
      if (Clock::now() - lastScan >= options.rescan) {
        reader->rescan();
        lastScan = Clock::now();
      }
      while (inFlight.size() < options.maxInFlight && !readerDone && !stopping) {
        std::optional<SpoolBatch> batch = reader->nextBatch(kMaxBatchEvents, kMaxBatchBytes);
        if (!batch) {
          break;
        }
        inFlight.push_back({batch->key, batch->endOffset, batch->lastSeq, batch->lines});
        const bool sent = co_await send(socket, batch->text, failure);
        if (!sent) {
          break;
        }
        lastSent = Clock::now();
      }
      if (!failure.empty()) {
        break;
      }
      if (Clock::now() - lastSent >= options.heartbeat) {
        const bool sent = co_await send(
            socket, encodeEvent(agentEvent(options.agent, event_type::kHeartbeat, {})), failure);
        if (!sent) {
          break;
        }
        lastSent = Clock::now();
      }
      co_await waitForWork(std::min(lastScan + options.rescan, lastSent + options.heartbeat));
    }
    if (failure.empty()) {
      failure = stopping ? "stopped" : "the coordinator closed the connection";
      if (!stopping && !lastRefusal.empty()) {
        failure += " after refusing the stream: " + lastRefusal;
      }
    }
    if (stopping && failure == "stopped") {
      // A websocket close, so the coordinator logs a clean disconnect rather
      // than a truncated stream. The reader sees the coordinator's close
      // frame and ends; closeGuard cuts a coordinator that never answers.
      auto [closeError] = co_await socket.async_close(websocket::close_code::going_away, kTuple);
      (void)closeError;
    }
    beast::get_lowest_layer(socket).close();
    // waitForWork() returns at once while stopping; a timer that really
    // suspends lets the reader's coroutine run and finish.
    while (!readerDone) {
      wake.expires_after(std::chrono::milliseconds(20));
      auto [ignored] = co_await wake.async_wait(kTuple);
      (void)ignored;
    }
    closeGuard.cancel();
    setStatus([&](StreamerStatus& s) {
      s.connected = false;
      s.lastError = failure;
    });
    co_return failure;
  }

  asio::awaitable<void> run() {
    std::chrono::milliseconds backoff = options.backoffInitial;
    while (!stopping) {
      if (!reader && !tryLock()) {
        co_await sleepFor(options.rescan);
        continue;
      }
      Clock::time_point connectedAt{};
      const std::string failure = co_await session(connectedAt);
      if (stopping) {
        break;
      }
      setStatus([&](StreamerStatus& s) { s.lastError = failure; });
      if (connectedAt != Clock::time_point{} && Clock::now() - connectedAt >= kStableConnection) {
        backoff = options.backoffInitial;
      }
      if (link != Link::down) {
        log(link == Link::up
                ? "connection to the coordinator lost (" + failure + "), reconnecting"
                : "coordinator " + options.url + " unreachable, retrying (" + failure + ")");
        link = Link::down;
      }
      co_await sleepFor(jittered(backoff));
      backoff = std::min(backoff * 2, options.backoffMax);
    }
    if (reader) {
      reader->rescan();  // deletes what was acknowledged and closed meanwhile
    }
  }
};

Streamer::Streamer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Streamer>> Streamer::start(StreamerOptions options) {
  Result<StreamUrl> url = parseStreamUrl(options.url);
  if (!url) {
    return url.error();
  }
  Result<std::unique_ptr<asio::ssl::context>> tls = net::makeClientTlsContext(options.tls);
  if (!tls) {
    return tls.error();
  }
  std::error_code error;
  std::filesystem::create_directories(options.spoolDirectory, error);
  auto impl = std::make_unique<Impl>();
  impl->random.seed(options.seed != 0 ? options.seed : std::random_device{}());
  impl->options = std::move(options);
  impl->url = std::move(*url);
  impl->tls = std::move(*tls);
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->run(), asio::detached);
  raw->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<Streamer>(new Streamer(std::move(impl)));
}

Streamer::~Streamer() {
  stop();
}

void Streamer::notify() {
  Impl* raw = impl_.get();
  asio::post(raw->io, [raw] { raw->wakeUp(); });
}

void Streamer::stop() {
  Impl* raw = impl_.get();
  if (!raw->thread.joinable()) {
    return;
  }
  raw->stopping = true;
  asio::post(raw->io, [raw] {
    raw->sleeper.cancel();
    raw->wakeUp();
    if (raw->current != nullptr) {
      raw->closeGuard.expires_after(std::chrono::seconds(1));
      raw->closeGuard.async_wait([raw](const boost::system::error_code& error) {
        if (!error && raw->current != nullptr) {
          beast::get_lowest_layer(*raw->current).close();
        }
      });
    }
  });
  raw->thread.join();
}

StreamerStatus Streamer::status() const {
  std::lock_guard lock(impl_->statusMutex);
  return impl_->status;
}

}  // namespace lifeboat::stream
