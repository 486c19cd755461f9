#include "lifeboat/listener/server.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>

#include "lifeboat/net/tls.hpp"
#include "server_state.hpp"
#include "session.hpp"
#include "unix_socket.hpp"

namespace lifeboat::listener {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using UnixProtocol = asio::local::stream_protocol;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// After a failed accept (out of file descriptors, say), wait this long before
// the next, rather than spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};

std::string describeAddress(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string Request::header(std::string_view lowerName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowerName) {
      return value;
    }
  }
  return {};
}

// Owns the io_context, the listening sockets and the io thread. Everything
// but the constructor, listen(), startThread(), port() and stop() runs on
// the io thread.
class Server::Impl {
 public:
  Impl(Handler handler, ServerOptions options) {
    state_.handler = std::move(handler);
    state_.options = options;
  }
  ~Impl() { stop(); }

  // Before startThread(): binds one endpoint.
  std::optional<Error> listen(const Endpoint& endpoint);
  std::optional<Error> startThread();
  std::uint16_t port(std::size_t index) const {
    return index < listeners_.size() ? listeners_[index].port : 0;
  }
  void stop();

 private:
  struct Listener {
    std::optional<tcp::acceptor> network;
    std::optional<UnixProtocol::acceptor> local;
    std::unique_ptr<asio::ssl::context> tls;
    std::uint16_t port = 0;
    std::optional<detail::UnixSocketFile> socketFile;
  };

  std::optional<Error> listenTcp(const Endpoint& endpoint, Listener& listener);
  std::optional<Error> listenUnix(const Endpoint& endpoint, Listener& listener);
  template <class Acceptor>
  asio::awaitable<void> acceptLoop(Acceptor& acceptor, asio::ssl::context* tls);
  void run();
  void closeEverything();

  asio::io_context io_{1};  // declared first: destroyed after the sockets
  detail::ServerState state_;
  std::vector<Listener> listeners_;  // fixed once the thread runs
  std::thread thread_;
  std::mutex stopMutex_;
  bool stopped_ = false;
};

std::optional<Error> Server::Impl::listen(const Endpoint& endpoint) {
  Listener& listener = listeners_.emplace_back();
  if (!endpoint.unixPath.empty()) {
    if (endpoint.tls) {
      return Error{"the unix socket " + endpoint.unixPath.string() + " cannot use TLS",
                   "TLS is for TCP endpoints; the unix socket's file permissions guard it"};
    }
    return listenUnix(endpoint, listener);
  }
  if (endpoint.tls) {
    auto tls = net::makeServerTlsContext(*endpoint.tls);
    if (!tls) {
      return tls.error();
    }
    listener.tls = std::move(*tls);
  }
  return listenTcp(endpoint, listener);
}

std::optional<Error> Server::Impl::listenTcp(const Endpoint& endpoint, Listener& listener) {
  const std::string host = endpoint.host.empty() ? "127.0.0.1" : endpoint.host;
  const std::string where = describeAddress(host, endpoint.port);
  boost::system::error_code error;
  const asio::ip::address address = asio::ip::make_address(host, error);
  if (error) {
    return Error{"cannot listen on " + where + ": \"" + host + "\" is not an IP address",
                 "give the address to listen on as an IP address, such as 127.0.0.1"};
  }
  const tcp::endpoint at(address, endpoint.port);
  tcp::acceptor& acceptor = listener.network.emplace(io_);
  const char* stage = "open";
  acceptor.open(at.protocol(), error);
  if (!error) {
    stage = "set SO_REUSEADDR";
    acceptor.set_option(asio::socket_base::reuse_address(true), error);
  }
  if (!error) {
    stage = "bind";
    acceptor.bind(at, error);
  }
  if (!error) {
    stage = "listen";
    acceptor.listen(asio::socket_base::max_listen_connections, error);
  }
  if (!error) {
    stage = "read the bound port";
    listener.port = acceptor.local_endpoint(error).port();
  }
  if (error) {
    return Error{"cannot listen on " + where + " (" + stage + "): " + error.message(),
                 "check that no other process uses this port and that the address belongs to "
                 "this host"};
  }
  return std::nullopt;
}

std::optional<Error> Server::Impl::listenUnix(const Endpoint& endpoint, Listener& listener) {
  auto made = detail::listenUnix(endpoint.unixPath);
  if (!made) {
    return made.error();
  }
  listener.socketFile = made->file;
  boost::system::error_code error;
  listener.local.emplace(io_).assign(UnixProtocol(), made->descriptor, error);
  if (error) {
    ::close(made->descriptor);
    return Error{
        "cannot listen on the unix socket " + endpoint.unixPath.string() + ": " + error.message(),
        ""};
  }
  return std::nullopt;
}

std::optional<Error> Server::Impl::startThread() {
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& failure) {
    return Error{std::string("cannot start the listener's thread: ") + failure.what(),
                 "check the agent's limits on threads and memory"};
  }
  return std::nullopt;
}

void Server::Impl::run() {
  for (Listener& listener : listeners_) {
    if (listener.network) {
      asio::co_spawn(io_, acceptLoop(*listener.network, listener.tls.get()), asio::detached);
    } else {
      asio::co_spawn(io_, acceptLoop(*listener.local, nullptr), asio::detached);
    }
  }
  // Nothing of ours throws into run(): sessions report errors as values and
  // co_spawn hands a coroutine's exception to its completion handler. Should
  // anything else throw, keep serving the other connections.
  for (;;) {
    try {
      io_.run();
      return;
    } catch (...) {
      continue;
    }
  }
}

template <class Acceptor>
asio::awaitable<void> Server::Impl::acceptLoop(Acceptor& acceptor, asio::ssl::context* tls) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
    if (state_.stopping || !acceptor.is_open()) {
      co_return;
    }
    if (error) {
      asio::steady_timer pause(io_, kAcceptRetry);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (state_.connections >= state_.options.maxConnections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++state_.connections;
    // The completion handler runs when the session ends, however it ends
    // (an exception there could only be std::bad_alloc: the connection is
    // dropped, the server carries on).
    auto finished = [this](const std::exception_ptr&) { --state_.connections; };
    if constexpr (std::is_same_v<Acceptor, tcp::acceptor>) {
      if (tls != nullptr) {
        asio::co_spawn(io_, detail::serveTls(state_, std::move(socket), *tls), finished);
      } else {
        asio::co_spawn(io_, detail::serveTcp(state_, std::move(socket)), finished);
      }
    } else {
      asio::co_spawn(io_, detail::serveUnix(state_, std::move(socket)), finished);
    }
  }
}

void Server::Impl::closeEverything() {
  state_.stopping = true;
  boost::system::error_code ignored;
  for (Listener& listener : listeners_) {
    if (listener.network) {
      listener.network->close(ignored);
    }
    if (listener.local) {
      listener.local->close(ignored);
    }
  }
  for (auto& [id, close] : state_.closers) {
    close();
  }
}

void Server::Impl::stop() {
  // From a handler (against the header's advice): close, but the join must
  // wait for the destructor, on another thread.
  if (thread_.joinable() && std::this_thread::get_id() == thread_.get_id()) {
    closeEverything();
    return;
  }
  std::lock_guard<std::mutex> lock(stopMutex_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (thread_.joinable()) {
    // The io thread runs out of work once every socket is closed and every
    // session coroutine has seen its operation aborted.
    asio::post(io_, [this] { closeEverything(); });
    thread_.join();
  } else {
    closeEverything();
  }
  for (const Listener& listener : listeners_) {
    if (listener.socketFile) {
      detail::removeUnixSocket(*listener.socketFile);
    }
  }
}

Result<std::unique_ptr<Server>> Server::start(std::vector<Endpoint> endpoints, Handler handler,
                                              ServerOptions options) {
  if (endpoints.empty()) {
    return Error{"the listener has no endpoint to listen on", "give at least one endpoint"};
  }
  if (!handler) {
    return Error{"the listener has no request handler", ""};
  }
  if (options.readTimeout.count() <= 0 || options.maxConnections == 0) {
    return Error{"the listener's read timeout and connection limit must be more than zero", ""};
  }
  auto impl = std::make_unique<Impl>(std::move(handler), options);
  for (const Endpoint& endpoint : endpoints) {
    if (auto failed = impl->listen(endpoint)) {
      return *failed;  // ~Impl closes what was bound and removes socket files
    }
  }
  if (auto failed = impl->startThread()) {
    return *failed;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::port(std::size_t endpointIndex) const {
  return impl_->port(endpointIndex);
}

void Server::stop() {
  impl_->stop();
}

}  // namespace lifeboat::listener
