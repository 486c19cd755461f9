// The listener over plain HTTP on 127.0.0.1: what reaches the handler, what
// goes back, and the limits (body size, malformed requests, timeouts,
// connection count, stop()).

#include "lifeboat/listener/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>

#include "lifeboat/http/client.hpp"
#include "raw_client.hpp"
#include "recorder.hpp"

namespace lifeboat::listener {
namespace {

using namespace std::chrono_literals;
using testing::bodyOf;
using testing::headerOf;
using testing::loopback;
using testing::RawClient;
using testing::Recorder;
using testing::startOrFail;
using testing::statusOf;

std::string url(const Server& server, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(server.port(0)) + path;
}

http::Request clientRequest(const std::string& method, const std::string& target) {
  http::Request request;
  request.method = method;
  request.url = target;
  request.timeout = 10s;
  return request;
}

TEST(ListenerServer, RoundTripCarriesRequestAndResponse) {
  Response answer;
  answer.status = 201;
  answer.contentType = "text/plain";
  answer.body = "created";
  answer.headers = {{"X-Reply", "yes"}};
  Recorder recorder(answer);
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(0), 0);

  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.send("POST /alerts?x=1&y=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Custom-Thing: Value 1\r\n"
                  "Content-Length: 5\r\n\r\nhello"));
  const std::string response = client.readResponse();

  EXPECT_EQ(statusOf(response), 201) << response;
  EXPECT_EQ(headerOf(response, "content-length"), "7");
  EXPECT_EQ(headerOf(response, "content-type"), "text/plain");
  EXPECT_EQ(headerOf(response, "x-reply"), "yes");
  EXPECT_EQ(bodyOf(response), "created");

  ASSERT_EQ(recorder.count(), 1U);
  const Request seen = recorder.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/alerts?x=1&y=2");
  EXPECT_EQ(seen.header("x-custom-thing"), "Value 1");
  EXPECT_EQ(seen.header("host"), "127.0.0.1");
  EXPECT_EQ(seen.header("x-absent"), "");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.peer.rfind("127.0.0.1:", 0), 0U) << seen.peer;
  EXPECT_NE(seen.peer, "127.0.0.1:" + std::to_string(server->port(0)));
  EXPECT_EQ(seen.clientCommonName, "");
}

TEST(ListenerServer, AnswersTheAgentsHttpClient) {
  Response answer;
  answer.status = 202;
  answer.body = R"({"queued":true})";
  Recorder recorder(answer);
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);

  http::Request request = clientRequest("PUT", url(*server, "/v1/trigger"));
  request.headers = {{"Content-Type", "application/json"}};
  request.body = R"({"service":"orders"})";
  const http::Outcome outcome = http::perform(request);

  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  EXPECT_EQ(outcome.result->status, 202);
  EXPECT_EQ(outcome.result->body, R"({"queued":true})");
  ASSERT_EQ(recorder.count(), 1U);
  EXPECT_EQ(recorder.last().method, "PUT");
  EXPECT_EQ(recorder.last().header("content-type"), "application/json");
  EXPECT_EQ(recorder.last().body, R"({"service":"orders"})");
}

TEST(ListenerServer, KeepsConnectionsAliveUntilConnectionClose) {
  Recorder recorder;
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.connected());

  // Two requests in one write (pipelined), then a third that asks to close.
  ASSERT_TRUE(
      client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(statusOf(client.readResponse()), 200);
  EXPECT_EQ(statusOf(client.readResponse()), 200);
  EXPECT_EQ(recorder.last().target, "/two");

  ASSERT_TRUE(client.send("GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  const std::string last = client.readResponse();
  EXPECT_EQ(statusOf(last), 200);
  EXPECT_EQ(headerOf(last, "connection"), "close");
  EXPECT_TRUE(client.closedWithin(5s));
  EXPECT_EQ(recorder.count(), 3U);
}

TEST(ListenerServer, HandlerAskingToCloseEndsTheConnection) {
  Response answer;
  answer.headers = {{"Connection", "close"}, {"Bad\r\nHeader", "x"}, {"X-Ok", "a\r\nInjected: 1"}};
  Recorder recorder(answer);
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const std::string response = client.readResponse();
  EXPECT_EQ(statusOf(response), 200);
  EXPECT_EQ(headerOf(response, "injected"), "");
  EXPECT_EQ(headerOf(response, "x-ok"), "");
  EXPECT_TRUE(client.closedWithin(5s));
}

TEST(ListenerServer, OversizedBodyIs413WithoutHandlerCall) {
  Recorder recorder;
  ServerOptions options;
  options.maxBodyBytes = 1024;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);

  http::Request exact = clientRequest("POST", url(*server, "/alerts"));
  exact.body = std::string(1024, 'a');
  const http::Outcome fits = http::perform(exact);
  ASSERT_TRUE(fits.result.ok()) << fits.result.error().message;
  EXPECT_EQ(fits.result->status, 200);
  EXPECT_EQ(recorder.count(), 1U);

  http::Request large = clientRequest("POST", url(*server, "/alerts"));
  large.body = std::string(256 * 1024, 'a');
  const http::Outcome refused = http::perform(large);
  ASSERT_TRUE(refused.result.ok()) << refused.result.error().message;
  EXPECT_EQ(refused.result->status, 413);
  EXPECT_EQ(recorder.count(), 1U);
}

TEST(ListenerServer, ExpectContinueIsAnsweredBeforeTheBody) {
  Recorder recorder;
  ServerOptions options;
  options.maxBodyBytes = 16;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send(
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  EXPECT_EQ(statusOf(client.readResponse()), 100);
  ASSERT_TRUE(client.send("ping"));
  EXPECT_EQ(statusOf(client.readResponse()), 200);
  EXPECT_EQ(recorder.last().body, "ping");

  // Too large: refused at once, without a 100 and without waiting for the body.
  RawClient large = RawClient::toPort(server->port(0));
  ASSERT_TRUE(large.send(
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 17\r\n\r\n"));
  EXPECT_EQ(statusOf(large.readResponse()), 413);
  EXPECT_EQ(recorder.count(), 1U);
}

TEST(ListenerServer, ChunkedBodyOverTheLimitIs413) {
  Recorder recorder;
  ServerOptions options;
  options.maxBodyBytes = 8;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n"
      "0\r\n\r\n"));
  EXPECT_EQ(statusOf(client.readResponse()), 413);
  EXPECT_TRUE(client.closedWithin(5s));
  EXPECT_EQ(recorder.count(), 0U);
}

TEST(ListenerServer, MalformedRequestIs400AndClosed) {
  Recorder recorder;
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  for (const std::string garbage :
       {"NOT A REQUEST\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: lots\r\n\r\n"}) {
    RawClient client = RawClient::toPort(server->port(0));
    ASSERT_TRUE(client.send(garbage));
    const std::string response = client.readResponse();
    EXPECT_EQ(statusOf(response), 400) << garbage;
    EXPECT_EQ(headerOf(response, "connection"), "close");
    EXPECT_TRUE(client.closedWithin(5s)) << garbage;
  }
  EXPECT_EQ(recorder.count(), 0U);
}

TEST(ListenerServer, OversizedHeaderIs431) {
  Recorder recorder;
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n"));
  EXPECT_EQ(statusOf(client.readResponse()), 431);
  EXPECT_EQ(recorder.count(), 0U);
}

TEST(ListenerServer, ThrowingHandlerIs500AndServerCarriesOn) {
  std::atomic<int> calls{0};
  auto server = startOrFail({loopback()}, [&calls](const Request&) -> Response {
    if (calls++ == 0) {
      throw std::runtime_error("handler bug");
    }
    return Response{};
  });
  ASSERT_NE(server, nullptr);
  const http::Outcome first = http::perform(clientRequest("GET", url(*server, "/")));
  ASSERT_TRUE(first.result.ok());
  EXPECT_EQ(first.result->status, 500);
  const http::Outcome second = http::perform(clientRequest("GET", url(*server, "/")));
  ASSERT_TRUE(second.result.ok());
  EXPECT_EQ(second.result->status, 200);
}

TEST(ListenerServer, StatusOutsideTheValidRangeIsSentAs500) {
  Response answer;
  answer.status = 100;
  Recorder recorder(answer);
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  const http::Outcome outcome = http::perform(clientRequest("GET", url(*server, "/")));
  ASSERT_TRUE(outcome.result.ok());
  EXPECT_EQ(outcome.result->status, 500);
}

TEST(ListenerServer, HeadGetsTheLengthButNoBody) {
  Response answer;
  answer.body = "0123456789";
  Recorder recorder(answer);
  auto server = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const std::string head = client.readResponse(10s, /*head=*/true);
  EXPECT_EQ(statusOf(head), 200) << head;
  EXPECT_EQ(headerOf(head, "content-length"), "10");
  // Had the HEAD response carried a body, it would come before this status line.
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const std::string get = client.readResponse();
  EXPECT_EQ(statusOf(get), 200) << get;
  EXPECT_EQ(bodyOf(get), "0123456789");
  EXPECT_EQ(recorder.count(), 2U);
}

TEST(ListenerServer, SilentClientIsClosedAfterTheReadTimeout) {
  Recorder recorder;
  ServerOptions options;
  options.readTimeout = 200ms;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  RawClient idle = RawClient::toPort(server->port(0));
  RawClient halfSent = RawClient::toPort(server->port(0));
  ASSERT_TRUE(halfSent.send("GET / HTTP/1.1\r\nHost: a\r\n"));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closedWithin(10s));
  EXPECT_TRUE(halfSent.closedWithin(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(recorder.count(), 0U);
}

TEST(ListenerServer, ConnectionsOverTheLimitAreClosedAtOnce) {
  Recorder recorder;
  ServerOptions options;
  options.maxConnections = 1;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);

  RawClient first = RawClient::toPort(server->port(0));
  ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_EQ(statusOf(first.readResponse()), 200);  // so the server has counted it

  RawClient second = RawClient::toPort(server->port(0));
  ASSERT_TRUE(second.connected());  // the kernel accepts it; the server closes it
  second.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(second.closedWithin(5s));
  EXPECT_EQ(recorder.count(), 1U);

  // Once the first one is gone, a slot is free again.
  first.close();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    RawClient next = RawClient::toPort(server->port(0));
    next.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    served = statusOf(next.readResponse(2s)) == 200;
  }
  EXPECT_TRUE(served);
}

TEST(ListenerServer, StopWithAConnectedClientReturnsPromptly) {
  Recorder recorder;
  ServerOptions options;
  options.readTimeout = 60s;
  auto server = startOrFail({loopback()}, recorder.handler(), options);
  ASSERT_NE(server, nullptr);
  const std::uint16_t port = server->port(0);
  RawClient idle = RawClient::toPort(port);
  RawClient halfSent = RawClient::toPort(port);
  ASSERT_TRUE(halfSent.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"));
  RawClient served = RawClient::toPort(port);
  ASSERT_TRUE(served.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_EQ(statusOf(served.readResponse()), 200);

  const auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(idle.closedWithin(5s));
  EXPECT_TRUE(halfSent.closedWithin(5s));
  EXPECT_TRUE(served.closedWithin(5s));
  EXPECT_FALSE(RawClient::toPort(port).connected());
  server->stop();  // idempotent
}

TEST(ListenerServer, StopWaitsForARunningHandler) {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool released = false;
  std::atomic<bool> finished{false};
  auto server = startOrFail({loopback()}, [&](const Request&) {
    std::unique_lock<std::mutex> lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
    finished = true;
    return Response{};
  });
  ASSERT_NE(server, nullptr);
  RawClient client = RawClient::toPort(server->port(0));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return entered; }));
  }
  auto stopping = std::async(std::launch::async, [&server] { server->stop(); });
  EXPECT_EQ(stopping.wait_for(200ms), std::future_status::timeout);
  {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
  }
  changed.notify_all();
  ASSERT_EQ(stopping.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(finished);
}

TEST(ListenerServer, PortAlreadyInUseIsAnErrorNamingTheAddress) {
  Recorder recorder;
  auto first = startOrFail({loopback()}, recorder.handler());
  ASSERT_NE(first, nullptr);
  Endpoint same = loopback();
  same.port = first->port(0);
  auto second = Server::start({same}, recorder.handler());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string(same.port)),
            std::string::npos)
      << second.error().message;
  EXPECT_FALSE(second.error().hint.empty());
}

TEST(ListenerServer, HostMustBeAnIpAddress) {
  Recorder recorder;
  Endpoint named = loopback();
  named.host = "localhost.example";
  auto started = Server::start({named}, recorder.handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("localhost.example"), std::string::npos);
}

TEST(ListenerServer, StartNeedsEndpointsAHandlerAndSaneOptions) {
  Recorder recorder;
  EXPECT_FALSE(Server::start({}, recorder.handler()).ok());
  EXPECT_FALSE(Server::start({loopback()}, Handler()).ok());
  ServerOptions noTimeout;
  noTimeout.readTimeout = 0ms;
  EXPECT_FALSE(Server::start({loopback()}, recorder.handler(), noTimeout).ok());
  ServerOptions noConnections;
  noConnections.maxConnections = 0;
  EXPECT_FALSE(Server::start({loopback()}, recorder.handler(), noConnections).ok());
}

}  // namespace
}  // namespace lifeboat::listener
