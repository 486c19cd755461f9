// The AlertmanagerServer fixture end to end: a real Alertmanager 0.25 on
// 127.0.0.1 gets an alert through API v2 and delivers its webhook to a tiny
// HTTP receiver in this test; parseAlertmanagerWebhook() reads what it sent,
// firing and then resolved. Also proves that the webhook format the parser
// expects is the one Alertmanager really sends.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "alertmanager_server.hpp"
#include "lifeboat/http/client.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "lifeboat/watch/alertmanager.hpp"

namespace lifeboat::watch {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct Delivery {
  std::string requestLine;  // "POST / HTTP/1.1"
  std::string contentType;
  std::string body;
};

// A one-thread HTTP/1.1 receiver on 127.0.0.1 (port chosen by the kernel):
// reads each request (Content-Length bodies only, as Go's client sends),
// answers 200 with Connection: close, and queues what it got.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "webhook receiver: cannot listen on 127.0.0.1: " << std::strerror(errno);
      return;
    }
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/hook";
    thread_ = std::thread([this] { serve(); });
  }
  ~WebhookReceiver() {
    stopping_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    if (listener_ >= 0) {
      ::close(listener_);
    }
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  const std::string& url() const { return url_; }

  // The next delivery, waiting until `timeout` passes; none if nothing came.
  std::optional<Delivery> next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, timeout, [this] { return !deliveries_.empty(); })) {
      return std::nullopt;
    }
    Delivery delivery = std::move(deliveries_.front());
    deliveries_.pop_front();
    return delivery;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) {
        continue;
      }
      const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) {
        continue;
      }
      std::optional<Delivery> delivery = readRequest(connection);
      if (delivery) {
        constexpr std::string_view kOk =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        [[maybe_unused]] const ssize_t sent =
            ::send(connection, kOk.data(), kOk.size(), MSG_NOSIGNAL);
        {
          std::lock_guard lock(mutex_);
          deliveries_.push_back(std::move(*delivery));
        }
        arrived_.notify_all();
      }
      ::close(connection);
    }
  }

  // One request from `connection`, or none when it is malformed or takes
  // longer than 5 s.
  std::optional<Delivery> readRequest(int connection) {
    const auto deadline = SteadyClock::now() + 5s;
    std::string data;
    std::size_t headerEnd = std::string::npos;
    std::size_t contentLength = 0;
    Delivery delivery;
    for (;;) {
      if (headerEnd == std::string::npos) {
        headerEnd = data.find("\r\n\r\n");
        if (headerEnd != std::string::npos) {
          if (!readHeaders(data.substr(0, headerEnd), delivery, contentLength)) {
            return std::nullopt;
          }
        }
      }
      if (headerEnd != std::string::npos && data.size() >= headerEnd + 4 + contentLength) {
        delivery.body = data.substr(headerEnd + 4, contentLength);
        return delivery;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      pollfd readable{connection, POLLIN, 0};
      if (left <= 0ms || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char buffer[16 * 1024];
      const ssize_t got = ::recv(connection, buffer, sizeof buffer, 0);
      if (got <= 0) {
        return std::nullopt;
      }
      data.append(buffer, static_cast<std::size_t>(got));
    }
  }

  static bool readHeaders(const std::string& head, Delivery& delivery, std::size_t& contentLength) {
    std::size_t lineEnd = head.find("\r\n");
    delivery.requestLine = head.substr(0, lineEnd);
    bool haveLength = false;
    while (lineEnd != std::string::npos) {
      const std::size_t start = lineEnd + 2;
      lineEnd = head.find("\r\n", start);
      const std::string line =
          head.substr(start, lineEnd == std::string::npos ? std::string::npos : lineEnd - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "content-length") {
        contentLength = std::stoul(value);
        haveLength = true;
      } else if (name == "content-type") {
        delivery.contentType = value;
      }
    }
    EXPECT_TRUE(haveLength) << "webhook without Content-Length: " << head;
    return haveLength;
  }

  int listener_ = -1;
  std::string url_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<Delivery> deliveries_;
};

Timestamp nowMs() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

const std::string* label(const LabelList& labels, std::string_view name) {
  for (const auto& [key, value] : labels) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

// The next webhook message whose first alert has `status`, parsed; earlier
// ones (repeats) are skipped. Fails the test when none comes within `timeout`.
std::optional<WebhookMessage> awaitMessage(WebhookReceiver& receiver,
                                           const fixtures::AlertmanagerServer& server,
                                           std::string_view status,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    std::optional<Delivery> delivery = receiver.next(left);
    if (!delivery) {
      break;
    }
    EXPECT_TRUE(delivery->requestLine.starts_with("POST /hook ")) << delivery->requestLine;
    EXPECT_TRUE(delivery->contentType.starts_with("application/json")) << delivery->contentType;
    Result<WebhookMessage> message = parseAlertmanagerWebhook(delivery->body);
    if (!message) {
      ADD_FAILURE() << message.error().message << "\nbody: " << delivery->body;
      return std::nullopt;
    }
    if (!message->alerts.empty() && message->alerts.front().status == status) {
      return std::move(*message);
    }
  }
  ADD_FAILURE() << "no " << status << " webhook within " << timeout.count()
                << " ms; Alertmanager's log:\n"
                << server.logTail();
  return std::nullopt;
}

TEST(AlertmanagerFixtureTest, DeliversFiringThenResolvedWebhooksThatParse) {
  test_support::TempDir directory;
  WebhookReceiver receiver;
  ASSERT_FALSE(receiver.url().empty());
  fixtures::AlertmanagerOptions options;
  options.webhookUrl = receiver.url();
  fixtures::AlertmanagerServer server(directory.path(), options);
  ASSERT_TRUE(server.running());
  EXPECT_TRUE(server.endpoint().starts_with("http://127.0.0.1:")) << server.endpoint();

  const LabelList labels{
      {"alertname", "OrdersDatabaseDown"}, {"env", "prod"}, {"team", "dba"}, {"severity", "page"}};
  const Timestamp startsAt = nowMs() - 2s;
  ASSERT_TRUE(server.postAlert(labels, {{"summary", "primary unreachable"}}, startsAt));

  std::optional<WebhookMessage> firing = awaitMessage(receiver, server, "firing", 15s);
  ASSERT_TRUE(firing.has_value());
  EXPECT_EQ(firing->version, "4");
  EXPECT_EQ(firing->status, "firing");
  EXPECT_EQ(firing->receiver, "lifeboat");
  EXPECT_FALSE(firing->groupKey.empty());
  ASSERT_EQ(firing->alerts.size(), 1u);
  const Alert& alert = firing->alerts.front();
  EXPECT_EQ(alert.status, "firing");
  for (const auto& [name, value] : labels) {
    const std::string* got = label(alert.labels, name);
    ASSERT_NE(got, nullptr) << name;
    EXPECT_EQ(*got, value) << name;
  }
  EXPECT_EQ(alert.labels.size(), labels.size());
  ASSERT_NE(label(alert.annotations, "summary"), nullptr);
  EXPECT_EQ(*label(alert.annotations, "summary"), "primary unreachable");
  EXPECT_EQ(alert.startsAt, startsAt);
  EXPECT_FALSE(alert.endsAt.has_value()) << "a firing alert has no end";
  EXPECT_FALSE(alert.fingerprint.empty());
  EXPECT_EQ(alert.generatorUrl, "http://127.0.0.1/lifeboat-test");

  runbook::Trigger trigger;
  trigger.kind = runbook::TriggerKind::alertmanager;
  trigger.alertname = "OrdersDatabaseDown";
  trigger.matchLabels = {{"env", "prod"}, {"team", "dba"}};
  EXPECT_TRUE(matches(trigger, alert));
  const CheckResult failed = toCheckResult(alert, SteadyClock::now());
  EXPECT_FALSE(failed.healthy);
  EXPECT_EQ(failed.wallAt, startsAt);
  EXPECT_EQ(failed.detail, "alert OrdersDatabaseDown firing (env=prod, severity=page, team=dba)");

  const Timestamp beforeResolve = nowMs();
  ASSERT_TRUE(server.resolveAlert(labels, {{"summary", "primary unreachable"}}, startsAt));
  std::optional<WebhookMessage> resolved = awaitMessage(receiver, server, "resolved", 15s);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->status, "resolved");
  ASSERT_EQ(resolved->alerts.size(), 1u);
  const Alert& over = resolved->alerts.front();
  EXPECT_EQ(over.status, "resolved");
  EXPECT_EQ(over.fingerprint, alert.fingerprint) << "the same alert";
  EXPECT_EQ(over.startsAt, startsAt);
  ASSERT_TRUE(over.endsAt.has_value());
  EXPECT_GE(*over.endsAt, beforeResolve);
  EXPECT_LE(*over.endsAt, nowMs());
  EXPECT_TRUE(matches(trigger, over));
  const CheckResult healthy = toCheckResult(over, SteadyClock::now());
  EXPECT_TRUE(healthy.healthy);
  EXPECT_EQ(healthy.wallAt, *over.endsAt);
}

TEST(AlertmanagerFixtureTest, RunsWithoutClusteringAndStopsOnRequest) {
  test_support::TempDir directory;
  fixtures::AlertmanagerOptions options;
  options.webhookUrl = "http://127.0.0.1:9/unused";
  fixtures::AlertmanagerServer server(directory.path(), options);
  ASSERT_TRUE(server.running());

  http::Request status;
  status.url = server.endpoint() + "/api/v2/status";
  status.timeout = 5s;
  http::Outcome outcome = http::perform(status);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
  ASSERT_EQ(outcome.result->status, 200) << outcome.result->body;
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(outcome.result->body, ec);
  ASSERT_FALSE(ec) << outcome.result->body;
  const boost::json::value* cluster = body.as_object().if_contains("cluster");
  ASSERT_NE(cluster, nullptr) << outcome.result->body;
  EXPECT_EQ(std::string(cluster->at("status").as_string()), "disabled") << outcome.result->body;
  // The config it runs is the one the fixture wrote.
  const boost::json::value* config = body.as_object().if_contains("config");
  ASSERT_NE(config, nullptr);
  const std::string original(config->at("original").as_string());
  EXPECT_NE(original.find("http://127.0.0.1:9/unused"), std::string::npos) << original;
  EXPECT_NE(original.find("send_resolved: true"), std::string::npos) << original;

  server.stop();
  EXPECT_FALSE(server.running());
  status.timeout = 2s;
  outcome = http::perform(status);
  EXPECT_FALSE(outcome.result.ok()) << "still answering after stop()";
  server.stop();  // idempotent
}

}  // namespace
}  // namespace lifeboat::watch
