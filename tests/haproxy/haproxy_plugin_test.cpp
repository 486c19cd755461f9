// Runs the built `haproxy` plugin (stdin/stdout, as the agent does) against a
// real HAProxy with two greeters behind it, and checks with real TCP traffic
// where new and held connections go.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <memory>

#include "greeter.hpp"
#include "haproxy_server.hpp"
#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/test_support/plugin_answer.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat {
namespace {

namespace json = boost::json;
using test_servers::Greeter;
using test_servers::greetingAt;
using test_servers::HaproxyConfig;
using test_servers::HaproxyServer;
using test_servers::HeldConnection;
using ::testing::HasSubstr;

using Answer = test_support::PluginAnswer;

class HaproxyPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_ = (test_support::binaryDir() / "lib/lifeboat/plugins/haproxy").string();
    ASSERT_EQ(::access(plugin_.c_str(), X_OK), 0) << plugin_ << " is not built";
    primary_ = std::make_unique<Greeter>("primary", "127.0.0.1");
    standby_ = std::make_unique<Greeter>("standby", "127.0.0.2");
    copy_ = std::make_unique<Greeter>("copy", "127.0.0.1");
    HaproxyConfig config;
    config.backends.push_back(
        {.name = "pg",
         .servers = {{.name = "primary", .address = "127.0.0.1", .port = primary_->port()},
                     {.name = "standby",
                      .address = "127.0.0.2",
                      .port = standby_->port(),
                      .ready = false}}});
    config.backends.push_back(
        {.name = "pg_drill",
         .servers = {{.name = "copy", .address = "127.0.0.1", .port = 1, .ready = false}}});
    haproxy_ = std::make_unique<HaproxyServer>(temp_.path(), config);
    ASSERT_TRUE(haproxy_->running());
    // The primary's first health check passes within a few intervals.
    ASSERT_TRUE(waitUntil([&] { return greetingAt(haproxy_->frontendPort("pg")) == "primary"; }));
  }

  template <class Condition>
  static bool waitUntil(Condition condition) {
    for (int round = 0; round < 100; ++round) {
      if (condition()) {
        return true;
      }
      ::usleep(50'000);
    }
    return false;
  }

  Answer send(const json::object& request) { return test_support::askPlugin(plugin_, request); }

  Answer act(std::string_view op, std::string_view action, const json::object& params,
             std::string backend = "pg", std::string socket = {}) {
    if (socket.empty()) {
      socket = haproxy_->socketPath().string();
    }
    return send({{"v", 1},
                 {"op", op},
                 {"action", action},
                 {"target", {{"socket", socket}, {"backend", backend}, {"plugin", "haproxy"}}},
                 {"params", params},
                 {"context", {{"run", "r-1"}, {"step", "s"}, {"drill", false}}}});
  }
  Answer run(std::string_view action, const json::object& params, std::string backend = "pg") {
    return act("run", action, params, std::move(backend));
  }
  Answer check(std::string_view action, const json::object& params) {
    return act("check", action, params);
  }

  std::string plugin_;
  test_support::TempDir temp_;
  std::unique_ptr<Greeter> primary_;
  std::unique_ptr<Greeter> standby_;
  std::unique_ptr<Greeter> copy_;
  std::unique_ptr<HaproxyServer> haproxy_;
};

TEST_F(HaproxyPluginTest, DescribeDeclaresTheActions) {
  Answer answer = send({{"v", 1}, {"op", "describe"}});
  ASSERT_EQ(answer.process.exitCode, 0) << answer.process.err;
  auto description = plugin::parseDescription(answer.final.at("plugin"));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "haproxy");
  ASSERT_NE(description->findAction("switch"), nullptr);
  EXPECT_EQ(description->findAction("switch")->undoneBy, "switch");
  EXPECT_TRUE(description->findAction("status")->probe);
  EXPECT_TRUE(description->findAction("verify")->probe);
  for (const char* action : {"drain", "set_address", "disable"}) {
    ASSERT_NE(description->findAction(action), nullptr) << action;
    EXPECT_FALSE(description->findAction(action)->probe) << action;
  }
}

TEST_F(HaproxyPluginTest, StatusReportsEachServerAndTheActiveOne) {
  Answer answer = check("status", {});
  ASSERT_TRUE(answer.ok()) << answer.process.out << answer.process.err;
  const json::object& servers = answer.output("servers").as_object();
  ASSERT_EQ(servers.size(), 2u);
  const json::object& primary = servers.at("primary").as_object();
  EXPECT_EQ(primary.at("address"), "127.0.0.1");
  EXPECT_EQ(primary.at("port"), primary_->port());
  EXPECT_EQ(primary.at("admin"), "ready");
  EXPECT_EQ(primary.at("operational"), "up");
  EXPECT_EQ(primary.at("check"), "L4OK");
  const json::object& standby = servers.at("standby").as_object();
  EXPECT_EQ(standby.at("address"), "127.0.0.2");
  EXPECT_EQ(standby.at("admin"), "maint");
  EXPECT_EQ(answer.output("active"), (json::array{"primary"}));
}

TEST_F(HaproxyPluginTest, SwitchMovesNewConnectionsAndClosesHeldOnes) {
  HeldConnection held(haproxy_->frontendPort("pg"));
  ASSERT_EQ(held.greeting(), "primary");

  Answer switched = run("switch", {{"to", "standby"}});
  ASSERT_TRUE(switched.ok()) << switched.process.out << switched.process.err;
  EXPECT_EQ(switched.process.exitCode, 0);
  EXPECT_EQ(switched.output("previous"), (json::array{"primary"}));
  EXPECT_EQ(switched.output("active"), (json::array{"standby"}));
  EXPECT_THAT(std::string(switched.output("switched_at").as_string()), HasSubstr("T"));

  EXPECT_TRUE(held.closedWithin(2000)) << "the connection held to the old primary stays open";
  for (int round = 0; round < 5; ++round) {
    EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg")), "standby");
  }
  EXPECT_THAT(haproxy_->runtime("show servers state pg"), HasSubstr("primary"));

  // Idempotent: switching again to where traffic already goes succeeds.
  Answer again = run("switch", {{"to", "standby"}});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.output("previous"), (json::array{"standby"}));

  // verify: standby alone serves; primary does not.
  EXPECT_TRUE(check("verify", {{"active", "standby"}}).ok());
  Answer wrong = check("verify", {{"active", "primary"}});
  EXPECT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.process.exitCode, 1);
  EXPECT_THAT(wrong.error(), HasSubstr("primary is maint"));
  EXPECT_THAT(wrong.error(), HasSubstr("standby"));

  // The undo is a switch back.
  Answer back = run("switch", {{"to", "primary"}});
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg")), "primary");
}

TEST_F(HaproxyPluginTest, SwitchToAServerThatNeverComesUpFailsAndChangesNothing) {
  standby_.reset();  // nobody listens on the standby's address any more
  Answer answer = run("switch", {{"to", "standby"}, {"wait_up", "1s"}});
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(answer.process.exitCode, 1);
  EXPECT_THAT(answer.error(), HasSubstr("pg/standby"));
  EXPECT_THAT(answer.error(), HasSubstr("did not come up within 1s"));
  EXPECT_THAT(answer.hint(), HasSubstr("127.0.0.2"));
  EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg")), "primary");
  Answer status = check("status", {});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status.output("servers").at("standby").at("admin"), "maint");
  EXPECT_EQ(status.output("active"), (json::array{"primary"}));
}

TEST_F(HaproxyPluginTest, DrainKeepsHeldConnectionsAndSwitchWithDrainLeavesOthersDraining) {
  HeldConnection held(haproxy_->frontendPort("pg"));
  ASSERT_EQ(held.greeting(), "primary");
  Answer switched = run("switch", {{"to", "standby"}, {"others", "drain"}});
  ASSERT_TRUE(switched.ok()) << switched.error();
  EXPECT_FALSE(held.closedWithin(300)) << "drain must let existing sessions finish";
  EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg")), "standby");
  Answer status = check("status", {});
  EXPECT_EQ(status.output("servers").at("primary").at("admin"), "drain");

  Answer drained = run("drain", {{"server", "standby"}});
  ASSERT_TRUE(drained.ok()) << drained.error();
  EXPECT_EQ(drained.output("admin"), "drain");
}

TEST_F(HaproxyPluginTest, SetAddressPointsTheDrillBackendAtACopyAndDisableTakesItOut) {
  Answer moved =
      run("set_address", {{"server", "copy"}, {"address", "127.0.0.1"}, {"port", copy_->port()}},
          "pg_drill");
  ASSERT_TRUE(moved.ok()) << moved.process.out << moved.process.err;
  EXPECT_EQ(moved.output("previous_port"), 1);
  EXPECT_EQ(moved.output("port"), copy_->port());
  EXPECT_EQ(moved.output("address"), "127.0.0.1");

  Answer ready = run("switch", {{"to", "copy"}}, "pg_drill");
  ASSERT_TRUE(ready.ok()) << ready.error();
  HeldConnection drill(haproxy_->frontendPort("pg_drill"));
  EXPECT_EQ(drill.greeting(), "copy");
  // Production traffic is untouched.
  EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg")), "primary");

  Answer disabled = run("disable", {{"server", "copy"}}, "pg_drill");
  ASSERT_TRUE(disabled.ok()) << disabled.error();
  EXPECT_EQ(disabled.output("admin"), "maint");
  EXPECT_TRUE(drill.closedWithin(2000));
  EXPECT_EQ(greetingAt(haproxy_->frontendPort("pg_drill")), "");
}

TEST_F(HaproxyPluginTest, NamesThatCouldInjectCommandsAreRefusedBeforeAnythingIsSent) {
  // A socket that does not exist: had the plugin tried to send, the answer
  // would be exit 1 naming the socket.
  const std::string nowhere = (temp_.path() / "nowhere.sock").string();
  for (const char* bad : {"standby\nshutdown sessions server pg/primary", "a b", "x;y", ""}) {
    Answer answer = act("run", "switch", {{"to", bad}}, "pg", nowhere);
    EXPECT_EQ(answer.process.exitCode, 2) << bad << ": " << answer.process.out;
    EXPECT_FALSE(answer.ok());
    EXPECT_THAT(answer.error(), ::testing::Not(HasSubstr("nowhere.sock")));
  }
  Answer badBackend = act("check", "status", {}, "pg\nset server pg/standby state ready", nowhere);
  EXPECT_EQ(badBackend.process.exitCode, 2);
  EXPECT_THAT(badBackend.error(), HasSubstr("target 'backend'"));
  Answer badAddress = run(
      "set_address", {{"server", "copy"}, {"address", "127.0.0.1 port 1\nshow info"}, {"port", 80}},
      "pg_drill");
  EXPECT_EQ(badAddress.process.exitCode, 2);
  EXPECT_THAT(badAddress.error(), HasSubstr("param 'address'"));
  // The real HAProxy saw nothing: the standby is still in maintenance.
  EXPECT_EQ(check("status", {}).output("active"), (json::array{"primary"}));
}

TEST_F(HaproxyPluginTest, UnknownServerAndBackendAreNamed) {
  Answer server = run("switch", {{"to", "nosuch"}});
  EXPECT_EQ(server.process.exitCode, 1);
  EXPECT_THAT(server.error(), HasSubstr("has no server 'nosuch'"));
  EXPECT_THAT(server.error(), HasSubstr("primary, standby"));
  Answer backend = act("check", "status", {}, "nosuch");
  EXPECT_EQ(backend.process.exitCode, 1);
  EXPECT_THAT(backend.error(), HasSubstr("no backend 'nosuch'"));
}

TEST_F(HaproxyPluginTest, AMissingSocketNamesThePathAndTheConfigLine) {
  const std::string missing = (temp_.path() / "missing.sock").string();
  Answer answer = act("check", "status", {}, "pg", missing);
  EXPECT_EQ(answer.process.exitCode, 1);
  EXPECT_THAT(answer.error(), HasSubstr(missing));
  EXPECT_THAT(answer.error(), HasSubstr("does not exist"));
  EXPECT_THAT(answer.hint(), HasSubstr("stats socket " + missing));
  EXPECT_THAT(answer.hint(), HasSubstr("level admin"));
}

}  // namespace
}  // namespace lifeboat
