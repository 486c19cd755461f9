// Runs the built `dns` plugin (stdin/stdout, as the agent does) against a real
// BIND9 primary, and checks what the server answers with dig on its own.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <memory>

#include "bind_server.hpp"
#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/test_support/plugin_answer.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat {
namespace {

namespace json = boost::json;
using test_servers::BindServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Answers = std::vector<std::string>;

// A well-formed secret that is not the server's (32 bytes of 'A's).
constexpr const char* kWrongSecret = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";

using Answer = test_support::PluginAnswer;

class DnsPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_ = (test_support::binaryDir() / "lib/lifeboat/plugins/dns").string();
    ASSERT_EQ(::access(plugin_.c_str(), X_OK), 0) << plugin_ << " is not built";
    bind_ = std::make_unique<BindServer>(
        temp_.path(), "example.test",
        std::vector<test_servers::DnsRecord>{{.name = "db", .value = "127.0.0.10"},
                                             {.name = "old", .value = "127.0.0.11"}});
    ASSERT_TRUE(bind_->running());
  }

  json::object target(std::string secret = {}) const {
    return {{"server", "127.0.0.1"},
            {"port", bind_->port()},
            {"zone", bind_->zone()},
            {"key_name", bind_->keyName()},
            {"key_secret", secret.empty() ? bind_->keySecret() : secret},
            {"timeout", "2s"},
            {"plugin", "dns"}};
  }

  Answer send(const json::object& request) { return test_support::askPlugin(plugin_, request); }

  Answer act(std::string_view op, std::string_view action, const json::object& params,
             const json::object& on) {
    return send({{"v", 1},
                 {"op", op},
                 {"action", action},
                 {"target", on},
                 {"params", params},
                 {"context", {{"run", "r-1"}, {"step", "s"}, {"drill", false}}}});
  }
  Answer run(std::string_view action, const json::object& params) {
    return act("run", action, params, target());
  }
  Answer check(std::string_view action, const json::object& params) {
    return act("check", action, params, target());
  }

  std::string plugin_;
  test_support::TempDir temp_;
  std::unique_ptr<BindServer> bind_;
};

TEST_F(DnsPluginTest, DescribeMarksTheSecretAndTheProbe) {
  Answer answer = send({{"v", 1}, {"op", "describe"}});
  ASSERT_EQ(answer.process.exitCode, 0) << answer.process.err;
  auto description = plugin::parseDescription(answer.final.at("plugin"));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "dns");
  bool secretMarked = false;
  for (const plugin::ParamSchema& param : description->targetParams) {
    secretMarked = secretMarked || (param.name == "key_secret" && param.secret && param.required);
  }
  EXPECT_TRUE(secretMarked);
  EXPECT_EQ(description->findAction("set_record")->undoneBy, "set_record");
  EXPECT_TRUE(description->findAction("verify")->probe);
  EXPECT_FALSE(description->findAction("delete_record")->probe);
}

TEST_F(DnsPluginTest, SetRecordReplacesTheAddressAndReportsThePreviousOne) {
  Answer answer = run("set_record", {{"name", "db"}, {"value", "127.0.0.20"}, {"ttl", 5}});
  ASSERT_TRUE(answer.ok()) << answer.process.out << answer.process.err;
  EXPECT_EQ(answer.output("fqdn"), "db.example.test");
  EXPECT_EQ(answer.output("previous"), (json::array{"127.0.0.10"}));
  EXPECT_EQ(answer.output("value"), "127.0.0.20");
  EXPECT_THAT(bind_->query("db", "A"), ElementsAre("127.0.0.20"));

  // A fully qualified name inside the zone names the same record; setting the
  // same value again succeeds and reports it as the previous one.
  Answer again =
      run("set_record", {{"name", "db.example.test."}, {"value", "127.0.0.20"}, {"ttl", 5}});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.output("previous"), (json::array{"127.0.0.20"}));
  EXPECT_THAT(bind_->query("db", "A"), ElementsAre("127.0.0.20"));
}

TEST_F(DnsPluginTest, SetRecordHandlesTxtCnameAndAaaa) {
  ASSERT_TRUE(
      run("set_record", {{"name", "note"}, {"type", "TXT"}, {"value", "failed over"}}).ok());
  EXPECT_THAT(bind_->query("note", "TXT"), ElementsAre("\"failed over\""));
  ASSERT_TRUE(
      run("set_record", {{"name", "www"}, {"type", "CNAME"}, {"value", "db.example.test"}}).ok());
  EXPECT_THAT(bind_->query("www", "CNAME"), ElementsAre("db.example.test."));
  ASSERT_TRUE(run("set_record", {{"name", "v6"}, {"type", "AAAA"}, {"value", "2001:DB8::1"}}).ok());
  EXPECT_THAT(bind_->query("v6", "AAAA"), ElementsAre("2001:db8::1"));

  EXPECT_TRUE(check("verify", {{"name", "note"}, {"type", "TXT"}, {"value", "failed over"}}).ok());
  EXPECT_TRUE(
      check("verify", {{"name", "www"}, {"type", "CNAME"}, {"value", "DB.example.test."}}).ok());
  EXPECT_TRUE(check("verify", {{"name", "v6"}, {"type", "AAAA"}, {"value", "2001:db8:0::1"}}).ok());
}

TEST_F(DnsPluginTest, DeleteRecordSaysWhetherSomethingWasThere) {
  Answer removed = run("delete_record", {{"name", "old"}});
  ASSERT_TRUE(removed.ok()) << removed.process.out << removed.process.err;
  EXPECT_EQ(removed.output("removed"), true);
  EXPECT_EQ(removed.output("previous"), (json::array{"127.0.0.11"}));
  EXPECT_THAT(bind_->query("old", "A"), IsEmpty());

  Answer nothing = run("delete_record", {{"name", "old"}});
  ASSERT_TRUE(nothing.ok()) << nothing.error();
  EXPECT_EQ(nothing.output("removed"), false);
}

TEST_F(DnsPluginTest, VerifyComparesTheWholeAnswerSet) {
  Answer exact = check("verify", {{"name", "db"}, {"value", "127.0.0.10"}});
  ASSERT_TRUE(exact.ok()) << exact.error();
  EXPECT_EQ(exact.output("answers"), (json::array{"127.0.0.10"}));

  Answer other = check("verify", {{"name", "db"}, {"value", "127.0.0.99"}});
  EXPECT_FALSE(other.ok());
  EXPECT_EQ(other.process.exitCode, 1);
  EXPECT_THAT(other.error(), HasSubstr("127.0.0.10"));

  EXPECT_TRUE(check("verify", {{"name", "missing"}, {"absent", true}}).ok());
  Answer present = check("verify", {{"name", "db"}, {"absent", true}});
  EXPECT_FALSE(present.ok());
  EXPECT_THAT(present.error(), HasSubstr("should be absent"));
  EXPECT_FALSE(check("verify", {{"name", "missing"}}).ok());
}

TEST_F(DnsPluginTest, AWrongSecretIsAClearErrorAndNoSecretIsEverPrinted) {
  Answer answer =
      act("run", "set_record", {{"name", "db"}, {"value", "127.0.0.30"}}, target(kWrongSecret));
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(answer.process.exitCode, 1);
  EXPECT_THAT(answer.error(), ::testing::AnyOf(HasSubstr("BADSIG"), HasSubstr("BADKEY")));
  EXPECT_THAT(answer.error(), HasSubstr("NOTAUTH"));
  EXPECT_THAT(answer.hint(), HasSubstr("key_secret"));
  EXPECT_THAT(bind_->query("db", "A"), ElementsAre("127.0.0.10"));

  Answer good = run("set_record", {{"name", "db"}, {"value", "127.0.0.31"}});
  ASSERT_TRUE(good.ok()) << good.error();
  for (const Answer* each : {&answer, &good}) {
    for (const std::string& secret : {std::string(kWrongSecret), bind_->keySecret()}) {
      EXPECT_THAT(each->process.out, ::testing::Not(HasSubstr(secret)));
      EXPECT_THAT(each->process.err, ::testing::Not(HasSubstr(secret)));
    }
  }
}

TEST_F(DnsPluginTest, InjectionAttemptsAreRefusedBeforeAnythingRuns) {
  const std::vector<json::object> attempts = {
      {{"name", "a\nupdate delete example.test"}, {"value", "127.0.0.1"}},
      {{"name", "db"}, {"value", "127.0.0.1\nupdate delete example.test"}},
      {{"name", "db example.test"}, {"value", "127.0.0.1"}},
      {{"name", "db"}, {"value", "127.0.0.1 ; x"}},
      {{"name", "note"}, {"type", "TXT"}, {"value", "x\"\nupdate delete example.test"}},
      {{"name", "note"}, {"type", "TXT"}, {"value", "back\\slash"}},
      {{"name", "www"}, {"type", "CNAME"}, {"value", "db.example.test\nsend"}},
      {{"name", "elsewhere.example.org."}, {"value", "127.0.0.1"}},
  };
  for (const json::object& params : attempts) {
    Answer answer = run("set_record", params);
    EXPECT_EQ(answer.process.exitCode, 2) << json::serialize(params) << answer.process.out;
    EXPECT_THAT(answer.error(), HasSubstr("invalid request")) << json::serialize(params);
  }
  json::object badZone = target();
  badZone["zone"] = "example.test.\nupdate delete example.test";
  EXPECT_EQ(
      act("run", "set_record", {{"name", "db"}, {"value", "127.0.0.1"}}, badZone).process.exitCode,
      2);
  json::object badSecret = target();
  badSecret["key_secret"] = "c2VjcmV0\nupdate delete example.test";
  Answer secret = act("run", "delete_record", {{"name", "db"}}, badSecret);
  EXPECT_EQ(secret.process.exitCode, 2);
  EXPECT_THAT(secret.process.out, ::testing::Not(HasSubstr("c2VjcmV0")));
  // Nothing reached the server.
  EXPECT_THAT(bind_->query("db", "A"), ElementsAre("127.0.0.10"));
  EXPECT_THAT(bind_->query("@", "SOA"), ::testing::SizeIs(1));
}

TEST_F(DnsPluginTest, AnUnreachableServerIsNamed) {
  json::object nowhere = target();
  bind_->stop();
  Answer answer = act("check", "verify", {{"name", "db"}, {"absent", true}}, nowhere);
  EXPECT_EQ(answer.process.exitCode, 1);
  EXPECT_THAT(answer.error(), HasSubstr("127.0.0.1 port " + std::to_string(bind_->port())));
}

}  // namespace
}  // namespace lifeboat
