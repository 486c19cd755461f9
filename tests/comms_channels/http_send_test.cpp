// send() on the HTTP channels against receiver.py on 127.0.0.1: payloads
// that pass the providers' documented checks, signatures recomputed by the
// receiver, the classification of answers and failures, HTTPS trust, and
// details that never quote a URL or a secret.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "lifeboat/comms/channels.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "python_server.hpp"

namespace lifeboat::comms {
namespace {

using testing::PythonServer;
namespace json = boost::json;

// Stand-ins for credentials: each must stay out of every detail.
constexpr const char* kUrlToken = "T0SECRET/B0SECRET/hooktoken1234";
constexpr const char* kWebhookKey = "webhook-hmac-key-5678";
constexpr const char* kRoutingKey = "R0UTINGKEY00000000000000000000AB";

Message sampleMessage() {
  Message message;
  message.id = 3;
  message.dedupKey = "inc-9/opened/ops/chat";
  message.incident = "inc-9";
  message.audience = "ops";
  message.channel = "chat";
  message.trigger = "opened";
  message.subject = "Orders <api> down & failing over";
  message.body = "The primary <db-1> stopped & db-2 takes over > now.";
  message.facts = {{"service", "orders"}, {"runbook", "db <failover>"}};
  message.createdAt = Timestamp{std::chrono::milliseconds(1'796'585'743'000)};
  return message;
}

class HttpSend : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("LIFEBOAT_TEST_WEBHOOK_KEY", kWebhookKey, 1);
    ::setenv("LIFEBOAT_TEST_ROUTING_KEY", kRoutingKey, 1);
  }

  // receiver.py with the keys it checks, plus `arguments`.
  std::unique_ptr<PythonServer> startReceiver(std::vector<std::string> arguments = {}) {
    arguments.insert(arguments.end(), {"--webhook-key", kWebhookKey, "--routing-key", kRoutingKey});
    return std::make_unique<PythonServer>("receiver.py", directory_.path() / "requests.jsonl",
                                          arguments);
  }

  static std::string url(const PythonServer& server, const std::string& provider,
                         const std::string& scheme = "http") {
    return scheme + "://127.0.0.1:" + std::to_string(server.port()) + "/" + provider + "/" +
           kUrlToken;
  }

  static ChannelSpec channel(ChannelKind kind, std::string url) {
    ChannelSpec spec;
    spec.name = "chat";
    spec.kind = kind;
    spec.url = std::move(url);
    spec.timeout = std::chrono::seconds(10);
    if (kind == ChannelKind::webhook) {
      spec.secret = "${secret:env:LIFEBOAT_TEST_WEBHOOK_KEY}";
    } else if (kind == ChannelKind::pagerduty) {
      spec.secret = "${secret:env:LIFEBOAT_TEST_ROUTING_KEY}";
    }
    return spec;
  }

  // The detail names neither the URL, nor its secret path, nor a key.
  static void expectNoSecret(const Delivery& delivery, const ChannelSpec& spec) {
    for (const std::string& secret :
         {spec.url, std::string(kUrlToken), std::string("hooktoken1234"), std::string(kWebhookKey),
          std::string(kRoutingKey)}) {
      EXPECT_EQ(delivery.detail.find(secret), std::string::npos)
          << "detail quotes a secret: " << delivery.detail;
    }
    EXPECT_EQ(delivery.detail.find("127.0.0.1:"), std::string::npos) << delivery.detail;
    EXPECT_EQ(delivery.detail.find('\n'), std::string::npos) << delivery.detail;
  }

  // Records whose receiver found no problem in the payload.
  static void expectAllValid(const std::vector<json::object>& records) {
    for (const json::object& record : records) {
      EXPECT_TRUE(record.at("problems").as_array().empty())
          << record.at("path").as_string() << ": " << json::serialize(record.at("problems"));
    }
  }

  test_support::TempDir directory_;
};

TEST_F(HttpSend, SlackBlockKitAccepted) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  Message message = sampleMessage();
  message.drill = true;
  const Delivery delivery = send(channel(ChannelKind::slack, url(*receiver, "slack")), message);
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::sent) << delivery.detail;
  EXPECT_EQ(delivery.status, 200);

  const std::vector<json::object> records = receiver->records();
  ASSERT_EQ(records.size(), 1u);
  expectAllValid(records);
  const json::object& body = records[0].at("body").as_object();
  EXPECT_EQ(body.at("blocks").at(1).at("text").at("text").as_string(),
            "The primary &lt;db-1&gt; stopped &amp; db-2 takes over &gt; now.");
  EXPECT_EQ(records[0].at("headers").at("content-type").as_string(), "application/json");
  EXPECT_EQ(records[0].at("headers").at("user-agent").as_string(), "lifeboat/1");
}

TEST_F(HttpSend, TeamsAdaptiveCardAccepted) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  const Delivery delivery =
      send(channel(ChannelKind::teams, url(*receiver, "teams")), sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::sent) << delivery.detail;
  const std::vector<json::object> records = receiver->records();
  ASSERT_EQ(records.size(), 1u);
  expectAllValid(records);
  EXPECT_EQ(records[0].at("body").at("attachments").at(0).at("content").at("body").at(0).at("text"),
            json::value(sampleMessage().subject));
}

TEST_F(HttpSend, PagerDutyTriggerThenResolveOnTheIncidentKey) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  ChannelSpec spec = channel(ChannelKind::pagerduty, url(*receiver, "pagerduty"));
  spec.severity = "warning";
  Message message = sampleMessage();
  const Delivery trigger = send(spec, message);
  EXPECT_EQ(trigger.outcome, Delivery::Outcome::sent) << trigger.detail;
  EXPECT_EQ(trigger.status, 202);
  message.resolves = true;
  message.dedupKey = "inc-9/resolved/ops/chat";
  const Delivery resolve = send(spec, message);
  EXPECT_EQ(resolve.outcome, Delivery::Outcome::sent) << resolve.detail;

  const std::vector<json::object> records = receiver->records();
  ASSERT_EQ(records.size(), 2u);
  expectAllValid(records);
  EXPECT_EQ(records[0].at("body").at("routing_key").as_string(), kRoutingKey);
  EXPECT_EQ(records[0].at("body").at("event_action").as_string(), "trigger");
  EXPECT_EQ(records[0].at("body").at("dedup_key").as_string(), "inc-9");
  EXPECT_EQ(records[0].at("body").at("payload").at("severity").as_string(), "warning");
  EXPECT_EQ(records[1].at("body").at("event_action").as_string(), "resolve");
  EXPECT_EQ(records[1].at("body").at("dedup_key").as_string(), "inc-9");
}

TEST_F(HttpSend, PagerDutyRefusesAnUnknownSeverityBeforeSending) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  ChannelSpec spec = channel(ChannelKind::pagerduty, url(*receiver, "pagerduty"));
  spec.severity = "sev1";
  const Delivery delivery = send(spec, sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_NE(delivery.detail.find("severity"), std::string::npos) << delivery.detail;
  EXPECT_TRUE(receiver->records().empty());
}

TEST_F(HttpSend, WebhookSignedAndIdempotent) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  const Delivery delivery =
      send(channel(ChannelKind::webhook, url(*receiver, "webhook")), sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::sent) << delivery.detail;
  const std::vector<json::object> records = receiver->records();
  ASSERT_EQ(records.size(), 1u);
  expectAllValid(records);
  EXPECT_EQ(records[0].at("headers").at("idempotency-key").as_string(), "inc-9/opened/ops/chat");
  EXPECT_TRUE(
      records[0].at("headers").at("x-lifeboat-signature").as_string().starts_with("sha256="));
}

TEST_F(HttpSend, WebhookSignedWithAnotherKeyIsRefused) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  ::setenv("LIFEBOAT_TEST_WEBHOOK_KEY", "not-the-receivers-key", 1);
  const ChannelSpec spec = channel(ChannelKind::webhook, url(*receiver, "webhook"));
  const Delivery delivery = send(spec, sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(delivery.status, 400);
  EXPECT_NE(delivery.detail.find("signature"), std::string::npos) << delivery.detail;
  expectNoSecret(delivery, spec);
  EXPECT_EQ(delivery.detail.find("not-the-receivers-key"), std::string::npos);
}

TEST_F(HttpSend, WebhookWithoutKeyIsNotSent) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  ChannelSpec spec = channel(ChannelKind::webhook, url(*receiver, "webhook"));
  spec.secret.clear();
  const Delivery delivery = send(spec, sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(delivery.detail, "the channel has no HMAC key (secret)");
  EXPECT_TRUE(receiver->records().empty());
}

// The receiver's checks can fail: one provider's payload sent to another's
// endpoint is refused with the problems found.
TEST_F(HttpSend, ReceiverRefusesAnotherProvidersShape) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  const std::vector<std::pair<ChannelKind, std::string>> mismatches{
      {ChannelKind::webhook, "slack"},
      {ChannelKind::slack, "teams"},
      {ChannelKind::teams, "pagerduty"},
      {ChannelKind::slack, "webhook"}};
  for (const auto& [kind, provider] : mismatches) {
    const Delivery delivery = send(channel(kind, url(*receiver, provider)), sampleMessage());
    EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed) << provider;
    EXPECT_EQ(delivery.status, 400) << provider;
  }
  const std::vector<json::object> records = receiver->records();
  ASSERT_EQ(records.size(), mismatches.size());
  for (const json::object& record : records) {
    EXPECT_FALSE(record.at("problems").as_array().empty()) << record.at("path").as_string();
  }
}

TEST_F(HttpSend, RetryAfterAndClassificationOfAnswers) {
  auto receiver =
      startReceiver({"--script", "503,503,400,429,408,500,404,301", "--retry-after", "7"});
  ASSERT_GT(receiver->port(), 0);
  const ChannelSpec spec = channel(ChannelKind::slack, url(*receiver, "slack"));
  struct Expected {
    Delivery::Outcome outcome;
    int status;
    std::optional<Milliseconds> retryAfter;
  };
  const std::vector<Expected> expected{
      {Delivery::Outcome::retry, 503, std::chrono::seconds(7)},
      {Delivery::Outcome::retry, 503, std::chrono::seconds(7)},
      {Delivery::Outcome::failed, 400, std::nullopt},
      {Delivery::Outcome::retry, 429, std::chrono::seconds(7)},
      {Delivery::Outcome::retry, 408, std::nullopt},
      {Delivery::Outcome::retry, 500, std::nullopt},
      {Delivery::Outcome::failed, 404, std::nullopt},
      {Delivery::Outcome::failed, 301, std::nullopt},
      {Delivery::Outcome::sent, 200, std::nullopt},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Delivery delivery = send(spec, sampleMessage());
    EXPECT_EQ(delivery.outcome, expected[i].outcome) << i << ": " << delivery.detail;
    EXPECT_EQ(delivery.status, expected[i].status) << i;
    EXPECT_EQ(delivery.retryAfter, expected[i].retryAfter) << i;
    EXPECT_TRUE(delivery.detail.starts_with("HTTP " + std::to_string(expected[i].status)))
        << delivery.detail;
    expectNoSecret(delivery, spec);
  }
  EXPECT_EQ(receiver->records().size(), expected.size());
}

TEST_F(HttpSend, AnswerQuotingTheUrlIsNotRepeated) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  // receiver.py answers an unknown provider with "no provider at PATH".
  const ChannelSpec spec = channel(ChannelKind::slack, url(*receiver, "elsewhere"));
  const Delivery delivery = send(spec, sampleMessage());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(delivery.detail, "HTTP 400");
  expectNoSecret(delivery, spec);
}

TEST_F(HttpSend, ConnectionRefusedIsRetried) {
  // Bound but not listening: connections to it are refused.
  const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(socket, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const ChannelSpec spec =
      channel(ChannelKind::teams, "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) +
                                      "/teams/" + kUrlToken);
  const Delivery delivery = send(spec, sampleMessage());
  ::close(socket);
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::retry);
  EXPECT_EQ(delivery.status, 0);
  EXPECT_EQ(delivery.detail, "connection refused or unreachable");
  expectNoSecret(delivery, spec);
}

TEST_F(HttpSend, TimeoutIsRetried) {
  auto receiver = startReceiver({"--delay-ms", "3000"});
  ASSERT_GT(receiver->port(), 0);
  ChannelSpec spec = channel(ChannelKind::webhook, url(*receiver, "webhook"));
  spec.timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  const Delivery delivery = send(spec, sampleMessage());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::retry);
  EXPECT_EQ(delivery.detail, "timed out after 300ms");
  expectNoSecret(delivery, spec);
}

TEST_F(HttpSend, UrlFromASecretReference) {
  auto receiver = startReceiver();
  ASSERT_GT(receiver->port(), 0);
  ::setenv("LIFEBOAT_TEST_SLACK_URL", url(*receiver, "slack").c_str(), 1);
  ChannelSpec spec = channel(ChannelKind::slack, "${secret:env:LIFEBOAT_TEST_SLACK_URL}");
  EXPECT_EQ(send(spec, sampleMessage()).outcome, Delivery::Outcome::sent);

  spec.url = "${secret:env:LIFEBOAT_TEST_NOT_SET}";
  ::unsetenv("LIFEBOAT_TEST_NOT_SET");
  const Delivery missing = send(spec, sampleMessage());
  EXPECT_EQ(missing.outcome, Delivery::Outcome::failed);
  EXPECT_NE(missing.detail.find("LIFEBOAT_TEST_NOT_SET"), std::string::npos) << missing.detail;
  EXPECT_EQ(receiver->records().size(), 1u);
}

TEST_F(HttpSend, HttpsTrustsOnlyTheGivenCa) {
  const testing::TestCertificates certificates = testing::makeTestCertificates(directory_.path());
  auto receiver = startReceiver(
      {"--cert", certificates.certificate.string(), "--key", certificates.key.string()});
  ASSERT_GT(receiver->port(), 0);
  ChannelSpec spec = channel(ChannelKind::slack, url(*receiver, "slack", "https"));
  spec.caFile = certificates.caFile.string();
  const Delivery trusted = send(spec, sampleMessage());
  EXPECT_EQ(trusted.outcome, Delivery::Outcome::sent) << trusted.detail;

  spec.caFile.clear();  // the system's roots do not know our test CA
  const Delivery refused = send(spec, sampleMessage());
  EXPECT_EQ(refused.outcome, Delivery::Outcome::failed);
  EXPECT_TRUE(refused.detail.starts_with("TLS: the server's certificate was not accepted"))
      << refused.detail;
  expectNoSecret(refused, spec);
  EXPECT_EQ(receiver->records().size(), 1u);
}

}  // namespace
}  // namespace lifeboat::comms
