// TlsSocket on real sockets on 127.0.0.1 with real certificates: large
// transfers both ways at once in odd-sized pieces (on two threads, each
// side on a strand), the end of a session (close_notify, a peer that closes
// mid-record or between records), refused handshakes surfacing as errors on
// both sides, shutdown, and Beast's websocket on top of it (messages, close
// with teardown, the idle timeout). Peers are TlsSockets and Asio's own
// ssl::stream (what the agents use).

#include "lifeboat/net/tls_socket.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "lifeboat/net/certificates.hpp"
#include "lifeboat/net/tls.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Bytes no two positions of which repeat in a short period, so a lost,
// doubled or reordered piece shows.
std::string pattern(std::size_t size, unsigned seed) {
  std::string text(size, '\0');
  std::uint32_t state = seed * 2654435761u + 1;
  for (char& c : text) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return text;
}

class TlsSocketTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_support::TempDir();
    Result<PemPair> ca = makeCertificateAuthority("TlsSocket test CA");
    Result<PemPair> otherCa = makeCertificateAuthority("Another CA");
    ASSERT_TRUE(ca.ok() && otherCa.ok());
    dir_->write("ca.pem", ca->certificate);
    issue("server", *ca, CertificateRequest{"coordinator", {"127.0.0.1"}, true, {}, {}});
    issue("agent", *ca, CertificateRequest{"db-eu-1", {}, false, {}, {}});
    issue("stranger", *otherCa, CertificateRequest{"db-eu-1", {}, false, {}, {}});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static void issue(const std::string& name, const PemPair& ca, const CertificateRequest& what) {
    Result<PemPair> pair = issueCertificate(ca, what);
    ASSERT_TRUE(pair.ok());
    ASSERT_TRUE(
        writePemPair(*pair, dir_->path() / (name + ".pem"), dir_->path() / (name + ".key")).ok());
  }

  static std::unique_ptr<asio::ssl::context> serverContext() {
    TlsServerOptions options{dir_->path() / "server.pem", dir_->path() / "server.key",
                             dir_->path() / "ca.pem", true};
    auto context = makeServerTlsContext(options);
    EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error().message);
    SSL_CTX_set_mode((*context)->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    return std::move(*context);
  }

  static std::unique_ptr<asio::ssl::context> clientContext(const std::string& who) {
    TlsClientOptions options{dir_->path() / "ca.pem", dir_->path() / (who + ".pem"),
                             dir_->path() / (who + ".key"), ""};
    auto context = makeClientTlsContext(options);
    EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error().message);
    return std::move(*context);
  }

  // Accepts one connection, hands it to `server`; connects one, hands it to
  // `client`; runs both on `threads` threads until both returned (20 s at
  // most). Each side's socket runs on its own strand.
  void run(const std::function<asio::awaitable<void>(tcp::socket)>& server,
           const std::function<asio::awaitable<void>(tcp::socket)>& client, int threads = 1) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const tcp::endpoint endpoint = acceptor.local_endpoint();
    int finished = 0;
    auto serverSide = asio::make_strand(io);
    auto clientSide = asio::make_strand(io);
    asio::co_spawn(
        serverSide,
        [&]() -> asio::awaitable<void> {
          auto [error, socket] = co_await acceptor.async_accept(serverSide, kTuple);
          EXPECT_FALSE(error) << error.message();
          if (!error) {
            co_await server(std::move(socket));
          }
          ++finished;
        },
        asio::detached);
    asio::co_spawn(
        clientSide,
        [&]() -> asio::awaitable<void> {
          tcp::socket socket(clientSide);
          auto [error] = co_await socket.async_connect(endpoint, kTuple);
          EXPECT_FALSE(error) << error.message();
          if (!error) {
            co_await client(std::move(socket));
          }
          ++finished;
        },
        asio::detached);
    std::vector<std::thread> helpers;
    for (int i = 1; i < threads; ++i) {
      helpers.emplace_back([&io] { io.run_for(20s); });
    }
    io.run_for(20s);
    for (std::thread& helper : helpers) {
      helper.join();
    }
    EXPECT_EQ(finished, 2) << "a side did not finish within 20 s";
  }

  static test_support::TempDir* dir_;
};

test_support::TempDir* TlsSocketTest::dir_ = nullptr;

// Writes `data` in pieces of changing size (1 byte to 70 KB, some spanning
// several records), each piece as two buffers now and then.
asio::awaitable<error_code> writeInPieces(TlsSocket& socket, const std::string& data) {
  std::size_t at = 0;
  std::size_t step = 1;
  while (at < data.size()) {
    const std::size_t size = std::min(step, data.size() - at);
    const std::size_t head = std::min<std::size_t>(size, 5);
    const std::array<asio::const_buffer, 2> pieces{
        asio::buffer(data.data() + at, head), asio::buffer(data.data() + at + head, size - head)};
    auto [error, written] = co_await asio::async_write(socket, pieces, kTuple);
    if (error) {
      co_return error;
    }
    at += written;
    step = step * 7 % 70001 + 1;
  }
  co_return error_code();
}

// Reads exactly `size` bytes with reads of changing size.
asio::awaitable<std::string> readInPieces(TlsSocket& socket, std::size_t size, error_code& error) {
  std::string data;
  std::string piece(40000, '\0');
  std::size_t step = 3;
  while (data.size() < size) {
    const std::size_t want = std::min({step, size - data.size(), piece.size()});
    auto [readError, got] =
        co_await socket.async_read_some(asio::buffer(piece.data(), want), kTuple);
    if (readError) {
      error = readError;
      co_return data;
    }
    data.append(piece, 0, got);
    step = step * 13 % 39999 + 1;
  }
  co_return data;
}

TEST_F(TlsSocketTest, MovesMegabytesBothWaysAtOnceInPiecesOnTwoThreads) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  const std::string toClient = pattern(6 * 1024 * 1024 + 17, 1);
  const std::string toServer = pattern(5 * 1024 * 1024 + 3, 2);
  std::string atServer, atClient, peerName;
  error_code serverRead, clientRead, serverWrite, clientWrite, serverShutdown, clientShutdown;

  // Each side writes and reads at the same time, then shuts down.
  const auto side = [](TlsSocket& socket, const std::string& out, std::size_t inSize,
                       std::string& in, error_code& readError,
                       error_code& writeError) -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    bool written = false;
    asio::steady_timer writerDone(executor, std::chrono::steady_clock::time_point::max());
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          writeError = co_await writeInPieces(socket, out);
          written = true;
          writerDone.cancel();
        },
        asio::detached);
    in = co_await readInPieces(socket, inSize, readError);
    while (!written) {
      co_await writerDone.async_wait(kTuple);
    }
  };

  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        auto [handshake] = co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        peerName = verifiedPeerCommonName(socket.native_handle());
        co_await side(socket, toClient, toServer.size(), atServer, serverRead, serverWrite);
        std::tie(serverShutdown) = co_await socket.async_shutdown(kTuple);
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), clientTls->native_handle());
        auto prepared = prepareClientConnection(socket.native_handle(), "127.0.0.1", "");
        EXPECT_TRUE(prepared.ok());
        auto [handshake] = co_await socket.async_handshake(TlsSocket::Role::client, kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        co_await side(socket, toServer, toClient.size(), atClient, clientRead, clientWrite);
        std::tie(clientShutdown) = co_await socket.async_shutdown(kTuple);
      },
      2);
  EXPECT_EQ(peerName, "db-eu-1");
  EXPECT_FALSE(serverRead) << serverRead.message();
  EXPECT_FALSE(clientRead) << clientRead.message();
  EXPECT_FALSE(serverWrite) << serverWrite.message();
  EXPECT_FALSE(clientWrite) << clientWrite.message();
  EXPECT_TRUE(atServer == toServer) << "the server received " << atServer.size() << " of "
                                    << toServer.size() << " bytes, or other bytes";
  EXPECT_TRUE(atClient == toClient) << "the client received " << atClient.size() << " of "
                                    << toClient.size() << " bytes, or other bytes";
  EXPECT_FALSE(serverShutdown) << serverShutdown.message();
  EXPECT_FALSE(clientShutdown) << clientShutdown.message();
}

using AsioTls = asio::ssl::stream<tcp::socket>;

TEST_F(TlsSocketTest, TalksToAsioSslStreamAndSeesItsCloseNotifyAsEof) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  const std::string request = pattern(300000, 3);
  std::string received;
  error_code afterClose, clientShutdown, serverShutdown;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        auto [handshake] = co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        received.resize(request.size());
        auto [readError, got] = co_await asio::async_read(socket, asio::buffer(received), kTuple);
        EXPECT_FALSE(readError) << readError.message();
        auto [writeError, sent] = co_await asio::async_write(socket, asio::buffer("done"), kTuple);
        EXPECT_FALSE(writeError) << writeError.message();
        char more = 0;
        std::tie(afterClose, std::ignore) =
            co_await socket.async_read_some(asio::buffer(&more, 1), kTuple);
        std::tie(serverShutdown) = co_await socket.async_shutdown(kTuple);
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        AsioTls stream(std::move(raw), *clientTls);
        auto [handshake] = co_await stream.async_handshake(AsioTls::client, kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        co_await asio::async_write(stream, asio::buffer(request), kTuple);
        char answer[5] = {};
        auto [readError, got] = co_await asio::async_read(stream, asio::buffer(answer), kTuple);
        EXPECT_FALSE(readError) << readError.message();
        EXPECT_EQ(std::string(answer, got), std::string("done\0", 5));
        std::tie(clientShutdown) = co_await stream.async_shutdown(kTuple);
      });
  EXPECT_TRUE(received == request);
  EXPECT_EQ(afterClose, asio::error::eof) << afterClose.message();
  EXPECT_FALSE(serverShutdown) << serverShutdown.message();
  EXPECT_FALSE(clientShutdown) << clientShutdown.message();
}

TEST_F(TlsSocketTest, PeerClosingMidRecordOrWithoutCloseNotifyIsStreamTruncated) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  for (const bool midRecord : {true, false}) {
    error_code readError;
    std::string before;
    run(
        [&](tcp::socket raw) -> asio::awaitable<void> {
          TlsSocket socket(std::move(raw), serverTls->native_handle());
          auto [handshake] = co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
          EXPECT_FALSE(handshake) << handshake.message();
          char buffer[64];
          for (;;) {
            auto [error, got] = co_await socket.async_read_some(asio::buffer(buffer), kTuple);
            if (error) {
              readError = error;
              break;
            }
            before.append(buffer, got);
          }
          auto [shutdown] = co_await socket.async_shutdown(kTuple);
          EXPECT_FALSE(shutdown) << "nothing to shut down after a failure: " << shutdown.message();
        },
        [&](tcp::socket raw) -> asio::awaitable<void> {
          AsioTls stream(std::move(raw), *clientTls);
          auto [handshake] = co_await stream.async_handshake(AsioTls::client, kTuple);
          EXPECT_FALSE(handshake) << handshake.message();
          co_await asio::async_write(stream, asio::buffer(std::string("whole record")), kTuple);
          if (midRecord) {
            // The header of an application data record promising 100 bytes,
            // and 10 of them.
            const unsigned char partial[15] = {0x17, 0x03, 0x03, 0x00, 0x64};
            co_await asio::async_write(stream.next_layer(), asio::buffer(partial), kTuple);
          }
          stream.next_layer().close();
        });
    EXPECT_EQ(before, "whole record");
    EXPECT_EQ(readError, asio::ssl::error::stream_truncated)
        << (midRecord ? "mid-record: " : "between records: ") << readError.message();
  }
}

TEST_F(TlsSocketTest, RefusedCertificateFailsTheServersHandshakeAndTheClientsRead) {
  auto serverTls = serverContext();
  auto strangerTls = clientContext("stranger");
  error_code serverHandshake, clientHandshake, clientRead;
  long verify = X509_V_OK;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        std::tie(serverHandshake) =
            co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
        verify = SSL_get_verify_result(socket.native_handle());
        EXPECT_EQ(verifiedPeerCommonName(socket.native_handle()), "");
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), strangerTls->native_handle());
        std::tie(clientHandshake) =
            co_await socket.async_handshake(TlsSocket::Role::client, kTuple);
        // TLS 1.3: the client's handshake is over before the server checked
        // its certificate; the server's alert arrives at the first read.
        char byte = 0;
        std::tie(clientRead, std::ignore) =
            co_await socket.async_read_some(asio::buffer(&byte, 1), kTuple);
      });
  ASSERT_TRUE(serverHandshake);
  EXPECT_EQ(&serverHandshake.category(), &asio::error::get_ssl_category());
  EXPECT_NE(serverHandshake.message().find("certificate verify failed"), std::string::npos)
      << serverHandshake.message();
  EXPECT_EQ(verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_FALSE(clientHandshake) << clientHandshake.message();
  ASSERT_TRUE(clientRead);
  EXPECT_NE(clientRead.message().find("unknown ca"), std::string::npos) << clientRead.message();
}

TEST_F(TlsSocketTest, PlaintextAndServerWithoutTheClientsCaFailTheHandshake) {
  auto serverTls = serverContext();
  error_code serverHandshake;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        std::tie(serverHandshake) =
            co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        co_await asio::async_write(raw, asio::buffer(request), kTuple);
        std::string answer;
        co_await asio::async_read(raw, asio::dynamic_buffer(answer), kTuple);
      });
  ASSERT_TRUE(serverHandshake);
  EXPECT_EQ(&serverHandshake.category(), &asio::error::get_ssl_category())
      << serverHandshake.message();

  // A client that does not trust the server's CA refuses it.
  TlsClientOptions options{dir_->path() / "stranger.pem", dir_->path() / "agent.pem",
                           dir_->path() / "agent.key", ""};
  auto distrustful = makeClientTlsContext(options);
  ASSERT_TRUE(distrustful.ok());
  error_code clientHandshake;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), (*distrustful)->native_handle());
        std::tie(clientHandshake) =
            co_await socket.async_handshake(TlsSocket::Role::client, kTuple);
      });
  ASSERT_TRUE(clientHandshake);
  EXPECT_NE(clientHandshake.message().find("certificate verify failed"), std::string::npos)
      << clientHandshake.message();
}

TEST_F(TlsSocketTest, CloseAbortsAPendingReadAndLaterOperationsFail) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  error_code pending, later, empty;
  std::size_t emptyBytes = 1;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), serverTls->native_handle());
        co_await socket.async_handshake(TlsSocket::Role::server, kTuple);
        std::tie(empty, emptyBytes) =
            co_await socket.async_read_some(asio::mutable_buffer(), kTuple);
        asio::steady_timer timer(socket.get_executor(), 50ms);
        timer.async_wait([&socket](error_code) { socket.close(); });
        char byte = 0;
        std::tie(pending, std::ignore) =
            co_await socket.async_read_some(asio::buffer(&byte, 1), kTuple);
        std::tie(later, std::ignore) =
            co_await socket.async_write_some(asio::buffer("x", 1), kTuple);
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        TlsSocket socket(std::move(raw), clientTls->native_handle());
        co_await socket.async_handshake(TlsSocket::Role::client, kTuple);
        char byte = 0;
        co_await socket.async_read_some(asio::buffer(&byte, 1), kTuple);
      });
  EXPECT_FALSE(empty);
  EXPECT_EQ(emptyBytes, 0u);
  EXPECT_EQ(pending, asio::error::operation_aborted) << pending.message();
  EXPECT_EQ(later, asio::error::bad_descriptor) << later.message();
}

using WebSocket = websocket::stream<TlsSocket>;

TEST_F(TlsSocketTest, CarriesBeastWebsocketsThroughCloseAndTeardown) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  const std::string big = pattern(1500000, 4);
  std::string echoedBig;
  error_code serverEnd, clientClose;
  bool serverSocketClosed = false;
  int echoed = 0;
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        WebSocket ws(std::move(raw), serverTls->native_handle());
        auto [handshake] =
            co_await ws.next_layer().async_handshake(TlsSocket::Role::server, kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        auto [accept] = co_await ws.async_accept(kTuple);
        EXPECT_FALSE(accept) << accept.message();
        beast::flat_buffer buffer;
        for (;;) {
          auto [error, got] = co_await ws.async_read(buffer, kTuple);
          if (error) {
            serverEnd = error;
            break;
          }
          ws.binary(ws.got_binary());
          auto [writeError, sent] = co_await ws.async_write(buffer.data(), kTuple);
          EXPECT_FALSE(writeError) << writeError.message();
          buffer.clear();
        }
        serverSocketClosed = !ws.next_layer().socket().is_open();
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        WebSocket ws(std::move(raw), clientTls->native_handle());
        EXPECT_TRUE(prepareClientConnection(ws.next_layer().native_handle(), "127.0.0.1", "").ok());
        co_await ws.next_layer().async_handshake(TlsSocket::Role::client, kTuple);
        auto [handshake] = co_await ws.async_handshake("127.0.0.1", "/", kTuple);
        EXPECT_FALSE(handshake) << handshake.message();
        beast::flat_buffer buffer;
        for (int i = 0; i < 200; ++i) {
          const std::string text = "message " + std::to_string(i);
          co_await ws.async_write(asio::buffer(text), kTuple);
          co_await ws.async_read(buffer, kTuple);
          echoed += beast::buffers_to_string(buffer.data()) == text ? 1 : 0;
          buffer.clear();
        }
        ws.binary(true);
        co_await ws.async_write(asio::buffer(big), kTuple);
        co_await ws.async_read(buffer, kTuple);
        echoedBig = beast::buffers_to_string(buffer.data());
        std::tie(clientClose) = co_await ws.async_close(websocket::close_code::normal, kTuple);
      });
  EXPECT_EQ(echoed, 200);
  EXPECT_TRUE(echoedBig == big) << echoedBig.size() << " bytes came back";
  EXPECT_EQ(serverEnd, websocket::error::closed) << serverEnd.message();
  EXPECT_FALSE(clientClose) << clientClose.message();
  EXPECT_TRUE(serverSocketClosed) << "the server's teardown leaves the TCP socket closed";
}

TEST_F(TlsSocketTest, WebsocketIdleTimeoutClosesTheConnection) {
  auto serverTls = serverContext();
  auto clientTls = clientContext("agent");
  error_code serverRead, clientRead;
  const auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration waited{};
  run(
      [&](tcp::socket raw) -> asio::awaitable<void> {
        WebSocket ws(std::move(raw), serverTls->native_handle());
        co_await ws.next_layer().async_handshake(TlsSocket::Role::server, kTuple);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = 2s;
        timeouts.idle_timeout = 300ms;
        timeouts.keep_alive_pings = false;
        ws.set_option(timeouts);
        co_await ws.async_accept(kTuple);
        beast::flat_buffer buffer;
        std::tie(serverRead, std::ignore) = co_await ws.async_read(buffer, kTuple);
        waited = std::chrono::steady_clock::now() - started;
      },
      [&](tcp::socket raw) -> asio::awaitable<void> {
        WebSocket ws(std::move(raw), clientTls->native_handle());
        co_await ws.next_layer().async_handshake(TlsSocket::Role::client, kTuple);
        co_await ws.async_handshake("127.0.0.1", "/", kTuple);
        beast::flat_buffer buffer;
        std::tie(clientRead, std::ignore) = co_await ws.async_read(buffer, kTuple);
      });
  EXPECT_EQ(serverRead, beast::error::timeout) << serverRead.message();
  EXPECT_TRUE(clientRead) << "the client sees the connection end";
  EXPECT_LT(waited, 5s);
}

}  // namespace
}  // namespace lifeboat::net
