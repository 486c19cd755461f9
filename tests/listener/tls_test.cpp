// The listener over TLS: HTTPS verified against our CA, mutual TLS (the
// client's common name reaches the handler; a client without a certificate
// or with another CA's gets no handler call), TLS 1.3 only, a handshake
// deadline, and Errors that name the file at fault.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "lifeboat/http/client.hpp"
#include "lifeboat/listener/server.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "raw_client.hpp"
#include "recorder.hpp"
#include "test_server.hpp"

namespace lifeboat::listener {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using http::fixtures::Certificates;
using testing::loopback;
using testing::RawClient;
using testing::Recorder;
using testing::startOrFail;

class ListenerTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new test_support::TempDir();
    certificates_ = new Certificates(http::fixtures::makeCertificates(directory_->path()));
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete directory_;
  }
  static const Certificates& certificates() { return *certificates_; }

  static Endpoint tlsEndpoint(bool clientCa = false, bool require = false) {
    Endpoint endpoint = loopback();
    TlsOptions tls;
    tls.certificate = certificates().serverCertificate;
    tls.privateKey = certificates().serverKey;
    if (clientCa) {
      tls.clientCa = certificates().caCertificate;
    }
    tls.requireClientCertificate = require;
    endpoint.tls = tls;
    return endpoint;
  }

  enum class ClientCertificate { none, ours, otherCa };

  static http::Outcome get(const Server& server, ClientCertificate certificate,
                           bool trustOurCa = true) {
    http::Request request;
    request.url = "https://127.0.0.1:" + std::to_string(server.port(0)) + "/status";
    request.timeout = 10s;
    if (trustOurCa) {
      request.caFile = certificates().caCertificate.string();
    }
    if (certificate == ClientCertificate::ours) {
      request.clientCertificate = certificates().clientCertificate.string();
      request.clientKey = certificates().clientKey.string();
    } else if (certificate == ClientCertificate::otherCa) {
      request.clientCertificate = certificates().otherClientCertificate.string();
      request.clientKey = certificates().otherClientKey.string();
    }
    return http::perform(request);
  }

  static Error startError(const TlsOptions& tls) {
    Endpoint endpoint = loopback();
    endpoint.tls = tls;
    Recorder recorder;
    auto started = Server::start({endpoint}, recorder.handler());
    if (started.ok()) {
      ADD_FAILURE() << "the server started";
      return {};
    }
    EXPECT_FALSE(started.error().hint.empty());
    return started.error();
  }

  TlsOptions goodFiles() const {
    TlsOptions tls;
    tls.certificate = certificates().serverCertificate;
    tls.privateKey = certificates().serverKey;
    return tls;
  }

  test_support::TempDir dir_;

 private:
  static test_support::TempDir* directory_;
  static Certificates* certificates_;
};

test_support::TempDir* ListenerTls::directory_ = nullptr;
Certificates* ListenerTls::certificates_ = nullptr;

TEST_F(ListenerTls, HttpsRoundTripVerifiedAgainstOurCa) {
  Response answer;
  answer.body = "secure";
  Recorder recorder(answer);
  auto server = startOrFail({tlsEndpoint()}, recorder.handler());
  ASSERT_NE(server, nullptr);

  const http::Outcome outcome = get(*server, ClientCertificate::none);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
  EXPECT_EQ(outcome.result->body, "secure");
  ASSERT_EQ(recorder.count(), 1U);
  EXPECT_EQ(recorder.last().target, "/status");
  EXPECT_EQ(recorder.last().clientCommonName, "");

  // Without our CA the client cannot verify the server: the check is real.
  const http::Outcome untrusted = get(*server, ClientCertificate::none, /*trustOurCa=*/false);
  EXPECT_FALSE(untrusted.result.ok());
  EXPECT_EQ(untrusted.failure, http::Failure::transport);
  EXPECT_EQ(recorder.count(), 1U);
}

TEST_F(ListenerTls, PlainHttpOnTheTlsPortGetsNoHandlerCall) {
  Recorder recorder;
  auto server = startOrFail({tlsEndpoint()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(client.closedWithin(5s));
  EXPECT_EQ(recorder.count(), 0U);
}

TEST_F(ListenerTls, MutualTlsPassesTheClientsCommonName) {
  Recorder recorder;
  auto server = startOrFail({tlsEndpoint(true, true)}, recorder.handler());
  ASSERT_NE(server, nullptr);
  const http::Outcome outcome = get(*server, ClientCertificate::ours);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
  ASSERT_EQ(recorder.count(), 1U);
  EXPECT_EQ(recorder.last().clientCommonName, "lifeboat-agent");
}

TEST_F(ListenerTls, MutualTlsRefusesClientsWithoutOurCertificate) {
  Recorder recorder;
  auto server = startOrFail({tlsEndpoint(true, true)}, recorder.handler());
  ASSERT_NE(server, nullptr);
  for (const ClientCertificate certificate :
       {ClientCertificate::none, ClientCertificate::otherCa}) {
    const http::Outcome outcome = get(*server, certificate);
    // With TLS 1.3 the client's handshake completes; the refusal shows at
    // its first read. Either way: no response, so certainly no 2xx.
    EXPECT_FALSE(outcome.result.ok()) << "status " << outcome.result->status;
    EXPECT_EQ(outcome.failure, http::Failure::transport);
  }
  EXPECT_EQ(recorder.count(), 0U);
  // The server is still fine for a good client.
  EXPECT_TRUE(get(*server, ClientCertificate::ours).result.ok());
}

TEST_F(ListenerTls, OptionalClientCertificateIsCheckedWhenSent) {
  Recorder recorder;
  auto server = startOrFail({tlsEndpoint(true, false)}, recorder.handler());
  ASSERT_NE(server, nullptr);

  const http::Outcome anonymous = get(*server, ClientCertificate::none);
  ASSERT_TRUE(anonymous.result.ok()) << anonymous.result.error().message;
  ASSERT_EQ(recorder.count(), 1U);
  EXPECT_EQ(recorder.last().clientCommonName, "");

  const http::Outcome known = get(*server, ClientCertificate::ours);
  ASSERT_TRUE(known.result.ok()) << known.result.error().message;
  ASSERT_EQ(recorder.count(), 2U);
  EXPECT_EQ(recorder.last().clientCommonName, "lifeboat-agent");

  const http::Outcome stranger = get(*server, ClientCertificate::otherCa);
  EXPECT_FALSE(stranger.result.ok());
  EXPECT_EQ(recorder.count(), 2U);
}

TEST_F(ListenerTls, OnlyTls13IsSpoken) {
  Response answer;
  answer.body = "hello over 1.3";
  Recorder recorder(answer);
  auto server = startOrFail({tlsEndpoint()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(server->port(0));
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  auto sClient = [&](const std::string& version) {
    return test_support::runProcess(
        {"openssl", "s_client", "-connect", address, version, "-CAfile",
         certificates().caCertificate.string(), "-verify_return_error", "-ign_eof"},
        request);
  };

  const test_support::ProcessResult tls13 = sClient("-tls1_3");
  EXPECT_EQ(tls13.exitCode, 0) << tls13.err;
  EXPECT_NE(tls13.out.find("HTTP/1.1 200"), std::string::npos) << tls13.out;
  EXPECT_NE(tls13.out.find("hello over 1.3"), std::string::npos);
  EXPECT_EQ(recorder.count(), 1U);

  const test_support::ProcessResult tls12 = sClient("-tls1_2");
  EXPECT_NE(tls12.exitCode, 0) << tls12.out;
  EXPECT_EQ(tls12.out.find("HTTP/1.1"), std::string::npos) << tls12.out;
  EXPECT_EQ(recorder.count(), 1U);
}

TEST_F(ListenerTls, SilentClientIsClosedAfterTheHandshakeDeadline) {
  Recorder recorder;
  ServerOptions options;
  options.readTimeout = 200ms;
  auto server = startOrFail({tlsEndpoint(true, true)}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  RawClient silent = RawClient::toPort(server->port(0));
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.closedWithin(5s));
}

TEST_F(ListenerTls, StopWithATlsClientConnectedReturnsPromptly) {
  Recorder recorder;
  ServerOptions options;
  options.readTimeout = 60s;
  auto server = startOrFail({tlsEndpoint()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  RawClient inHandshake = RawClient::toPort(server->port(0));
  ASSERT_TRUE(get(*server, ClientCertificate::none).result.ok());
  const auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(inHandshake.closedWithin(5s));
}

TEST_F(ListenerTls, MissingOrBadCertificateFileIsNamed) {
  TlsOptions tls = goodFiles();
  tls.certificate = dir_.path() / "missing.pem";
  const Error missing = startError(tls);
  EXPECT_NE(missing.message.find(tls.certificate.string()), std::string::npos) << missing.message;

  tls.certificate = certificates().serverKey;  // a key where the certificate belongs
  const Error notCertificate = startError(tls);
  EXPECT_NE(notCertificate.message.find(tls.certificate.string()), std::string::npos)
      << notCertificate.message;
}

TEST_F(ListenerTls, BadKeyFileIsNamed) {
  TlsOptions tls = goodFiles();
  tls.privateKey = dir_.write("bad.key", "-----BEGIN PRIVATE KEY-----\nnot base64\n");
  const Error error = startError(tls);
  EXPECT_NE(error.message.find(tls.privateKey.string()), std::string::npos) << error.message;

  tls.privateKey = dir_.path() / "missing.key";
  const Error missing = startError(tls);
  EXPECT_NE(missing.message.find(tls.privateKey.string()), std::string::npos) << missing.message;
}

TEST_F(ListenerTls, KeyOfAnotherCertificateIsRefused) {
  TlsOptions tls = goodFiles();
  tls.privateKey = certificates().clientKey;
  const Error error = startError(tls);
  EXPECT_NE(error.message.find(tls.privateKey.string()), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(tls.certificate.string()), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("does not belong"), std::string::npos) << error.message;
}

TEST_F(ListenerTls, EncryptedKeyIsRefusedWithoutPrompting) {
  const fs::path encrypted = dir_.path() / "encrypted.key";
  const test_support::ProcessResult made =
      test_support::runProcess({"openssl", "pkey", "-in", certificates().serverKey.string(),
                                "-aes256", "-passout", "pass:secret", "-out", encrypted.string()});
  ASSERT_EQ(made.exitCode, 0) << made.err;
  TlsOptions tls = goodFiles();
  tls.privateKey = encrypted;
  const Error error = startError(tls);
  EXPECT_NE(error.message.find(encrypted.string()), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("passphrase"), std::string::npos) << error.message;
}

TEST_F(ListenerTls, UnreadableClientCaIsNamed) {
  TlsOptions tls = goodFiles();
  tls.clientCa = dir_.path() / "missing-ca.pem";
  const Error missing = startError(tls);
  EXPECT_NE(missing.message.find(tls.clientCa.string()), std::string::npos) << missing.message;

  tls.clientCa = dir_.write("garbage-ca.pem", "this is no certificate\n");
  const Error garbage = startError(tls);
  EXPECT_NE(garbage.message.find(tls.clientCa.string()), std::string::npos) << garbage.message;
}

TEST_F(ListenerTls, RequiringClientCertificatesNeedsACa) {
  TlsOptions tls = goodFiles();
  tls.requireClientCertificate = true;
  const Error error = startError(tls);
  EXPECT_NE(error.message.find("client CA"), std::string::npos) << error.message;
}

}  // namespace
}  // namespace lifeboat::listener
