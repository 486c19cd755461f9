#pragma once
// The comms engine against real parts: an events store written with the
// coordinator's Store, a plan parsed from TOML, and receiver.py
// (tests/comms_channels) on 127.0.0.1 as every channel's endpoint.

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lifeboat/comms/engine.hpp"
#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "python_server.hpp"

namespace lifeboat::comms::testing {

inline constexpr const char* kWebhookKey = "engine-test-hmac-key-0042";

// Events of one run, with increasing seq and times from `start`.
class RunEvents {
 public:
  RunEvents(std::string agent, std::string run, Timestamp start, std::uint64_t firstSeq = 1)
      : agent_(std::move(agent)), run_(std::move(run)), time_(start), seq_(firstSeq) {}

  Event make(std::string type, std::string step, boost::json::object data);
  // run.started of a runbook for `service` with one restores_service step
  // "promote", RTO 10m and RPO 1m.
  Event started(const std::string& service, bool drill);
  Event stepOk(const std::string& step);
  Event finished(const std::string& outcome);

 private:
  std::string agent_, run_;
  Timestamp time_;
  std::uint64_t seq_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Parses `plan` after replacing "@PORT@" with the receiver's port.
  Plan plan(std::string text) const;
  void startEngine(Plan plan);
  void stopEngine();
  void append(const std::vector<Event>& events);

  // The engine's messages (newest first), or those of one incident.
  boost::json::array messages(const std::string& incident = {});
  // The messages whose `field` equals `value`.
  std::vector<boost::json::object> messagesWhere(const std::string& field,
                                                 const std::string& value);
  // Requests the receiver recorded on `path` (e.g. "/webhook/eng").
  std::vector<boost::json::object> received(const std::string& path) const;

  // Polls `condition` every 20 ms; false after `timeout`.
  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds timeout = std::chrono::seconds(15));

  test_support::TempDir directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<PythonServer> receiver_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::string> log_;
  std::vector<std::string> receiverArguments_{};
};

std::string text(const boost::json::object& object, std::string_view key);

}  // namespace lifeboat::comms::testing
