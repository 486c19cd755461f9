#pragma once
// Certificates, a config and a running coordinator for the tests: the
// server library in process (CoordinatorTest) on 127.0.0.1, ports picked by
// the system, a store in a temp dir, and agents' websockets (WsClient).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/coordinator/server.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "ws_client.hpp"

namespace lifeboat::coordinator {

// Made once per test program: a CA, the coordinator's certificate, agents
// db-eu-1 and db-us-1, an expired db-eu-1 and a db-eu-1 from another CA.
struct TestCertificates {
  std::filesystem::path dir;
  std::filesystem::path ca, serverCert, serverKey;
  test_support::ClientTls agent(
      const std::string& which) const;  // "db-eu-1", "expired", "other-ca"
  test_support::ClientTls noCertificate() const;
};
const TestCertificates& testCertificates();

inline constexpr const char* kViewerToken = "viewer-token-0123456789";
inline constexpr const char* kOperatorToken = "operator-token-0123456789";

// The config text for a database in `dir` (ports 0, tokens for viewer
// "vera" and operator "otto").
std::string testConfig(const std::filesystem::path& database);

// Event lines for `agent`'s run, seq first..last, "\n"-separated.
Event testEvent(const std::string& agent, const std::string& run, std::uint64_t seq,
                const std::string& type = "step.output");
std::string batch(const std::string& agent, const std::string& run, std::uint64_t first,
                  std::uint64_t last);
std::string helloLine(const std::string& agent);

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Appended to testConfig() (e.g. a [comms] table, more tokens).
  virtual std::string extraConfig() { return {}; }

  std::unique_ptr<test_support::WsClient> connectAgent(const std::string& which,
                                                       std::string& error);
  // Connects db-eu-1 (or `which`) and sends hello; fails the test when refused.
  std::unique_ptr<test_support::WsClient> agentOnline(const std::string& which = "db-eu-1");
  std::string log() const;
  // Events stored for `agent` (read-only store).
  std::size_t storedEvents(const std::string& agent);

  test_support::HttpReply api(const std::string& method, const std::string& target,
                              const std::string& token = {}, const std::string& body = {});

  test_support::TempDir dir_;
  std::filesystem::path database_;
  std::unique_ptr<std::ofstream> logFile_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
  int agentsPort_ = 0;
  int apiPort_ = 0;
};

}  // namespace lifeboat::coordinator
