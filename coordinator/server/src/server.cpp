#include "lifeboat/coordinator/server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

#include "lifeboat/comms/engine.hpp"
#include "lifeboat/net/tls.hpp"
#include "sessions.hpp"

namespace lifeboat::coordinator {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kShutdownGrace = 5s;

Result<std::unique_ptr<asio::ssl::context>> makeContext(const net::TlsServerOptions& options,
                                                        std::string_view listener) {
  Result<std::unique_ptr<asio::ssl::context>> context = net::makeServerTlsContext(options);
  if (!context) {
    return Error{"[" + std::string(listener) + "]: " + context.error().message,
                 context.error().hint};
  }
  // Idle connections give their TLS read and write buffers back: with
  // thousands of agents connected this is most of the memory per connection.
  SSL_CTX_set_mode((*context)->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return context;
}

Result<bool> bindListener(tcp::acceptor& acceptor, const ListenAddress& listen,
                          std::string_view listener) {
  boost::system::error_code error;
  const tcp::endpoint endpoint(asio::ip::make_address(listen.host, error), listen.port);
  if (!error)
    acceptor.open(endpoint.protocol(), error);
  if (!error)
    acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error)
    acceptor.bind(endpoint, error);
  if (!error)
    acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Error{"[" + std::string(listener) + "] cannot listen on " + listen.host + ":" +
                     std::to_string(listen.port) + ": " + error.message(),
                 "is another coordinator running there? change `listen` in the config"};
  }
  return true;
}

std::string hostForUrl(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// The comms engine of [comms]: the plan loaded and checked, the outbox
// opened, the senders started.
Result<std::unique_ptr<comms::Engine>> startComms(const CommsConfig& config,
                                                  const ServerConfig& server, Log& log,
                                                  std::vector<std::string>& spokespersonTokens) {
  std::vector<std::string> warnings;
  Result<comms::Plan> plan = comms::loadPlan(config.plan, &warnings);
  if (!plan) {
    return Error{"[comms] plan: " + plan.error().message, plan.error().hint};
  }
  for (const std::string& warning : warnings) {
    log.line(warning);
  }
  if (auto role = plan->roles.find(std::string(comms::kSpokesperson)); role != plan->roles.end()) {
    spokespersonTokens = role->second.tokens;
  }
  comms::EngineOptions options;
  options.database = config.database;
  options.eventsDatabase = server.database;
  options.plan = std::move(*plan);
  options.statusPageUrl = config.publicUrl;
  options.log = [&log](std::string_view line) { log.line(line); };
  Result<std::unique_ptr<comms::Engine>> engine = comms::Engine::open(std::move(options));
  if (!engine) {
    return engine.error();
  }
  (*engine)->start();
  log.line("comms: plan " + config.plan.string() + " loaded, outbox " + config.database.string());
  return engine;
}

}  // namespace

std::vector<Error> checkTls(const ServerConfig& config) {
  std::vector<Error> problems;
  if (auto agents = makeContext(config.agentsTls, "agents"); !agents) {
    problems.push_back(agents.error());
  }
  if (auto api = makeContext(config.apiTls, "api"); !api) {
    problems.push_back(api.error());
  }
  return problems;
}

struct Server::Impl {
  explicit Impl(std::ostream& out) : log(out) {}
  // A session still registered when the io_context stopped (it did not
  // close within the grace time) left its callback here, holding an
  // executor of `io`: drop those before `io` goes (declared last, destroyed
  // first); ASan saw the strand freed under it.
  ~Impl() {
    if (state) {
      state->sessions.clear();
      state->subscribers.clear();
    }
  }

  asio::awaitable<void> accept(tcp::acceptor& acceptor, asio::ssl::context& tls, bool agents) {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(asio::make_strand(io), kTuple);
      if (error == asio::error::operation_aborted || !acceptor.is_open() || state->stopping) {
        co_return;
      }
      if (error) {
        // Out of descriptors or memory: say so, breathe, go on.
        log.line(std::string(agents ? "agents" : "api") +
                 " listener: accept failed: " + error.message());
        asio::steady_timer pause(io, 100ms);
        co_await pause.async_wait(kTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), error);
      if (agents) {
        startAgentSession(*state, std::move(socket), tls);
      } else {
        startApiSession(*state, std::move(socket), tls);
      }
    }
  }

  // On `control`, like the accept loops (acceptors are not thread-safe).
  void beginShutdown() {
    if (state->stopping.exchange(true)) {
      return;
    }
    log.line("shutting down: no new connections, closing " +
             std::to_string(state->sessions.size()) + " connection(s)");
    boost::system::error_code ignored;
    agentsAcceptor.close(ignored);
    apiAcceptor.close(ignored);
    signals.cancel(ignored);
    state->sessions.callAll();
    asio::co_spawn(control, waitForSessions(), asio::detached);
  }

  asio::awaitable<void> waitForSessions() {
    const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
    asio::steady_timer timer(io);
    while (state->sessions.size() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(20ms);
      co_await timer.async_wait(kTuple);
    }
    if (state->sessions.size() > 0) {
      log.line("shutting down: " + std::to_string(state->sessions.size()) +
               " connection(s) did not close in time");
    }
    io.stop();
  }

  Log log;
  std::string agentsHost, apiHost;
  std::unique_ptr<asio::ssl::context> agentsTls, apiTls;
  std::unique_ptr<TokenTable> tokens;
  std::unique_ptr<ReaderPool> readers;
  std::unique_ptr<comms::Engine> comms;  // null without [comms]
  std::unique_ptr<ApiRoutes> routes;
  std::unique_ptr<Committer> committer;
  std::unique_ptr<ServerState> state;
  int threads = 2;
  // Last: destroyed first, with every handler still holding a session.
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> control{io.get_executor()};
  tcp::acceptor agentsAcceptor{io};
  tcp::acceptor apiAcceptor{io};
  asio::signal_set signals{io};
};

Result<std::unique_ptr<Server>> Server::start(const ServerConfig& config, std::ostream& log) {
  auto impl = std::make_unique<Impl>(log);
  impl->threads = config.threads;
  impl->agentsHost = config.agentsListen.host;
  impl->apiHost = config.apiListen.host;
  auto agentsTls = makeContext(config.agentsTls, "agents");
  if (!agentsTls)
    return agentsTls.error();
  auto apiTls = makeContext(config.apiTls, "api");
  if (!apiTls)
    return apiTls.error();
  impl->agentsTls = std::move(*agentsTls);
  impl->apiTls = std::move(*apiTls);

  Result<std::unique_ptr<store::Store>> writer = store::Store::open(config.database);
  if (!writer)
    return writer.error();
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (Result<std::size_t> offline = (*writer)->markAllOffline(now); !offline) {
    return offline.error();
  }
  if (auto bound = bindListener(impl->agentsAcceptor, config.agentsListen, "agents"); !bound) {
    return bound.error();
  }
  if (auto bound = bindListener(impl->apiAcceptor, config.apiListen, "api"); !bound) {
    return bound.error();
  }
  impl->tokens = std::make_unique<TokenTable>(config.tokens);
  impl->readers = std::make_unique<ReaderPool>(config.database);
  std::vector<std::string> spokespersonTokens;
  if (config.comms) {
    Result<std::unique_ptr<comms::Engine>> engine =
        startComms(*config.comms, config, impl->log, spokespersonTokens);
    if (!engine) {
      return engine.error();
    }
    impl->comms = std::move(*engine);
  }
  impl->routes = std::make_unique<ApiRoutes>(*impl->tokens, *impl->readers, impl->comms.get(),
                                             std::move(spokespersonTokens));
  Impl* raw = impl.get();
  impl->committer = std::make_unique<Committer>(
      std::move(*writer),
      [raw](LiveMessages messages) { raw->state->subscribers.callAll(messages); }, impl->log,
      [raw] { return raw->state->subscribers.size() > 0; },
      [raw] {
        if (raw->comms) {
          raw->comms->eventsStored();
        }
      });
  impl->state.reset(new ServerState{impl->log, *impl->committer, *impl->routes, {}, {}, {}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_) {
    impl_->committer->stop();
    if (impl_->comms) {
      impl_->comms->stop();
    }
  }
}

std::uint16_t Server::agentsPort() const {
  boost::system::error_code error;
  return impl_->agentsAcceptor.local_endpoint(error).port();
}

std::uint16_t Server::apiPort() const {
  boost::system::error_code error;
  return impl_->apiAcceptor.local_endpoint(error).port();
}

std::string Server::listeningLine() const {
  return "listening: agents wss://" + hostForUrl(impl_->agentsHost) + ":" +
         std::to_string(agentsPort()) + "/v1/stream, api https://" + hostForUrl(impl_->apiHost) +
         ":" + std::to_string(apiPort());
}

void Server::run(bool handleSignals) {
  Impl& impl = *impl_;
  if (handleSignals) {
    impl.signals.add(SIGTERM);
    impl.signals.add(SIGINT);
    impl.signals.async_wait(asio::bind_executor(
        impl.control, [&impl](const boost::system::error_code& error, int signal) {
          if (!error) {
            impl.log.line(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT"));
            impl.beginShutdown();
          }
        }));
  }
  asio::co_spawn(impl.control, impl.accept(impl.agentsAcceptor, *impl.agentsTls, true),
                 asio::detached);
  asio::co_spawn(impl.control, impl.accept(impl.apiAcceptor, *impl.apiTls, false), asio::detached);
  std::vector<std::thread> workers;
  for (int i = 1; i < impl.threads; ++i) {
    workers.emplace_back([&impl] { impl.io.run(); });
  }
  impl.io.run();
  for (std::thread& worker : workers) {
    worker.join();
  }
  impl.committer->stop();
  if (impl.comms) {
    impl.comms->stop();
  }
  impl.log.line("stopped");
}

void Server::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->beginShutdown(); });
}

}  // namespace lifeboat::coordinator
