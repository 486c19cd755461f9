#pragma once
// The comms engine end to end with real parts only: the built `lifeboat`
// agent runs tests/comms_e2e/*.toml and streams to the built
// `lifeboat-coordinator` (tests/stream/coordinator_process), whose [comms]
// plan sends to receiver.py processes on 127.0.0.1
// (tests/comms_channels/python_server); the API is read over HTTPS with
// tokens made by `lifeboat-coordinator token`.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator_process.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "python_server.hpp"
#include "ws_client.hpp"

namespace lifeboat::comms_e2e {

namespace fs = std::filesystem;

// receiver.py's options for each of the plan's receivers.
struct ReceiverOptions {
  std::vector<std::string> people{};        // Slack, Teams, PagerDuty
  std::vector<std::string> drillHook{};     // customers' drill webhook
  std::vector<std::string> customerHook{};  // customers' real webhook
};

class CommsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the receivers, writes the plan and the coordinator's config, and
  // starts the coordinator and waits until it listens.
  void startAll(const ReceiverOptions& options = {});

  // `lifeboat drill|run RUNBOOK` to completion (tests/comms_e2e/RUNBOOK).
  test_support::ProcessResult drill(const std::string& runbook);
  test_support::ProcessResult run(const std::string& runbook);
  // `lifeboat run --yes` in the background; reap with waitpid.
  pid_t startRun(const std::string& runbook);

  // The API over HTTPS as `token` (a name given in SetUp: sam, lee, ines,
  // vera).
  test_support::HttpReply api(const std::string& method, const std::string& target,
                              const std::string& tokenName = "vera", const std::string& body = {});
  // GET, expecting 200 and a JSON object (the test fails otherwise).
  boost::json::object getJson(const std::string& target);
  // The incident of a drill (`drill`) or of a real run; "" while none.
  std::string incidentKey(bool drill);
  boost::json::object incident(const std::string& key);
  // The incident's messages, oldest first (by id).
  std::vector<boost::json::object> messages(const std::string& key);
  // Approves every message of `key` awaiting approval, as sam.
  void approveAll(const std::string& key);

  // Polls `condition` every 100 ms for up to `limit`.
  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds limit = std::chrono::seconds(30));

  fs::path coordinatorDir() const { return temp_.path() / "coordinator"; }
  std::string coordinatorLog() const;

  test_support::TempDir temp_;
  std::map<std::string, std::string> tokens_;  // name -> bearer token
  std::string tokenConfig_;                    // their [[token]] tables
  // Secrets the plan names by ${secret:env:...}; random per test.
  std::string hmacKey_, routingKey_, drillUrl_, customerUrl_;
  std::unique_ptr<comms::testing::PythonServer> people_, drillHook_, customerHook_;
  std::unique_ptr<test_support::CoordinatorProcess> coordinator_;
  fs::path agentConfig_;
};

// Helpers over records and messages.
std::string text(const boost::json::object& object, const char* key);
std::int64_t millis(const boost::json::object& object, const char* key);
bool success(const boost::json::object& record);  // receiver answered 2xx
// Records whose path starts with `prefix`.
std::vector<boost::json::object> at(const std::vector<boost::json::object>& records,
                                    const std::string& prefix);
std::vector<boost::json::object> where(const std::vector<boost::json::object>& messages,
                                       const std::string& audience);

}  // namespace lifeboat::comms_e2e
