// lifeboat-coordinator-load: the coordinator under load (docs/benchmarks.md,
// "Coordinator under load"; driver bench/coordinator.sh).
//
//   lifeboat-coordinator-load run --url wss://127.0.0.1:PORT/v1/stream
//       --ca CA.pem --ca-key CA-KEY.pem [--connections N] [--rate EVENTS_PER_S]
//       [--batch EVENTS] [--duration S] [--idle S] [--storm-gap S]
//       [--coordinator-pid PID] [--database FILE] [--label TEXT] [--threads 1|2]
//       [--connect-concurrency N] [--payload BYTES] [--json-out FILE]
//   lifeboat-coordinator-load baseline --listen 127.0.0.1:PORT --cert PEM
//       --key PEM --client-ca PEM [--threads N] [--release-buffers 1]
//
// `run` opens N mutual-TLS websocket agent connections from one process, each
// with its own certificate (common name load-000001 …, issued here from the
// CA's key), and measures in phases: connect, idle hold (the server's RSS per
// connection), sustained streaming at a fixed offered rate (events/s
// acknowledged, ack latency from the moment a batch was made, so a backlog
// shows), a reconnect storm (every TCP connection reset at once, events made
// meanwhile kept, then all reconnect at once and resend what was not
// acknowledged) and verification of the store (every event exactly once).
// It prints a table and one JSON line.
//
// `baseline` is the peer: a websocket endpoint with the same TLS set-up that
// decodes each batch as the coordinator must (every line a valid event of the
// connection's agent) and acknowledges it at once, storing nothing.
//
// Only loopback addresses are accepted, for both.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/host.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/common/stream_message.hpp"
#include "lifeboat/net/certificates.hpp"
#include "lifeboat/net/tls.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Socket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using Clock = std::chrono::steady_clock;
using lifeboat::Error;
using lifeboat::Result;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kHandshakeTimeout{60};
constexpr std::string_view kRun = "load-run-1";

// ---------------------------------------------------------------- helpers

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The command line: "--name value" pairs after the subcommand.
class Arguments {
 public:
  Arguments(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string key = argv[i];
      if (!key.starts_with("--") || i + 1 >= argc) {
        bad_ = "expected --option VALUE pairs, got \"" + key + "\"";
        return;
      }
      values_[key.substr(2)] = argv[++i];
    }
  }
  const std::string& bad() const { return bad_; }
  std::string text(const std::string& key, const std::string& fallback = "") {
    used_.push_back(key);
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  double number(const std::string& key, double fallback) {
    const std::string value = text(key);
    if (value.empty()) {
      return fallback;
    }
    try {
      return std::stod(value);
    } catch (const std::exception&) {
      bad_ = "--" + key + " needs a number, got \"" + value + "\"";
      return fallback;
    }
  }
  // An Error naming an option nobody asked for (a typo).
  std::optional<std::string> unknown() const {
    for (const auto& [key, value] : values_) {
      if (std::find(used_.begin(), used_.end(), key) == used_.end()) {
        return "unknown option --" + key;
      }
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
  std::string bad_;
};

// "127.0.0.1:7443" → endpoint; loopback only.
Result<tcp::endpoint> loopbackEndpoint(const std::string& hostPort) {
  const std::size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos) {
    return Error{"\"" + hostPort + "\" has no port", "write it as 127.0.0.1:7443"};
  }
  std::string host = hostPort.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code error;
  const asio::ip::address address = asio::ip::make_address(host, error);
  if (error || !address.is_loopback()) {
    return Error{"\"" + host + "\" is not a loopback IP address",
                 "this benchmark only talks to 127.0.0.0/8 or ::1"};
  }
  int port = 0;
  try {
    port = std::stoi(hostPort.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return Error{"\"" + hostPort + "\" has no valid port", "write it as 127.0.0.1:7443"};
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Raise RLIMIT_NOFILE to at least `wanted` (root may raise the hard limit).
std::uint64_t raiseOpenFileLimit(std::uint64_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    rlimit raised = limit;
    raised.rlim_cur = std::max<rlim_t>(wanted, limit.rlim_cur);
    raised.rlim_max = std::max<rlim_t>(raised.rlim_cur, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      raised.rlim_cur = limit.rlim_max;
      raised.rlim_max = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &raised);
    }
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// A process's resident memory and CPU time from /proc.
struct ProcessSample {
  bool ok = false;
  std::uint64_t rssKb = 0;
  std::uint64_t hwmKb = 0;
  double cpuSeconds = 0;
};

ProcessSample sampleProcess(pid_t pid) {
  ProcessSample sample;
  if (pid <= 0) {
    return sample;
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      sample.rssKb = std::stoull(line.substr(6));
      sample.ok = true;
    } else if (line.starts_with("VmHWM:")) {
      sample.hwmKb = std::stoull(line.substr(6));
    }
  }
  std::ifstream statFile("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    for (int index = 3; index <= 15 && fields >> field; ++index) {
      if (index == 14) {
        utime = std::stoull(field);
      } else if (index == 15) {
        stime = std::stoull(field);
      }
    }
    sample.cpuSeconds =
        static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return sample;
}

double ownCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string describe(const boost::system::error_code& error) {
  std::string text = error.message();
  if (error.category() == asio::error::get_ssl_category()) {
    const std::string reason = lifeboat::net::takeOpensslReason();
    if (!reason.empty() && text.find(reason) == std::string::npos) {
      text += " (" + reason + ")";
    }
  }
  return text;
}

// ---------------------------------------------------------------- identities

struct Identity {
  std::string name;
  X509* certificate = nullptr;
  EVP_PKEY* key = nullptr;
};

struct IdentityDeleter {
  void operator()(Identity* identity) const {
    X509_free(identity->certificate);
    EVP_PKEY_free(identity->key);
    delete identity;
  }
};
using IdentityPtr = std::unique_ptr<Identity, IdentityDeleter>;

Result<IdentityPtr> issueIdentity(const lifeboat::net::PemPair& ca, const std::string& name) {
  lifeboat::net::CertificateRequest request;
  request.commonName = name;
  Result<lifeboat::net::PemPair> pem = lifeboat::net::issueCertificate(ca, request);
  if (!pem) {
    return pem.error();
  }
  IdentityPtr identity(new Identity{name});
  std::unique_ptr<BIO, decltype(&BIO_free)> certificateBio(
      BIO_new_mem_buf(pem->certificate.data(), static_cast<int>(pem->certificate.size())),
      &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> keyBio(
      BIO_new_mem_buf(pem->privateKey.data(), static_cast<int>(pem->privateKey.size())), &BIO_free);
  identity->certificate = PEM_read_bio_X509(certificateBio.get(), nullptr, nullptr, nullptr);
  identity->key = PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr);
  if (identity->certificate == nullptr || identity->key == nullptr) {
    return Error{"cannot read back the certificate issued for " + name + ": " +
                     lifeboat::net::takeOpensslReason(),
                 "check the CA files given to --ca and --ca-key"};
  }
  return identity;
}

std::string agentName(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "load-%06zu", index + 1);
  return name;
}

// ---------------------------------------------------------------- the agents

struct Options {
  tcp::endpoint endpoint;
  std::string hostHeader;
  std::string target = "/v1/stream";
  std::filesystem::path ca;
  std::filesystem::path caKey;
  std::size_t connections = 1000;
  double rate = 50000;  // events/s offered, all connections together
  std::size_t batch = 10;
  double duration = 30;
  double idle = 10;
  double stormGap = 2;
  std::size_t connectConcurrency = 256;
  int threads = 1;
  pid_t coordinatorPid = 0;
  std::filesystem::path database;
  std::string label = "coordinator";
  std::string jsonOut;
  std::size_t payloadBytes = 200;
  double phaseTimeout = 600;
};

struct Shared {
  Shared(const Options& o, asio::ssl::context& t, std::string h)
      : options(o), tls(t), hello(std::move(h)) {}
  const Options& options;
  asio::ssl::context& tls;
  std::string hello;  // the hello event's host name, shared by all

  std::atomic<std::size_t> connected{0};
  std::atomic<std::size_t> sessions{0};
  std::atomic<std::size_t> producers{0};
  std::atomic<std::uint64_t> producedEvents{0};
  std::atomic<std::uint64_t> ackedEvents{0};
  std::atomic<std::uint64_t> ackedBatches{0};
  std::atomic<std::uint64_t> handshakeFailures{0};
  std::atomic<std::uint64_t> drops{0};
  std::atomic<std::uint64_t> serverErrors{0};
  std::atomic<bool> storm{false};
  std::atomic<std::size_t> caughtUp{0};
  std::atomic<bool> recording{false};

  std::mutex mutex;  // guards the two below
  std::vector<float> latenciesMs;
  std::map<std::string, std::uint64_t> errors;  // message → count

  void noteError(const std::string& message) {
    std::lock_guard lock(mutex);
    ++errors[message];
  }
};

class Agent {
 public:
  Agent(Shared& shared, IdentityPtr identity, asio::any_io_executor executor, std::string payload)
      : shared_(shared),
        identity_(std::move(identity)),
        executor_(std::move(executor)),
        backoffTimer_(executor_),
        produceTimer_(executor_),
        payload_(std::move(payload)) {}

  const std::string& name() const { return identity_->name; }
  // Read only while no session or producer runs.
  std::uint64_t made() const { return nextSeq_ - 1; }
  std::uint64_t acked() const { return ackedSeq_; }

  void connect() {
    shared_.sessions.fetch_add(1);
    asio::post(executor_, [this] {
      aborting_ = false;
      caughtUp_ = false;
      asio::co_spawn(executor_, session(), asio::detached);
    });
  }

  // Resets the TCP connection (RST, no close handshake) and ends the session.
  void abort() {
    asio::post(executor_, [this] {
      aborting_ = true;
      backoffTimer_.cancel();
      if (socket_ != nullptr) {
        auto& socket = beast::get_lowest_layer(*socket_).socket();
        boost::system::error_code ignored;
        if (socket.is_open()) {
          socket.set_option(tcp::socket::linger(true, 0), ignored);
          socket.close(ignored);
        }
      }
    });
  }

  void startProducing(Clock::time_point first, Clock::duration interval) {
    shared_.producers.fetch_add(1);
    asio::post(executor_, [this, first, interval] {
      producing_ = true;
      asio::co_spawn(executor_, produce(first, interval), asio::detached);
    });
  }

  void stopProducing() {
    asio::post(executor_, [this] {
      producing_ = false;
      produceTimer_.cancel();
    });
  }

 private:
  struct Batch {
    std::uint64_t lastSeq = 0;
    std::uint64_t events = 0;
    Clock::time_point made;
    std::string text;
  };

  asio::awaitable<void> produce(Clock::time_point next, Clock::duration interval) {
    while (producing_) {
      produceTimer_.expires_at(next);
      co_await produceTimer_.async_wait(kTuple);
      if (!producing_) {
        break;
      }
      makeBatch();
      pump();
      next += interval;
    }
    shared_.producers.fetch_sub(1);
  }

  void makeBatch() {
    Batch batch;
    batch.made = Clock::now();
    const lifeboat::Timestamp now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const std::size_t count = std::max<std::size_t>(1, shared_.options.batch);
    for (std::size_t i = 0; i < count; ++i) {
      lifeboat::Event event;
      event.agent = identity_->name;
      event.run = std::string(kRun);
      event.seq = nextSeq_++;
      event.time = now;
      event.type = "step.output";
      event.step = "copy-base-backup";
      event.data["stream"] = "stdout";
      event.data["text"] = "seq " + std::to_string(event.seq) + ": " + payload_;
      if (i > 0) {
        batch.text += '\n';
      }
      batch.text += lifeboat::encodeEvent(event);
    }
    batch.lastSeq = nextSeq_ - 1;
    batch.events = count;
    shared_.producedEvents.fetch_add(count);
    unacked_.push_back(std::move(batch));
  }

  // Writes the oldest batch not yet written on this connection, one at a time.
  void pump() {
    if (writing_ || !connected_ || socket_ == nullptr) {
      return;
    }
    auto next = std::partition_point(unacked_.begin(), unacked_.end(), [this](const Batch& b) {
      return b.lastSeq <= writtenThrough_;
    });
    if (next == unacked_.end()) {
      return;
    }
    writing_ = true;
    const std::uint64_t last = next->lastSeq;
    socket_->async_write(asio::buffer(next->text),
                         [this, last](boost::system::error_code error, std::size_t) {
                           writing_ = false;
                           if (error) {
                             return;
                           }
                           writtenThrough_ = std::max(writtenThrough_, last);
                           pump();
                         });
  }

  void onAck(std::uint64_t seq) {
    const Clock::time_point now = Clock::now();
    std::uint64_t events = 0;
    std::uint64_t batches = 0;
    std::vector<float> latencies;
    const bool recording = shared_.recording.load(std::memory_order_relaxed);
    while (!unacked_.empty() && unacked_.front().lastSeq <= seq) {
      events += unacked_.front().events;
      ++batches;
      if (recording) {
        latencies.push_back(
            std::chrono::duration<float, std::milli>(now - unacked_.front().made).count());
      }
      unacked_.pop_front();
    }
    ackedSeq_ = std::max(ackedSeq_, seq);
    shared_.ackedEvents.fetch_add(events);
    shared_.ackedBatches.fetch_add(batches);
    if (!latencies.empty()) {
      std::lock_guard lock(shared_.mutex);
      shared_.latenciesMs.insert(shared_.latenciesMs.end(), latencies.begin(), latencies.end());
    }
    checkCaughtUp();
  }

  void checkCaughtUp() {
    if (!caughtUp_ && connected_ && unacked_.empty() && shared_.storm.load()) {
      caughtUp_ = true;
      shared_.caughtUp.fetch_add(1);
    }
  }

  // Connect, TLS handshake with this agent's certificate, websocket
  // handshake, hello. Returns why it failed, or "".
  asio::awaitable<std::string> open(Socket& socket) {
    SSL* ssl = socket.next_layer().native_handle();
    if (SSL_use_certificate(ssl, identity_->certificate) != 1 ||
        SSL_use_PrivateKey(ssl, identity_->key) != 1) {
      co_return "cannot use the certificate of " + identity_->name + ": " +
          lifeboat::net::takeOpensslReason();
    }
    const std::string host = shared_.options.endpoint.address().to_string();
    Result<bool> prepared = lifeboat::net::prepareClientConnection(ssl, host, "");
    if (!prepared) {
      co_return prepared.error().message;
    }
    auto& lowest = beast::get_lowest_layer(socket);
    lowest.expires_after(kHandshakeTimeout);
    auto [connectError] = co_await lowest.async_connect(shared_.options.endpoint, kTuple);
    if (connectError) {
      co_return "connect: " + describe(connectError);
    }
    auto [tlsError] =
        co_await socket.next_layer().async_handshake(asio::ssl::stream_base::client, kTuple);
    if (tlsError) {
      co_return "TLS handshake: " + describe(tlsError);
    }
    lowest.expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kHandshakeTimeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    socket.set_option(timeouts);
    auto [wsError] =
        co_await socket.async_handshake(shared_.options.hostHeader, shared_.options.target, kTuple);
    if (wsError) {
      co_return "websocket handshake: " + describe(wsError);
    }
    socket.text(true);
    lifeboat::Event hello;
    hello.agent = identity_->name;
    hello.seq = 0;
    hello.time =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    hello.type = "hello";
    hello.data["agent_version"] = "coordinator-load";
    hello.data["protocol"] = 1;
    hello.data["hostname"] = shared_.hello;
    hello.data["pid"] = static_cast<std::int64_t>(::getpid());
    hello.data["last_seq"] = ackedSeq_;
    const std::string text = lifeboat::encodeEvent(hello);
    auto [helloError, written] = co_await socket.async_write(asio::buffer(text), kTuple);
    (void)written;
    if (helloError) {
      co_return "hello: " + describe(helloError);
    }
    co_return "";
  }

  asio::awaitable<void> session() {
    std::chrono::milliseconds backoff{500};
    std::mt19937 random(static_cast<unsigned>(std::hash<std::string>{}(identity_->name)));
    while (!aborting_) {
      auto socket = std::make_unique<Socket>(executor_, shared_.tls);
      socket_ = socket.get();
      const std::string failure = co_await open(*socket);
      if (!failure.empty() || aborting_) {
        socket_ = nullptr;
        socket.reset();
        if (aborting_) {
          break;
        }
        shared_.handshakeFailures.fetch_add(1);
        shared_.noteError(failure);
        // Back off like an agent: 0.5 s doubling, ±20 % jitter, at most 8 s.
        std::uniform_real_distribution<double> factor(0.8, 1.2);
        backoffTimer_.expires_after(std::chrono::milliseconds(
            static_cast<std::int64_t>(static_cast<double>(backoff.count()) * factor(random))));
        co_await backoffTimer_.async_wait(kTuple);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
        continue;
      }
      connected_ = true;
      writtenThrough_ = 0;
      shared_.connected.fetch_add(1);
      checkCaughtUp();
      pump();
      beast::flat_buffer buffer;
      for (;;) {
        auto [readError, bytes] = co_await socket->async_read(buffer, kTuple);
        (void)bytes;
        if (readError) {
          if (!aborting_) {
            shared_.drops.fetch_add(1);
            shared_.noteError("connection dropped: " + describe(readError));
          }
          break;
        }
        const std::string message = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        Result<lifeboat::StreamReply> reply = lifeboat::decodeStreamReply(message);
        if (!reply) {
          shared_.serverErrors.fetch_add(1);
          shared_.noteError("unreadable reply: " + reply.error().message);
        } else if (reply->kind == lifeboat::StreamReply::Kind::error) {
          shared_.serverErrors.fetch_add(1);
          shared_.noteError("coordinator: " + reply->error);
        } else {
          onAck(reply->ack);
        }
      }
      connected_ = false;
      shared_.connected.fetch_sub(1);
      // Close what is left and let a pending write finish before the
      // stream goes away.
      {
        auto& raw = beast::get_lowest_layer(*socket).socket();
        boost::system::error_code ignored;
        if (raw.is_open()) {
          raw.set_option(tcp::socket::linger(true, 0), ignored);
          raw.close(ignored);
        }
      }
      while (writing_) {
        backoffTimer_.expires_after(std::chrono::milliseconds(1));
        co_await backoffTimer_.async_wait(kTuple);
      }
      socket_ = nullptr;
      socket.reset();
      if (!aborting_) {
        backoffTimer_.expires_after(backoff);
        co_await backoffTimer_.async_wait(kTuple);
      }
    }
    shared_.sessions.fetch_sub(1);
  }

  Shared& shared_;
  IdentityPtr identity_;
  asio::any_io_executor executor_;
  asio::steady_timer backoffTimer_;
  asio::steady_timer produceTimer_;
  std::string payload_;
  Socket* socket_ = nullptr;
  bool connected_ = false;
  bool writing_ = false;
  bool aborting_ = false;
  bool producing_ = false;
  bool caughtUp_ = false;
  std::uint64_t nextSeq_ = 1;
  std::uint64_t ackedSeq_ = 0;
  std::uint64_t writtenThrough_ = 0;
  std::deque<Batch> unacked_;
};

// Waits until `done()` or `limit` seconds; false on timeout.
template <typename Done>
bool waitUntil(Done done, double limit) {
  const Clock::time_point start = Clock::now();
  while (!done()) {
    if (secondsSince(start) > limit) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

double percentile(const std::vector<float>& sorted, double fraction) {
  if (sorted.empty()) {
    return 0;
  }
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[std::min(index, sorted.size() - 1)];
}

struct StoreCheck {
  bool done = false;
  std::string error;
  std::uint64_t agentsChecked = 0;
  std::uint64_t agentsWrong = 0;
  std::uint64_t stored = 0;
  std::uint64_t missing = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t unexpected = 0;  // stored beyond what was made
};

// Reads the coordinator's SQLite file read-only: per agent, count(*) and
// count(distinct seq) must both equal what the agent made (1 … made).
StoreCheck checkStore(const std::filesystem::path& database,
                      const std::vector<std::unique_ptr<Agent>>& agents) {
  StoreCheck check;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    check.error = "cannot open " + database.string() + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return check;
  }
  sqlite3_busy_timeout(db, 10000);
  const char* sql =
      "SELECT agent, COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM events "
      "WHERE agent GLOB 'load-*' GROUP BY agent";
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    check.error = "cannot query " + database.string() + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return check;
  }
  std::map<std::string, std::uint64_t> made;
  for (const auto& agent : agents) {
    made[agent->name()] = agent->made();
  }
  std::map<std::string, bool> seen;
  int step = 0;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    const std::string agent = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    const auto count = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 1));
    const auto distinct = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 2));
    const auto low = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 3));
    const auto high = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 4));
    check.stored += count;
    check.duplicates += count - distinct;
    auto it = made.find(agent);
    if (it == made.end()) {
      check.unexpected += count;
      continue;
    }
    seen[agent] = true;
    ++check.agentsChecked;
    const std::uint64_t expected = it->second;
    const bool right = count == expected && distinct == expected &&
                       (expected == 0 || (low == 1 && high == expected));
    if (!right) {
      ++check.agentsWrong;
    }
    if (distinct < expected) {
      check.missing += expected - distinct;
    }
    if (high > expected) {
      check.unexpected += high - expected;
    }
  }
  if (step != SQLITE_DONE) {
    check.error = std::string("reading ") + database.string() + ": " + sqlite3_errmsg(db);
  }
  for (const auto& [agent, expected] : made) {
    if (!seen.contains(agent) && expected > 0) {
      ++check.agentsChecked;
      ++check.agentsWrong;
      check.missing += expected;
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  check.done = check.error.empty();
  return check;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string payloadText(std::size_t bytes) {
  // A pg_basebackup-like progress line, repeated to the wanted size.
  const std::string line =
      "pg_basebackup: 1843212/5242880 kB (35%), 0/1 tablespace (.../base/16384/2619); "
      "wal 0/3A0000D8 streamed, lag 12 ms, 48.2 MB/s; ";
  std::string text;
  while (text.size() < bytes) {
    text += line;
  }
  text.resize(bytes);
  return text;
}

int runLoad(Arguments& arguments) {
  Options options;
  Result<tcp::endpoint> endpoint = Error{"", ""};
  const std::string url = arguments.text("url");
  if (!url.starts_with("wss://")) {
    std::cerr << "lifeboat-coordinator-load: --url wss://127.0.0.1:PORT/v1/stream is required\n";
    return 2;
  }
  {
    const std::string rest = url.substr(6);
    const std::size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    options.target = slash == std::string::npos ? "/" : rest.substr(slash);
    endpoint = loopbackEndpoint(authority);
    options.hostHeader = authority;
  }
  options.ca = arguments.text("ca");
  options.caKey = arguments.text("ca-key");
  options.connections = static_cast<std::size_t>(arguments.number("connections", 1000));
  options.rate = arguments.number("rate", 50000);
  options.batch = static_cast<std::size_t>(arguments.number("batch", 10));
  options.duration = arguments.number("duration", 30);
  options.idle = arguments.number("idle", 10);
  options.stormGap = arguments.number("storm-gap", 2);
  options.connectConcurrency =
      static_cast<std::size_t>(arguments.number("connect-concurrency", 256));
  options.threads = static_cast<int>(arguments.number("threads", 1));
  options.coordinatorPid = static_cast<pid_t>(arguments.number("coordinator-pid", 0));
  options.database = arguments.text("database");
  options.label = arguments.text("label", "coordinator");
  options.jsonOut = arguments.text("json-out");
  options.payloadBytes = static_cast<std::size_t>(arguments.number("payload", 200));
  options.phaseTimeout = arguments.number("phase-timeout", 600);
  if (auto unknown = arguments.unknown()) {
    std::cerr << "lifeboat-coordinator-load: " << *unknown << '\n';
    return 2;
  }
  if (!arguments.bad().empty()) {
    std::cerr << "lifeboat-coordinator-load: " << arguments.bad() << '\n';
    return 2;
  }
  if (!endpoint) {
    std::cerr << "lifeboat-coordinator-load: " << endpoint.error().message << " ("
              << endpoint.error().hint << ")\n";
    return 2;
  }
  options.endpoint = *endpoint;
  if (options.ca.empty() || options.caKey.empty() || options.connections == 0 ||
      options.rate <= 0 || options.threads < 1) {
    std::cerr << "lifeboat-coordinator-load: --ca and --ca-key are required; --connections, "
                 "--rate and --threads must be positive\n";
    return 2;
  }
  const std::size_t n = options.connections;
  const std::uint64_t files = raiseOpenFileLimit(2 * n + 256);
  if (files < n + 64) {
    std::cerr << "lifeboat-coordinator-load: only " << files << " open files allowed for " << n
              << " connections (raise `ulimit -n` or run as root)\n";
    return 1;
  }

  // Identities: one certificate per agent, issued from the CA's key.
  lifeboat::net::PemPair ca{readFile(options.ca), readFile(options.caKey)};
  if (ca.certificate.empty() || ca.privateKey.empty()) {
    std::cerr << "lifeboat-coordinator-load: cannot read " << options.ca << " or " << options.caKey
              << " (make them with `lifeboat-coordinator certs init DIR`)\n";
    return 2;
  }
  const Clock::time_point issueStart = Clock::now();
  // Two threads: a P-256 key and a signature per agent, ~1.5 ms each here.
  std::vector<IdentityPtr> identities(n);
  std::vector<std::optional<Error>> issueErrors(2);
  {
    std::vector<std::thread> issuers;
    for (std::size_t worker = 0; worker < 2; ++worker) {
      issuers.emplace_back([&, worker] {
        for (std::size_t i = worker; i < n; i += 2) {
          Result<IdentityPtr> identity = issueIdentity(ca, agentName(i));
          if (!identity) {
            issueErrors[worker] = identity.error();
            return;
          }
          identities[i] = std::move(*identity);
        }
      });
    }
    for (auto& issuer : issuers) {
      issuer.join();
    }
  }
  for (const auto& issueError : issueErrors) {
    if (issueError) {
      std::cerr << "lifeboat-coordinator-load: " << issueError->message << " (" << issueError->hint
                << ")\n";
      return 2;
    }
  }
  const double issueSeconds = secondsSince(issueStart);

  lifeboat::net::TlsClientOptions tlsOptions;
  tlsOptions.ca = options.ca;
  Result<std::unique_ptr<asio::ssl::context>> tls = lifeboat::net::makeClientTlsContext(tlsOptions);
  if (!tls) {
    std::cerr << "lifeboat-coordinator-load: " << tls.error().message << '\n';
    return 2;
  }

  asio::io_context io(options.threads);
  auto guard = asio::make_work_guard(io);
  Shared shared(options, **tls, lifeboat::hostName());
  const std::string payload =
      payloadText(options.payloadBytes > 40 ? options.payloadBytes - 40 : 1);
  std::vector<std::unique_ptr<Agent>> agents;
  agents.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    asio::any_io_executor executor = options.threads > 1
                                         ? asio::any_io_executor(asio::make_strand(io))
                                         : asio::any_io_executor(io.get_executor());
    agents.push_back(std::make_unique<Agent>(shared, std::move(identities[i]), executor, payload));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) {
    threads.emplace_back([&io] { io.run(); });
  }
  const pid_t pid = options.coordinatorPid;
  boost::json::object summary;
  summary["benchmark"] = "coordinator-load";
  summary["label"] = options.label;
  summary["connections"] = n;
  summary["certificates_issued_s"] = issueSeconds;
  bool ok = true;

  // Phase 1: connect, at most connectConcurrency handshakes in flight.
  const ProcessSample before = sampleProcess(pid);
  const double ownBefore = ownCpuSeconds();
  const Clock::time_point connectStart = Clock::now();
  std::size_t started = 0;
  while (started < n) {
    if (started - shared.connected.load() < options.connectConcurrency) {
      agents[started++]->connect();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (secondsSince(connectStart) > options.phaseTimeout) {
      break;
    }
  }
  const bool allConnected =
      waitUntil([&] { return shared.connected.load() == n; }, options.phaseTimeout);
  const double connectSeconds = secondsSince(connectStart);
  const ProcessSample afterConnect = sampleProcess(pid);
  const std::uint64_t connectFailures = shared.handshakeFailures.load();
  ok = ok && allConnected;
  summary["connect"] = {
      {"seconds", connectSeconds},
      {"connected", shared.connected.load()},
      {"handshakes_per_s", static_cast<double>(shared.connected.load()) / connectSeconds},
      {"failures", connectFailures},
      {"server_cpu_s", afterConnect.cpuSeconds - before.cpuSeconds}};

  // Phase 2: idle hold.
  std::this_thread::sleep_for(std::chrono::duration<double>(options.idle));
  const ProcessSample idle = sampleProcess(pid);
  const double perConnectionKb =
      idle.ok ? (static_cast<double>(idle.rssKb) - static_cast<double>(before.rssKb)) /
                    static_cast<double>(n)
              : 0;
  summary["idle"] = {
      {"seconds", options.idle},
      {"still_connected", shared.connected.load()},
      {"rss_before_kb", before.rssKb},
      {"rss_connected_kb", idle.rssKb},
      {"rss_per_connection_kb", perConnectionKb},
      {"server_cpu_percent", 100 * (idle.cpuSeconds - afterConnect.cpuSeconds) / options.idle}};

  // Phase 3: sustained streaming at the offered rate. Each agent makes a
  // batch every `interval`, the agents' first batches spread over one interval.
  const double interval = static_cast<double>(n * options.batch) / options.rate;
  const auto intervalDuration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
  const Clock::time_point streamStart = Clock::now();
  shared.recording = true;
  for (std::size_t i = 0; i < n; ++i) {
    agents[i]->startProducing(
        streamStart + std::chrono::duration_cast<Clock::duration>(
                          intervalDuration * static_cast<double>(i) / static_cast<double>(n)),
        intervalDuration);
  }
  // Warm-up of one interval (every agent's first batch), then the window.
  std::this_thread::sleep_for(intervalDuration);
  const std::uint64_t ackedAtStart = shared.ackedEvents.load();
  const ProcessSample streamBefore = sampleProcess(pid);
  const double ownStreamBefore = ownCpuSeconds();
  const Clock::time_point windowStart = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(options.duration));
  const double window = secondsSince(windowStart);
  const std::uint64_t ackedInWindow = shared.ackedEvents.load() - ackedAtStart;
  const ProcessSample streamAfter = sampleProcess(pid);
  const double ownStreamAfter = ownCpuSeconds();
  shared.recording = false;
  const std::uint64_t backlog = shared.producedEvents.load() - shared.ackedEvents.load();
  std::vector<float> latencies;
  {
    std::lock_guard lock(shared.mutex);
    latencies.swap(shared.latenciesMs);
  }
  std::sort(latencies.begin(), latencies.end());
  const double eventsPerSecond = static_cast<double>(ackedInWindow) / window;
  summary["stream"] = {
      {"seconds", window},
      {"offered_events_per_s", options.rate},
      {"batch_events", options.batch},
      {"batch_interval_ms", interval * 1000},
      {"events_acked", ackedInWindow},
      {"events_per_s", eventsPerSecond},
      {"batches_timed", latencies.size()},
      {"ack_p50_ms", percentile(latencies, 0.50)},
      {"ack_p99_ms", percentile(latencies, 0.99)},
      {"ack_max_ms", latencies.empty() ? 0.0 : static_cast<double>(latencies.back())},
      {"backlog_events_at_end", backlog},
      {"drops", shared.drops.load()},
      {"server_rss_kb", streamAfter.rssKb},
      {"server_cpu_percent", 100 * (streamAfter.cpuSeconds - streamBefore.cpuSeconds) / window},
      {"load_generator_cpu_percent", 100 * (ownStreamAfter - ownStreamBefore) / window}};

  // Phase 4: reconnect storm. Reset every TCP connection at once; agents
  // keep making events for storm-gap seconds (their spool), then all
  // reconnect at once and resend what was not acknowledged.
  for (auto& agent : agents) {
    agent->abort();
  }
  const bool allClosed = waitUntil([&] { return shared.sessions.load() == 0; }, 120);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.stormGap));
  for (auto& agent : agents) {
    agent->stopProducing();
  }
  waitUntil([&] { return shared.producers.load() == 0; }, 60);
  const std::uint64_t toResend = shared.producedEvents.load() - shared.ackedEvents.load();
  const std::uint64_t failuresBeforeStorm = shared.handshakeFailures.load();
  const ProcessSample stormBefore = sampleProcess(pid);
  shared.caughtUp = 0;
  shared.storm = true;
  const Clock::time_point stormStart = Clock::now();
  for (auto& agent : agents) {
    agent->connect();
  }
  const bool allReconnected =
      waitUntil([&] { return shared.connected.load() == n; }, options.phaseTimeout);
  const double reconnectSeconds = secondsSince(stormStart);
  const bool allCaughtUp =
      waitUntil([&] { return shared.caughtUp.load() == n; }, options.phaseTimeout);
  const double stormSeconds = secondsSince(stormStart);
  const ProcessSample stormAfter = sampleProcess(pid);
  ok = ok && allClosed && allReconnected && allCaughtUp;
  summary["storm"] = {{"connections_reset", n},
                      {"events_to_resend", toResend},
                      {"seconds_all_reconnected", reconnectSeconds},
                      {"seconds_all_acked", stormSeconds},
                      {"all_acked", allCaughtUp},
                      {"handshake_failures", shared.handshakeFailures.load() - failuresBeforeStorm},
                      {"server_rss_kb", stormAfter.rssKb},
                      {"server_cpu_s", stormAfter.cpuSeconds - stormBefore.cpuSeconds}};

  // Done: reset the connections, stop, then check the store.
  for (auto& agent : agents) {
    agent->abort();
  }
  waitUntil([&] { return shared.sessions.load() == 0; }, 120);
  guard.reset();
  io.stop();
  for (auto& thread : threads) {
    thread.join();
  }
  std::uint64_t made = 0;
  std::uint64_t unackedAgents = 0;
  for (const auto& agent : agents) {
    made += agent->made();
    if (agent->acked() != agent->made()) {
      ++unackedAgents;
    }
  }
  StoreCheck store;
  if (!options.database.empty()) {
    store = checkStore(options.database, agents);
    ok = ok && store.done && store.agentsWrong == 0 && store.duplicates == 0;
  }
  const ProcessSample end = sampleProcess(pid);
  summary["verify"] = {{"events_made", made},
                       {"agents_not_fully_acked", unackedAgents},
                       {"store_checked", store.done},
                       {"store_error", store.error},
                       {"agents_checked", store.agentsChecked},
                       {"agents_wrong", store.agentsWrong},
                       {"events_stored", store.stored},
                       {"missing", store.missing},
                       {"duplicates", store.duplicates},
                       {"unexpected", store.unexpected}};
  summary["server"] = {
      {"pid", pid}, {"rss_peak_kb", end.hwmKb}, {"cpu_s", end.cpuSeconds - before.cpuSeconds}};
  summary["load_generator_cpu_s"] = ownCpuSeconds() - ownBefore;
  summary["server_errors"] = shared.serverErrors.load();
  summary["ok"] = ok && unackedAgents == 0;
  boost::json::object errors;
  {
    std::lock_guard lock(shared.mutex);
    for (const auto& [message, count] : shared.errors) {
      if (errors.size() < 20) {
        errors[message] = count;
      }
    }
  }
  summary["errors"] = errors;

  // The human table.
  auto kb = [](double value) { return fixed(value / 1024, 1) + " MiB"; };
  std::cout << "\n" << options.label << ", " << n << " connections\n";
  std::cout << "  certificates issued         " << fixed(issueSeconds, 1) << " s\n";
  std::cout << "  connect                     " << fixed(connectSeconds, 2) << " s, "
            << fixed(static_cast<double>(n) / connectSeconds, 0) << " handshakes/s, "
            << connectFailures << " failures\n";
  if (pid > 0) {
    std::cout << "  idle RSS                    " << kb(static_cast<double>(before.rssKb)) << " -> "
              << kb(static_cast<double>(idle.rssKb)) << ", " << fixed(perConnectionKb, 1)
              << " KiB per connection\n";
  }
  std::cout << "  streaming (" << fixed(window, 0) << " s, offered " << fixed(options.rate, 0)
            << " ev/s, " << options.batch << "-event batches)\n"
            << "    acked                     " << fixed(eventsPerSecond, 0) << " events/s\n"
            << "    ack latency p50/p99/max   " << fixed(percentile(latencies, 0.5), 1) << " / "
            << fixed(percentile(latencies, 0.99), 1) << " / "
            << fixed(latencies.empty() ? 0.0 : latencies.back(), 1) << " ms\n"
            << "    backlog at end            " << backlog << " events\n";
  if (pid > 0) {
    std::cout << "    server CPU                "
              << fixed(100 * (streamAfter.cpuSeconds - streamBefore.cpuSeconds) / window, 0)
              << " % of a core, RSS " << kb(static_cast<double>(streamAfter.rssKb)) << "\n";
  }
  std::cout << "    load generator CPU        "
            << fixed(100 * (ownStreamAfter - ownStreamBefore) / window, 0) << " % of a core\n";
  std::cout << "  reconnect storm             all " << n << " reset, " << toResend
            << " events to resend; reconnected in " << fixed(reconnectSeconds, 2)
            << " s, all acked in " << fixed(stormSeconds, 2) << " s"
            << (allCaughtUp ? "" : " (NOT all acked)") << "\n";
  if (store.done) {
    std::cout << "  store                       " << store.stored << " events of " << made
              << " made; missing " << store.missing << ", duplicates " << store.duplicates
              << ", agents wrong " << store.agentsWrong << "\n";
  } else if (!options.database.empty()) {
    std::cout << "  store                       not checked: " << store.error << "\n";
  }
  if (!errors.empty()) {
    std::cout << "  errors seen:\n";
    for (const auto& [message, count] : errors) {
      std::cout << "    " << count.to_number<std::uint64_t>() << " × " << std::string_view(message)
                << "\n";
    }
  }
  const std::string line = boost::json::serialize(summary);
  std::cout << line << std::endl;
  if (!options.jsonOut.empty()) {
    std::ofstream out(options.jsonOut, std::ios::app);
    out << line << '\n';
  }
  return summary["ok"].as_bool() ? 0 : 1;
}

// ---------------------------------------------------------------- the peer

asio::awaitable<void> serveBaseline(tcp::socket tcpSocket, asio::ssl::context& tls) {
  Socket socket(beast::tcp_stream(std::move(tcpSocket)), tls);
  auto& lowest = beast::get_lowest_layer(socket);
  lowest.expires_after(kHandshakeTimeout);
  auto [tlsError] =
      co_await socket.next_layer().async_handshake(asio::ssl::stream_base::server, kTuple);
  if (tlsError) {
    co_return;
  }
  const std::string agent =
      lifeboat::net::verifiedPeerCommonName(socket.next_layer().native_handle());
  lowest.expires_never();
  socket.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  auto [acceptError] = co_await socket.async_accept(kTuple);
  if (acceptError || agent.empty()) {
    co_return;
  }
  socket.text(true);
  beast::flat_buffer buffer;
  for (;;) {
    auto [readError, bytes] = co_await socket.async_read(buffer, kTuple);
    (void)bytes;
    if (readError) {
      co_return;
    }
    const std::string_view message(static_cast<const char*>(buffer.data().data()),
                                   buffer.data().size());
    Result<std::vector<lifeboat::Event>> batch = lifeboat::decodeBatch(message);
    std::string reply;
    bool fatal = false;
    if (!batch) {
      reply = lifeboat::encodeStreamError(batch.error().message, true);
      fatal = true;
    } else {
      for (const lifeboat::Event& event : *batch) {
        if (event.agent != agent) {
          reply = lifeboat::encodeStreamError("event for agent \"" + event.agent +
                                                  "\" on a connection authenticated as \"" + agent +
                                                  "\"",
                                              true);
          fatal = true;
          break;
        }
      }
      const lifeboat::Event& last = batch->back();
      if (!fatal && last.type != "hello" && last.type != "heartbeat") {
        reply = lifeboat::encodeAck(last.seq);
      }
    }
    buffer.consume(buffer.size());
    if (!reply.empty()) {
      auto [writeError, written] = co_await socket.async_write(asio::buffer(reply), kTuple);
      (void)written;
      if (writeError) {
        co_return;
      }
    }
    if (fatal) {
      co_await socket.async_close(websocket::close_code::policy_error, kTuple);
      co_return;
    }
  }
}

int runBaseline(Arguments& arguments) {
  Result<tcp::endpoint> endpoint = loopbackEndpoint(arguments.text("listen", "127.0.0.1:0"));
  lifeboat::net::TlsServerOptions tlsOptions;
  tlsOptions.certificate = arguments.text("cert");
  tlsOptions.privateKey = arguments.text("key");
  tlsOptions.clientCa = arguments.text("client-ca");
  tlsOptions.requireClientCertificate = true;
  const int threads = static_cast<int>(arguments.number("threads", 2));
  // --release-buffers 1: SSL_MODE_RELEASE_BUFFERS, OpenSSL frees an idle
  // connection's record buffers (~34 KiB); to measure what it would save.
  const bool releaseBuffers = arguments.number("release-buffers", 0) != 0;
  if (auto unknown = arguments.unknown()) {
    std::cerr << "lifeboat-coordinator-load baseline: " << *unknown << '\n';
    return 2;
  }
  if (!endpoint) {
    std::cerr << "lifeboat-coordinator-load baseline: " << endpoint.error().message << '\n';
    return 2;
  }
  Result<std::unique_ptr<asio::ssl::context>> tls = lifeboat::net::makeServerTlsContext(tlsOptions);
  if (!tls) {
    std::cerr << "lifeboat-coordinator-load baseline: " << tls.error().message << " ("
              << tls.error().hint << ")\n";
    return 2;
  }
  if (releaseBuffers) {
    SSL_CTX_set_mode((*tls)->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }
  raiseOpenFileLimit(65536);
  asio::io_context io(threads);
  tcp::acceptor acceptor(io);
  boost::system::error_code error;
  acceptor.open(endpoint->protocol(), error);
  if (!error) {
    acceptor.set_option(asio::socket_base::reuse_address(true), error);
    acceptor.bind(*endpoint, error);
  }
  if (!error) {
    acceptor.listen(asio::socket_base::max_listen_connections, error);
  }
  if (error) {
    std::cerr << "lifeboat-coordinator-load baseline: cannot listen on " << *endpoint << ": "
              << error.message() << '\n';
    return 1;
  }
  const tcp::endpoint local = acceptor.local_endpoint();
  std::cout << "listening: agents wss://" << local.address().to_string() << ':' << local.port()
            << "/v1/stream" << std::endl;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](boost::system::error_code, int) { io.stop(); });
  asio::ssl::context& context = **tls;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer pause(io);
        for (;;) {
          auto [acceptError, socket] =
              co_await acceptor.async_accept(asio::make_strand(io), kTuple);
          if (acceptError) {
            // Out of descriptors and the like: pause instead of spinning.
            pause.expires_after(std::chrono::milliseconds(10));
            co_await pause.async_wait(kTuple);
            continue;
          }
          auto executor = socket.get_executor();
          asio::co_spawn(executor, serveBaseline(std::move(socket), context), asio::detached);
        }
      },
      asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) {
    pool.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& thread : pool) {
    thread.join();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command != "run" && command != "baseline") {
    std::cerr << "usage: lifeboat-coordinator-load run --url wss://127.0.0.1:PORT/v1/stream "
                 "--ca CA.pem --ca-key CA-KEY.pem [options]\n"
                 "       lifeboat-coordinator-load baseline --listen 127.0.0.1:PORT --cert PEM "
                 "--key PEM --client-ca PEM\n"
                 "see bench/coordinator_load.cpp and docs/benchmarks.md\n";
    return 2;
  }
  Arguments arguments(argc, argv, 2);
  if (!arguments.bad().empty()) {
    std::cerr << "lifeboat-coordinator-load: " << arguments.bad() << '\n';
    return 2;
  }
  return command == "run" ? runLoad(arguments) : runBaseline(arguments);
}
