// The agents' endpoint: mutual TLS, batches acknowledged after commit,
// duplicates stored once, identity enforced, everything else refused.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <thread>

#include "server_fixture.hpp"

namespace lifeboat::coordinator {
namespace {

using test_support::WsClient;

TEST_F(CoordinatorTest, AgentBatchesAreAcknowledgedAndAResendIsStoredOnce) {
  auto agent = agentOnline();
  ASSERT_NE(agent, nullptr);
  ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 1, 3)), "");
  ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 4, 5)), "");
  EXPECT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":3}");
  EXPECT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":5}");
  EXPECT_EQ(storedEvents("db-eu-1"), 5u);
  agent->close();

  // The agent lost the acks (say) and resends everything after reconnecting.
  auto again = agentOnline();
  ASSERT_NE(again, nullptr);
  ASSERT_EQ(again->send(batch("db-eu-1", "run-1", 1, 5)), "");
  EXPECT_EQ(again->receive().value_or(again->lastError()), "{\"ack\":5}");
  ASSERT_EQ(again->send(batch("db-eu-1", "run-1", 6, 6)), "");
  EXPECT_EQ(again->receive().value_or(again->lastError()), "{\"ack\":6}");
  EXPECT_EQ(storedEvents("db-eu-1"), 6u);
  EXPECT_NE(log().find("agent db-eu-1 connected from 127.0.0.1:"), std::string::npos) << log();
}

TEST_F(CoordinatorTest, HelloMarksTheAgentOnlineWithItsHostAndHeartbeatsAreNotStored) {
  auto agent = agentOnline();
  ASSERT_NE(agent, nullptr);
  Event heartbeat = testEvent("db-eu-1", "", 0, "heartbeat");
  ASSERT_EQ(agent->send(encodeEvent(heartbeat)), "");
  ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 1, 1)), "");
  EXPECT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":1}");
  EXPECT_EQ(storedEvents("db-eu-1"), 1u);
  test_support::HttpReply agents = api("GET", "/api/v1/agents", kViewerToken);
  ASSERT_EQ(agents.status, 200) << agents.body << agents.error;
  boost::json::value body = boost::json::parse(agents.body);
  const auto& list = body.at("agents").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("name"), "db-eu-1");
  EXPECT_EQ(list[0].at("online"), true);
  EXPECT_EQ(list[0].at("hostname"), "db-eu-1.example");
  EXPECT_EQ(list[0].at("version"), "0.1.0");
}

TEST_F(CoordinatorTest, ManyAgentsPipeliningBatchesAllGetTheirAcksInOrder) {
  std::vector<std::unique_ptr<WsClient>> agents;
  agents.push_back(agentOnline("db-eu-1"));
  agents.push_back(agentOnline("db-us-1"));
  const char* names[] = {"db-eu-1", "db-us-1"};
  for (int round = 0; round < 20; ++round) {
    for (int a = 0; a < 2; ++a) {
      ASSERT_NE(agents[a], nullptr);
      const std::uint64_t first = static_cast<std::uint64_t>(round) * 50 + 1;
      ASSERT_EQ(agents[a]->send(batch(names[a], "run-1", first, first + 49)), "");
    }
  }
  for (int a = 0; a < 2; ++a) {
    for (int round = 0; round < 20; ++round) {
      EXPECT_EQ(agents[a]->receive().value_or(agents[a]->lastError()),
                "{\"ack\":" + std::to_string((round + 1) * 50) + "}");
    }
  }
  EXPECT_EQ(storedEvents("db-eu-1"), 1000u);
  EXPECT_EQ(storedEvents("db-us-1"), 1000u);
}

TEST_F(CoordinatorTest, AnEventForAnotherAgentClosesWith1008AndNothingIsStored) {
  auto agent = agentOnline("db-eu-1");
  ASSERT_NE(agent, nullptr);
  const std::string mixed =
      batch("db-eu-1", "run-1", 1, 2) + "\n" + batch("db-us-1", "run-1", 3, 3);
  ASSERT_EQ(agent->send(mixed), "");
  std::optional<std::string> error = agent->receive();
  ASSERT_TRUE(error.has_value()) << agent->lastError();
  boost::json::value message = boost::json::parse(*error);
  EXPECT_EQ(message.at("fatal"), true);
  EXPECT_EQ(message.at("error"),
            "event for agent \"db-us-1\" on a connection authenticated as \"db-eu-1\"");
  EXPECT_FALSE(agent->receive().has_value());
  EXPECT_EQ(agent->closeCode(), 1008);
  EXPECT_EQ(agent->closeReason(),
            "event for agent \"db-us-1\" on a connection authenticated as \"db-eu-1\"");
  EXPECT_EQ(storedEvents("db-eu-1"), 0u);
  EXPECT_EQ(storedEvents("db-us-1"), 0u);
}

TEST_F(CoordinatorTest, AnInvalidLineRefusesTheWholeBatch) {
  auto agent = agentOnline("db-eu-1");
  ASSERT_NE(agent, nullptr);
  ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 1, 2) + "\n{\"v\":1,\"agent\":\"db-eu-1\"}"), "");
  std::optional<std::string> error = agent->receive();
  ASSERT_TRUE(error.has_value()) << agent->lastError();
  boost::json::value message = boost::json::parse(*error);
  EXPECT_EQ(message.at("fatal"), true);
  EXPECT_NE(std::string(message.at("error").as_string()).find("line 3"), std::string::npos)
      << *error;
  EXPECT_FALSE(agent->receive().has_value());
  EXPECT_EQ(agent->closeCode(), 1007);
  EXPECT_EQ(storedEvents("db-eu-1"), 0u);
}

TEST_F(CoordinatorTest, AgentCertificatesFromAnotherCaExpiredOrMissingAreRefused) {
  for (const std::string which : {"other-ca", "expired"}) {
    std::string error;
    auto client = connectAgent(which, error);
    EXPECT_EQ(client, nullptr) << which;
  }
  std::string error;
  auto none =
      WsClient::connect(agentsPort_, testCertificates().noCertificate(), "/v1/stream", error);
  EXPECT_EQ(none, nullptr);
  // The server logs a refusal just after the client gave up: wait for all three.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = log();
    if (text.find("peer did not return a certificate") != std::string::npos &&
        text.find("certificate has expired") != std::string::npos &&
        text.find("unable to get local issuer certificate") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(text.find("certificate has expired"), std::string::npos) << text;
  EXPECT_NE(text.find("unable to get local issuer certificate"), std::string::npos) << text;
  EXPECT_NE(text.find("peer did not return a certificate"), std::string::npos) << text;
  EXPECT_EQ(text.find("connected from"), std::string::npos) << text;
}

TEST_F(CoordinatorTest, PlaintextAndTls12AreRefusedOnBothPorts) {
  for (int port : {agentsPort_, apiPort_}) {
    const std::string answer = test_support::plaintextExchange(port);
    EXPECT_EQ(answer.rfind("HTTP/", 0), std::string::npos) << port << ": " << answer;
    test_support::ClientTls old = testCertificates().agent("db-eu-1");
    old.tls12Only = true;
    EXPECT_NE(test_support::tlsHandshake(port, old), "") << port;
    // The same client with TLS 1.3 gets through, so the refusal is the version's.
    EXPECT_EQ(test_support::tlsHandshake(port, testCertificates().agent("db-eu-1")), "") << port;
  }
}

TEST_F(CoordinatorTest, OnlyTheStreamPathIsServedToAgents) {
  std::string error;
  auto client =
      WsClient::connect(agentsPort_, testCertificates().agent("db-eu-1"), "/api/v1/live", error);
  EXPECT_EQ(client, nullptr);
  EXPECT_NE(error.find("404"), std::string::npos) << error;
}

}  // namespace
}  // namespace lifeboat::coordinator
