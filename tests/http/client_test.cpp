// The HTTP client against real servers on 127.0.0.1 (test_server.py).

#include "lifeboat/http/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "lifeboat/test_support/temp_dir.hpp"
#include "test_server.hpp"

namespace lifeboat::http {
namespace {

using fixtures::Certificates;
using fixtures::ClosedPort;
using fixtures::TestServer;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "s3cret-token-value";

// The string at `key`, or "<missing>".
std::string text(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "<missing>";
}

std::string everything(const Error& error) {
  return error.message + "\n" + error.hint;
}

class HttpClientTest : public ::testing::Test {
 protected:
  // Certificates are made once per test program: openssl is slow-ish and
  // nothing writes to them.
  static void SetUpTestSuite() {
    directory_ = new test_support::TempDir();
    certificates_ = new Certificates(fixtures::makeCertificates(directory_->path()));
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete directory_;
  }

  static const Certificates& certificates() { return *certificates_; }

  std::unique_ptr<TestServer> httpsServer(bool requireClientCertificate = false) {
    std::vector<std::string> arguments{"--cert", certificates().serverCertificate.string(), "--key",
                                       certificates().serverKey.string()};
    if (requireClientCertificate) {
      arguments.push_back("--client-ca");
      arguments.push_back(certificates().caCertificate.string());
    }
    return std::make_unique<TestServer>(arguments);
  }

  static Request get(const std::string& url) {
    Request request;
    request.url = url;
    request.timeout = std::chrono::seconds(10);
    return request;
  }

  static boost::json::object echoed(const Response& response) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(response.body, error);
    EXPECT_FALSE(error) << response.body;
    return value.is_object() ? value.as_object() : boost::json::object();
  }

 private:
  static inline test_support::TempDir* directory_ = nullptr;
  static inline Certificates* certificates_ = nullptr;
};

TEST_F(HttpClientTest, GetReturnsStatusAndBody) {
  TestServer server;
  const Outcome outcome = perform(get(server.url("/status/200")));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.failure, Failure::none);
  EXPECT_EQ(outcome.result->status, 200);
  EXPECT_EQ(outcome.result->body, "status 200");
  EXPECT_FALSE(outcome.result->bodyTruncated);
  EXPECT_GE(outcome.result->elapsed.count(), 0);
  EXPECT_EQ(checkResponse(*outcome.result, {200}, ""), "");
}

TEST_F(HttpClientTest, AnErrorStatusIsAResponseThatTheCheckRejects) {
  TestServer server;
  const Outcome outcome = perform(get(server.url("/status/503")));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 503);
  EXPECT_EQ(checkResponse(*outcome.result, {200, 204}, ""), "status 503, expected 200 or 204");
  EXPECT_EQ(checkResponse(*outcome.result, {200, 204, 503}, ""), "");
}

TEST_F(HttpClientTest, ExpectedStatusListAcceptsAnyOfItsMembers) {
  TestServer server;
  const Outcome outcome = perform(get(server.url("/status/204")));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 204);
  EXPECT_EQ(checkResponse(*outcome.result, {200, 204}, ""), "");
  EXPECT_EQ(checkResponse(*outcome.result, {}, ""), "status 204, expected 200");
}

TEST_F(HttpClientTest, RedirectsAreNotFollowed) {
  TestServer server;
  const Outcome outcome = perform(get(server.url("/redirect")));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 302);
  EXPECT_EQ(outcome.result->body, "moved");
}

TEST_F(HttpClientTest, PostSendsBodyAndHeaders) {
  TestServer server;
  Request request = get(server.url("/echo"));
  request.method = "POST";
  request.body = R"({"promote":true})";
  request.headers = {{"Content-Type", "application/json"}, {"X-Run", "run-42"}};
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  const boost::json::object echo = echoed(*outcome.result);
  EXPECT_EQ(text(echo, "method"), "POST");
  EXPECT_EQ(text(echo, "body"), R"({"promote":true})");
  const boost::json::object& headers = echo.at("headers").as_object();
  EXPECT_EQ(text(headers, "x-run"), "run-42");
  EXPECT_EQ(text(headers, "content-type"), "application/json");
  EXPECT_EQ(text(headers, "user-agent"), "lifeboat/1");
  EXPECT_FALSE(headers.contains("expect"));
}

TEST_F(HttpClientTest, PutPatchAndDeleteUseTheirMethod) {
  TestServer server;
  for (const std::string method : {"PUT", "PATCH", "DELETE"}) {
    Request request = get(server.url("/echo"));
    request.method = method;
    request.body = "payload for " + method;
    const Outcome outcome = perform(request);
    ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
    const boost::json::object echo = echoed(*outcome.result);
    EXPECT_EQ(text(echo, "method"), method);
    EXPECT_EQ(text(echo, "body"), "payload for " + method);
    // No Content-Type unless the caller gives one (not libcurl's form guess).
    EXPECT_FALSE(echo.at("headers").as_object().contains("content-type")) << method;
  }
}

TEST_F(HttpClientTest, PutWithoutBodySendsContentLengthZero) {
  TestServer server;
  Request request = get(server.url("/echo"));
  request.method = "PUT";
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  const boost::json::object echo = echoed(*outcome.result);
  EXPECT_EQ(text(echo, "method"), "PUT");
  EXPECT_EQ(text(echo.at("headers").as_object(), "content-length"), "0");
}

TEST_F(HttpClientTest, HeadGetsStatusWithoutBody) {
  TestServer server;
  Request request = get(server.url("/status/200"));
  request.method = "HEAD";
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
  EXPECT_EQ(outcome.result->body, "");
}

TEST_F(HttpClientTest, ExpectBodyMatchAndMismatch) {
  TestServer server;
  const Outcome outcome = perform(get(server.url("/echo")));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(checkResponse(*outcome.result, {200}, R"("method": "GET")"), "");
  EXPECT_EQ(checkResponse(*outcome.result, {200}, R"("status":"ok")"),
            "body does not contain the expected text");
}

TEST_F(HttpClientTest, BodyIsCappedAndTheRestDropped) {
  TestServer server;
  Request request = get(server.url("/big?bytes=3000000"));
  request.maxBodyBytes = 1000;
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
  EXPECT_EQ(outcome.result->body, std::string(1000, 'x'));
  EXPECT_TRUE(outcome.result->bodyTruncated);
  EXPECT_EQ(checkResponse(*outcome.result, {200}, "y"),
            "body does not contain the expected text (only its first 1000 bytes were read)");

  request.url = server.url("/big?bytes=1000");
  const Outcome exact = perform(request);
  ASSERT_TRUE(exact.result.ok()) << exact.result.error().message;
  EXPECT_EQ(exact.result->body.size(), 1000U);
  EXPECT_FALSE(exact.result->bodyTruncated);
}

TEST_F(HttpClientTest, ConnectionRefusedIsAnErrorNamingTheUrl) {
  const ClosedPort closed;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/health";
  const Outcome outcome = perform(get(url));
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(outcome.result.error().message, HasSubstr("GET " + url));
  EXPECT_THAT(outcome.result.error().message, HasSubstr("cannot connect"));
  EXPECT_THAT(outcome.result.error().hint, HasSubstr("listening"));
}

TEST_F(HttpClientTest, TimeoutIsReportedAsTimedOutAndIsPrompt) {
  TestServer server;
  Request request = get(server.url("/slow?ms=5000"));
  request.timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = perform(request);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::timedOut);
  EXPECT_EQ(outcome.result.error().message, "GET " + request.url + " timed out after 300ms");
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(1500));
}

TEST_F(HttpClientTest, CancelIsReportedAsCancelledAndIsPrompt) {
  TestServer server;
  Request request = get(server.url("/slow?ms=5000"));
  const auto start = std::chrono::steady_clock::now();
  request.cancelled = [start] {
    return std::chrono::steady_clock::now() - start >= milliseconds(100);
  };
  const Outcome outcome = perform(request);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::cancelled);
  EXPECT_EQ(outcome.result.error().message, "GET " + request.url + " cancelled");
  EXPECT_GE(took, milliseconds(100));
  EXPECT_LT(took, milliseconds(1000));
}

TEST_F(HttpClientTest, AlreadyCancelledRequestSendsNothing) {
  const ClosedPort closed;  // would be a transport failure if it were tried
  Request request = get("http://127.0.0.1:" + std::to_string(closed.port()) + "/");
  request.cancelled = [] { return true; };
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::cancelled);
}

TEST_F(HttpClientTest, InvalidRequestsAreRefusedBeforeAnyTraffic) {
  Request method = get("http://127.0.0.1:1/");
  method.method = "TRACE";
  Request scheme = get("ftp://127.0.0.1:1/file");
  Request head = get("http://127.0.0.1:1/");
  head.method = "HEAD";
  head.body = "x";
  Request timeout = get("http://127.0.0.1:1/");
  timeout.timeout = milliseconds(0);
  Request headerName = get("http://127.0.0.1:1/");
  headerName.headers = {{"Bad Name", "v"}};
  for (const Request& request : {method, scheme, head, timeout, headerName}) {
    const Outcome outcome = perform(request);
    ASSERT_FALSE(outcome.result.ok()) << request.method << " " << request.url;
    EXPECT_EQ(outcome.failure, Failure::invalidRequest) << outcome.result.error().message;
    EXPECT_THAT(outcome.result.error().message, HasSubstr(request.url));
  }
}

TEST_F(HttpClientTest, SeveralThreadsAtOnce) {
  TestServer server;
  std::vector<std::thread> threads;
  std::vector<int> okCount(6, 0);
  for (std::size_t t = 0; t < okCount.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const Outcome outcome = perform(get(server.url("/status/200")));
        okCount[t] += outcome.result.ok() && outcome.result->status == 200 ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int count : okCount) {
    EXPECT_EQ(count, 5);
  }
}

TEST_F(HttpClientTest, HttpsWithCaFileSucceeds) {
  const auto server = httpsServer();
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().caCertificate.string();
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
}

TEST_F(HttpClientTest, HttpsWithoutCaFileFailsVerificationClearly) {
  const auto server = httpsServer();
  const Outcome outcome = perform(get(server->url("/status/200")));
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  const Error& error = outcome.result.error();
  EXPECT_THAT(error.message, HasSubstr("GET " + server->url("/status/200")));
  EXPECT_THAT(error.message, HasSubstr("TLS: the server's certificate was not accepted"));
  EXPECT_THAT(error.message, HasSubstr("certificate"));
  EXPECT_THAT(error.hint, HasSubstr("ca_file"));
}

TEST_F(HttpClientTest, HttpsWithAnotherCaFileFailsVerification) {
  const auto server = httpsServer();
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().otherCaCertificate.string();
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_THAT(outcome.result.error().message, HasSubstr("not accepted"));
  EXPECT_THAT(outcome.result.error().hint, HasSubstr(request.caFile));
}

TEST_F(HttpClientTest, UnreadableCaFileIsNamed) {
  const auto server = httpsServer();
  Request request = get(server->url("/status/200"));
  request.caFile = "/nonexistent/ca.pem";
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(everything(outcome.result.error()), HasSubstr("/nonexistent/ca.pem"));
}

TEST_F(HttpClientTest, InsecureSkipVerifyAcceptsAnUntrustedServer) {
  const auto server = httpsServer();
  Request request = get(server->url("/status/200"));
  request.insecureSkipVerify = true;
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
}

TEST_F(HttpClientTest, HttpsToAPlainHttpPortFailsAsTls) {
  TestServer server;
  Request request = get("https://127.0.0.1:" + std::to_string(server.port()) + "/status/200");
  request.caFile = certificates().caCertificate.string();
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(outcome.result.error().message, HasSubstr("TLS"));
}

TEST_F(HttpClientTest, MutualTlsWithClientCertificateSucceeds) {
  const auto server = httpsServer(/*requireClientCertificate=*/true);
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().caCertificate.string();
  request.clientCertificate = certificates().clientCertificate.string();
  request.clientKey = certificates().clientKey.string();
  const Outcome outcome = perform(request);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 200);
}

TEST_F(HttpClientTest, MutualTlsWithoutClientCertificateFails) {
  const auto server = httpsServer(/*requireClientCertificate=*/true);
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().caCertificate.string();
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(outcome.result.error().message, HasSubstr("client certificate"));
  EXPECT_THAT(outcome.result.error().hint, HasSubstr("client_cert"));
}

TEST_F(HttpClientTest, MutualTlsWithUntrustedClientCertificateFails) {
  const auto server = httpsServer(/*requireClientCertificate=*/true);
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().caCertificate.string();
  request.clientCertificate = certificates().otherClientCertificate.string();
  request.clientKey = certificates().otherClientKey.string();
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(outcome.result.error().message, HasSubstr("client certificate"));
}

TEST_F(HttpClientTest, MismatchedClientKeyIsNamed) {
  const auto server = httpsServer(/*requireClientCertificate=*/true);
  Request request = get(server->url("/status/200"));
  request.caFile = certificates().caCertificate.string();
  request.clientCertificate = certificates().clientCertificate.string();
  request.clientKey = certificates().otherClientKey.string();
  const Outcome outcome = perform(request);
  ASSERT_FALSE(outcome.result.ok());
  EXPECT_EQ(outcome.failure, Failure::transport);
  EXPECT_THAT(outcome.result.error().hint, HasSubstr("client_key"));
}

// Header values and bodies may hold credentials: no failure may quote them.
TEST_F(HttpClientTest, SecretsNeverAppearInErrors) {
  const auto tlsServer = httpsServer();
  const auto mutualServer = httpsServer(/*requireClientCertificate=*/true);
  TestServer slowServer;
  const ClosedPort closed;

  auto withSecrets = [](const std::string& url) {
    Request request = get(url);
    request.method = "POST";
    request.headers = {{"Authorization", std::string("Bearer ") + kSecret}, {"X-Api-Key", kSecret}};
    request.body = std::string("password=") + kSecret;
    return request;
  };
  std::vector<Request> requests;
  requests.push_back(withSecrets("http://127.0.0.1:" + std::to_string(closed.port()) + "/"));
  requests.push_back(withSecrets(tlsServer->url("/echo")));  // untrusted certificate
  Request mutual = withSecrets(mutualServer->url("/echo"));
  mutual.caFile = certificates().caCertificate.string();
  requests.push_back(mutual);  // no client certificate
  Request slow = withSecrets(slowServer.url("/slow?ms=3000"));
  slow.timeout = milliseconds(200);
  requests.push_back(slow);
  Request cancelled = withSecrets(slowServer.url("/slow?ms=3000"));
  cancelled.cancelled = [start = std::chrono::steady_clock::now()] {
    return std::chrono::steady_clock::now() - start > milliseconds(100);
  };
  requests.push_back(cancelled);
  Request broken = withSecrets(slowServer.url("/echo"));
  broken.headers.emplace_back("X-Bad", std::string(kSecret) + "\r\nInjected: yes");
  requests.push_back(broken);
  Request head = withSecrets(slowServer.url("/echo"));
  head.method = "HEAD";
  requests.push_back(head);

  for (const Request& request : requests) {
    const Outcome outcome = perform(request);
    ASSERT_FALSE(outcome.result.ok()) << request.url;
    EXPECT_THAT(everything(outcome.result.error()), Not(HasSubstr(kSecret)));
  }
}

}  // namespace
}  // namespace lifeboat::http
