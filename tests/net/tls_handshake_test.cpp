// Real TLS on 127.0.0.1: a server with makeServerTlsContext (client
// certificates required) and clients with makeClientTlsContext +
// prepareClientConnection, over boost::asio::ssl::stream. Each exchange is
// one connection: the client sends "ping\n", the server answers
// "hello NAME\n" with the verified common name. Certificates are made per
// test suite with the certificate API.
//
// With TLS 1.3 the client's handshake completes before the server has
// checked the client's certificate: a refused client notices only at its
// first read (TOOLCHAIN.md). So refusals are asserted on the server's
// handshake and on the client's read.

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include "lifeboat/net/certificates.hpp"
#include "lifeboat/net/tls.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "x509_inspect.hpp"

namespace lifeboat::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct ServerOutcome {
  bool accepted = false;
  error_code handshake;
  long verifyResult = X509_V_OK;  // SSL_get_verify_result after the handshake
  std::string peer;
  std::string received;
  bool served = false;  // the answer was written
  bool finished = false;
};

struct ClientOutcome {
  error_code connect;
  error_code handshake;
  long verifyResult = X509_V_OK;
  error_code write;
  error_code read;
  std::string reply;
  bool finished = false;
};

using SslStream = asio::ssl::stream<tcp::socket>;

asio::awaitable<void> serveOne(tcp::acceptor& acceptor, asio::ssl::context& context,
                               ServerOutcome& outcome) {
  auto [acceptError, socket] = co_await acceptor.async_accept(kTuple);
  if (acceptError) {
    outcome.finished = true;
    co_return;
  }
  outcome.accepted = true;
  SslStream stream(std::move(socket), context);
  std::tie(outcome.handshake) = co_await stream.async_handshake(SslStream::server, kTuple);
  outcome.verifyResult = SSL_get_verify_result(stream.native_handle());
  if (!outcome.handshake) {
    outcome.peer = verifiedPeerCommonName(stream.native_handle());
    std::string line;
    auto [readError, length] =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(line), '\n', kTuple);
    if (!readError) {
      outcome.received = line.substr(0, length);
      const std::string answer = "hello " + outcome.peer + "\n";
      auto [writeError, written] = co_await asio::async_write(stream, asio::buffer(answer), kTuple);
      outcome.served = !writeError && written == answer.size();
      co_await stream.async_shutdown(kTuple);
    }
  }
  outcome.finished = true;
}

struct ClientSetup {
  asio::ssl::context* context = nullptr;
  std::string host = "127.0.0.1";  // what the client verifies the server as
  std::string pin;
};

asio::awaitable<void> connectOnce(tcp::endpoint server, ClientSetup setup, ClientOutcome& outcome) {
  auto executor = co_await asio::this_coro::executor;
  SslStream stream(executor, *setup.context);
  std::tie(outcome.connect) = co_await stream.next_layer().async_connect(server, kTuple);
  if (outcome.connect) {
    outcome.finished = true;
    co_return;
  }
  Result<bool> prepared = prepareClientConnection(stream.native_handle(), setup.host, setup.pin);
  EXPECT_TRUE(prepared.ok()) << (prepared.ok() ? "" : prepared.error().message);
  std::tie(outcome.handshake) = co_await stream.async_handshake(SslStream::client, kTuple);
  outcome.verifyResult = SSL_get_verify_result(stream.native_handle());
  if (!outcome.handshake) {
    const std::string ping = "ping\n";
    std::tie(outcome.write, std::ignore) =
        co_await asio::async_write(stream, asio::buffer(ping), kTuple);
    std::string line;
    auto [readError, length] =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(line), '\n', kTuple);
    outcome.read = readError;
    if (!readError) {
      outcome.reply = line.substr(0, length);
    }
  }
  outcome.finished = true;
}

// Plain TCP: an HTTP request where a TLS ClientHello belongs.
asio::awaitable<void> sendPlaintext(tcp::endpoint server, ClientOutcome& outcome) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  std::tie(outcome.connect) = co_await socket.async_connect(server, kTuple);
  if (!outcome.connect) {
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nping\n";
    std::tie(outcome.write, std::ignore) =
        co_await asio::async_write(socket, asio::buffer(request), kTuple);
    // Everything the server sends until it closes.
    std::string answer;
    std::tie(outcome.read, std::ignore) =
        co_await asio::async_read(socket, asio::dynamic_buffer(answer), kTuple);
    outcome.reply = answer;
  }
  outcome.finished = true;
}

struct Exchange {
  ServerOutcome server;
  ClientOutcome client;
};

// One server connection and one client, both on this thread, bounded in time.
Exchange exchange(
    asio::ssl::context& serverContext,
    const std::function<asio::awaitable<void>(tcp::endpoint, ClientOutcome&)>& client) {
  Exchange result;
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const tcp::endpoint endpoint = acceptor.local_endpoint();
  asio::co_spawn(io, serveOne(acceptor, serverContext, result.server), asio::detached);
  asio::co_spawn(io, client(endpoint, result.client), asio::detached);
  io.run_for(10s);
  EXPECT_TRUE(result.server.finished) << "the server did not finish within 10 s";
  EXPECT_TRUE(result.client.finished) << "the client did not finish within 10 s";
  return result;
}

Exchange tlsExchange(asio::ssl::context& serverContext, const ClientSetup& setup) {
  return exchange(serverContext, [&](tcp::endpoint endpoint, ClientOutcome& outcome) {
    return connectOnce(endpoint, setup, outcome);
  });
}

// The files every test reads, made once: a CA, the coordinator's server
// certificate (localhost, 127.0.0.1), agents' client certificates (good,
// expired, from another CA, a server certificate used as a client's), and a
// server certificate that names another host.
class TlsHandshake : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_support::TempDir();
    Result<PemPair> ca = makeCertificateAuthority("Lifeboat test CA");
    Result<PemPair> otherCa = makeCertificateAuthority("Someone else's CA");
    ASSERT_TRUE(ca.ok() && otherCa.ok());
    write("ca", *ca);
    const auto now = std::chrono::system_clock::now();

    CertificateRequest server{"coordinator", {"localhost", "127.0.0.1"}, true, {}, {}};
    issueInto("server", *ca, server);
    CertificateRequest elsewhere{
        "coordinator", {"elsewhere.example.org", "127.0.0.2"}, true, {}, {}};
    issueInto("server-elsewhere", *ca, elsewhere);
    issueInto("agent", *ca, CertificateRequest{"db-eu-1", {}, false, {}, {}});
    issueInto("agent-expired", *ca, CertificateRequest{"db-eu-1", {}, false, now - 48h, now - 24h});
    issueInto("agent-other-ca", *otherCa, CertificateRequest{"db-eu-1", {}, false, {}, {}});
    issueInto("agent-server-usage", *ca,
              CertificateRequest{"db-eu-1", {"localhost"}, true, {}, {}});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::filesystem::path certificate(const std::string& name) {
    return dir_->path() / (name + ".pem");
  }
  static std::filesystem::path key(const std::string& name) {
    return dir_->path() / (name + "-key.pem");
  }

  static std::unique_ptr<asio::ssl::context> serverContext(const std::string& name = "server") {
    auto context = makeServerTlsContext(
        TlsServerOptions{certificate(name), key(name), certificate("ca"), true});
    EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error().message);
    return context.ok() ? std::move(*context) : nullptr;
  }

  // `name` "" = no client certificate.
  static std::unique_ptr<asio::ssl::context> clientContext(const std::string& name = "agent",
                                                           const std::string& pin = "") {
    TlsClientOptions options{certificate("ca"), {}, {}, pin};
    if (!name.empty()) {
      options.certificate = certificate(name);
      options.privateKey = key(name);
    }
    auto context = makeClientTlsContext(options);
    EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error().message);
    return context.ok() ? std::move(*context) : nullptr;
  }

  static std::string serverPin(const std::string& name = "server") {
    std::ifstream file(certificate(name));
    std::string pem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto parsed = testing::parseCertificate(pem);
    return parsed ? certificateSha256(parsed.get()) : "";
  }

  static void expectServed(const Exchange& result) {
    EXPECT_FALSE(result.server.handshake) << result.server.handshake.message();
    EXPECT_FALSE(result.client.handshake) << result.client.handshake.message();
    EXPECT_FALSE(result.client.read) << result.client.read.message();
    EXPECT_EQ(result.server.peer, "db-eu-1");
    EXPECT_EQ(result.server.received, "ping\n");
    EXPECT_TRUE(result.server.served);
    EXPECT_EQ(result.client.reply, "hello db-eu-1\n");
  }

  // The server refused the client: its handshake failed for `reason`
  // (OpenSSL's words) with the certificate check ending in `verifyResult`;
  // nothing was read or served, and the client got no answer (at its
  // handshake or, with TLS 1.3, at its first read).
  static void expectClientRefused(const Exchange& result, const std::string& reason,
                                  long verifyResult) {
    EXPECT_TRUE(result.server.accepted);
    EXPECT_TRUE(result.server.handshake) << "the server accepted the client's handshake";
    EXPECT_NE(result.server.handshake.message().find(reason), std::string::npos)
        << result.server.handshake.message();
    EXPECT_EQ(result.server.verifyResult, verifyResult)
        << X509_verify_cert_error_string(result.server.verifyResult);
    EXPECT_EQ(result.server.received, "");
    EXPECT_FALSE(result.server.served);
    EXPECT_TRUE(result.client.handshake || result.client.read)
        << "the client's handshake and first read succeeded";
    EXPECT_EQ(result.client.reply, "");
  }

  // The client refused the server: its handshake failed, the server's
  // certificate check ending in `verifyResult`.
  static void expectServerRefused(const Exchange& result, long verifyResult) {
    EXPECT_TRUE(result.client.handshake) << "the client accepted the server";
    EXPECT_EQ(result.client.verifyResult, verifyResult)
        << X509_verify_cert_error_string(result.client.verifyResult);
    EXPECT_EQ(result.client.reply, "");
    EXPECT_FALSE(result.server.served);
    EXPECT_EQ(result.server.received, "");
  }

 private:
  static void write(const std::string& name, const PemPair& pem) {
    Result<bool> written = writePemPair(pem, certificate(name), key(name));
    ASSERT_TRUE(written.ok()) << written.error().message;
  }
  static void issueInto(const std::string& name, const PemPair& ca,
                        const CertificateRequest& request) {
    Result<PemPair> issued = issueCertificate(ca, request);
    ASSERT_TRUE(issued.ok()) << issued.error().message;
    write(name, *issued);
  }

  static test_support::TempDir* dir_;
};

test_support::TempDir* TlsHandshake::dir_ = nullptr;

TEST_F(TlsHandshake, GoodClientCertificateIsServedUnderItsName) {
  auto server = serverContext();
  auto client = clientContext();
  ASSERT_TRUE(server && client);
  expectServed(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""}));
  // By name too: SNI and host name verification against the SAN.
  expectServed(tlsExchange(*server, ClientSetup{client.get(), "localhost", ""}));
}

TEST_F(TlsHandshake, ClientCertificateFromAnotherCaIsRefused) {
  auto server = serverContext();
  auto client = clientContext("agent-other-ca");
  ASSERT_TRUE(server && client);
  const Exchange result = tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""});
  expectClientRefused(result, "certificate verify failed",
                      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(result.server.peer, "");
}

TEST_F(TlsHandshake, ExpiredClientCertificateIsRefused) {
  auto server = serverContext();
  auto client = clientContext("agent-expired");
  ASSERT_TRUE(server && client);
  expectClientRefused(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""}),
                      "certificate verify failed", X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TlsHandshake, ClientWithoutCertificateIsRefused) {
  auto server = serverContext();
  auto client = clientContext("");
  ASSERT_TRUE(server && client);
  expectClientRefused(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""}),
                      "peer did not return a certificate", X509_V_OK);
}

TEST_F(TlsHandshake, ServerCertificateUsedAsAClientCertificateIsRefused) {
  // Same CA, same common name, but extendedKeyUsage serverAuth only.
  auto server = serverContext();
  auto client = clientContext("agent-server-usage");
  ASSERT_TRUE(server && client);
  expectClientRefused(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""}),
                      "certificate verify failed", X509_V_ERR_INVALID_PURPOSE);
}

TEST_F(TlsHandshake, ClientOfferingOnlyTls12IsRefused) {
  auto server = serverContext();
  auto client = clientContext();
  ASSERT_TRUE(server && client);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(client->native_handle(), TLS1_2_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client->native_handle(), TLS1_2_VERSION), 1);
  const Exchange result = tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""});
  expectClientRefused(result, "unsupported protocol", X509_V_OK);
  // No TLS 1.2 session came about at all: the client's handshake failed too.
  EXPECT_TRUE(result.client.handshake);
}

TEST_F(TlsHandshake, PlaintextHttpIsNotServed) {
  auto server = serverContext();
  ASSERT_TRUE(server);
  const Exchange result = exchange(*server, [](tcp::endpoint endpoint, ClientOutcome& outcome) {
    return sendPlaintext(endpoint, outcome);
  });
  EXPECT_FALSE(result.client.connect) << result.client.connect.message();
  EXPECT_TRUE(result.server.handshake) << "the server took plain HTTP for a TLS handshake";
  EXPECT_NE(result.server.handshake.message().find("http request"), std::string::npos)
      << result.server.handshake.message();
  EXPECT_EQ(result.server.received, "");
  EXPECT_FALSE(result.server.served);
  // The connection was closed without an HTTP answer or a greeting.
  EXPECT_TRUE(result.client.read);
  EXPECT_EQ(result.client.reply.find("HTTP/"), std::string::npos) << result.client.reply;
  EXPECT_EQ(result.client.reply.find("hello"), std::string::npos) << result.client.reply;
}

TEST_F(TlsHandshake, ServerCertificateForAnotherHostIsRefusedByTheClient) {
  auto server = serverContext("server-elsewhere");
  auto client = clientContext();
  ASSERT_TRUE(server && client);
  expectServerRefused(tlsExchange(*server, ClientSetup{client.get(), "localhost", ""}),
                      X509_V_ERR_HOSTNAME_MISMATCH);
  expectServerRefused(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", ""}),
                      X509_V_ERR_IP_ADDRESS_MISMATCH);
  // The name it does carry is accepted (the connection still goes to
  // 127.0.0.1: only the verification differs).
  expectServed(tlsExchange(*server, ClientSetup{client.get(), "elsewhere.example.org", ""}));
}

TEST_F(TlsHandshake, RightPinIsAcceptedWrongPinRefused) {
  auto server = serverContext();
  auto client = clientContext();
  ASSERT_TRUE(server && client);
  const std::string pin = serverPin();
  ASSERT_EQ(pin.size(), 64u);
  expectServed(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", pin}));

  // The same pin written as openssl prints it: upper case with colons.
  std::string printed;
  for (std::size_t i = 0; i < pin.size(); i += 2) {
    printed += (i == 0 ? "" : ":") + pin.substr(i, 2);
  }
  std::transform(printed.begin(), printed.end(), printed.begin(), ::toupper);
  expectServed(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", printed}));

  // A certificate from the same CA, for the same host, but not the pinned one.
  const std::string otherPin = serverPin("server-elsewhere");
  ASSERT_EQ(otherPin.size(), 64u);
  ASSERT_NE(otherPin, pin);
  expectServerRefused(tlsExchange(*server, ClientSetup{client.get(), "127.0.0.1", otherPin}),
                      X509_V_ERR_CERT_REJECTED);
}

TEST_F(TlsHandshake, PinInTheClientOptionsIsEnforced) {
  // TlsClientOptions::pinSha256 holds for every connection of the context
  // that does not bring its own pin.
  auto server = serverContext();
  auto pinned = clientContext("agent", serverPin());
  auto wronglyPinned = clientContext("agent", serverPin("server-elsewhere"));
  ASSERT_TRUE(server && pinned && wronglyPinned);
  expectServed(tlsExchange(*server, ClientSetup{pinned.get(), "127.0.0.1", ""}));
  expectServerRefused(tlsExchange(*server, ClientSetup{wronglyPinned.get(), "127.0.0.1", ""}),
                      X509_V_ERR_CERT_REJECTED);
  // A connection's own pin takes the place of the context's.
  expectServed(tlsExchange(*server, ClientSetup{wronglyPinned.get(), "127.0.0.1", serverPin()}));
}

TEST_F(TlsHandshake, MalformedPinsAreRefusedBeforeConnecting) {
  auto refused = makeClientTlsContext(
      TlsClientOptions{certificate("ca"), certificate("agent"), key("agent"), "abcd"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("pin"), std::string::npos);
  auto client = clientContext();
  ASSERT_TRUE(client);
  SSL* ssl = SSL_new(client->native_handle());
  ASSERT_NE(ssl, nullptr);
  Result<bool> prepared = prepareClientConnection(ssl, "127.0.0.1", "xyz");
  EXPECT_FALSE(prepared.ok());
  // Setting a pin twice replaces the first (and frees it: see ASan runs).
  EXPECT_TRUE(prepareClientConnection(ssl, "127.0.0.1", serverPin()).ok());
  EXPECT_TRUE(prepareClientConnection(ssl, "127.0.0.1", serverPin("server-elsewhere")).ok());
  SSL_free(ssl);
}

}  // namespace
}  // namespace lifeboat::net
