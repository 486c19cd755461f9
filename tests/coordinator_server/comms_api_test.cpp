// The comms routes over real HTTPS: who may approve and resolve, the
// public status page without a token, and the answers without [comms].

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "lifeboat/coordinator/tokens.hpp"
#include "server_fixture.hpp"

namespace lifeboat::coordinator {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kSpokespersonToken = "spokesperson-token-0123456789";
constexpr const char* kOtherApproverToken = "approver-token-0123456789";

class CommsApiTest : public CoordinatorTest {
 protected:
  std::string extraConfig() override {
    // Messages to customers wait for Sam; the status page is theirs too.
    // The webhook points at a closed port: nothing here needs delivery.
    dir_.write("comms.toml", R"toml(
[channels.hook]
kind = "webhook"
url = "http://127.0.0.1:1/hook"
secret = "${secret:env:LB_COMMS_API_TEST_KEY}"
[roles.incident_commander]
person = "Dana"
channels = ["hook"]
[roles.spokesperson]
person = "Sam"
tokens = ["sam"]
[audiences.customers]
channels = ["status_page"]
external = true
approval = "spokesperson"
[templates.opened]
subject = "{{service_name}} is down"
body = "We are on it <b>now</b>."
[[rules]]
on = "opened"
audiences = ["customers"]
template = "opened"
)toml");
    ::setenv("LB_COMMS_API_TEST_KEY", "a-key-for-the-hook-0001", 1);
    return "[comms]\nplan = \"comms.toml\"\n[[token]]\nname = \"sam\"\nrole = "
           "\"approver\"\nsha256 = \"" +
           sha256Hex(kSpokespersonToken) +
           "\"\n[[token]]\nname = \"abe\"\nrole = \"approver\"\nsha256 = \"" +
           sha256Hex(kOtherApproverToken) + "\"\n";
  }

  // db-eu-1 starts a real run of "orders"; returns the message awaiting approval.
  json::object awaitingMessage() {
    Event started = testEvent("db-eu-1", "run-1", 1, "run.started");
    started.data = {{"service", "orders"}, {"runbook_name", "orders-failover"}, {"drill", false}};
    auto agent = agentOnline();
    EXPECT_NE(agent, nullptr);
    if (!agent) {
      return {};
    }
    EXPECT_EQ(agent->send(encodeEvent(started)), "");
    EXPECT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":1}");
    for (int i = 0; i < 200; ++i) {
      test_support::HttpReply reply =
          api("GET", "/api/v1/messages?state=awaiting_approval", kViewerToken);
      if (reply.status == 200) {
        const json::value answer = json::parse(reply.body);
        const json::array& list = answer.at("messages").as_array();
        if (!list.empty()) {
          return list[0].as_object();
        }
      }
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "no message awaits approval\n" << log();
    return {};
  }
};

TEST_F(CommsApiTest, OnlyTheSpokespersonMayApproveAndTheStatusPageIsPublic) {
  const json::object message = awaitingMessage();
  ASSERT_FALSE(message.empty());
  const std::string approve =
      "/api/v1/messages/" + std::to_string(message.at("id").as_int64()) + "/approve";
  EXPECT_EQ(api("POST", approve, "", "{}").status, 401);
  EXPECT_EQ(api("POST", approve, kViewerToken, "{}").status, 403);
  test_support::HttpReply notSpokesperson = api("POST", approve, kOtherApproverToken, "{}");
  EXPECT_EQ(notSpokesperson.status, 403);
  EXPECT_NE(notSpokesperson.body.find("not a spokesperson"), std::string::npos);
  EXPECT_EQ(api("POST", approve, kSpokespersonToken, R"({"subject":"a\nb"})").status, 400);
  // Nothing is public before the approval.
  test_support::HttpReply before = api("GET", "/status.json");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_TRUE(json::parse(before.body).at("incidents").as_array().empty());

  test_support::HttpReply approved =
      api("POST", approve, kSpokespersonToken, R"({"body":"Edited: we are on it."})");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(json::parse(approved.body).at("message").at("state"), "sent");
  EXPECT_EQ(json::parse(approved.body).at("message").at("approved_by"), "sam");
  EXPECT_EQ(api("POST", approve, kSpokespersonToken, "{}").status, 409);

  // The status page, without a token: HTML with its stylesheet, JSON, Atom.
  test_support::HttpReply status = api("GET", "/status.json");
  ASSERT_EQ(status.status, 200);
  const json::value body = json::parse(status.body);
  ASSERT_EQ(body.at("incidents").as_array().size(), 1u) << status.body;
  EXPECT_EQ(body.at("incidents").at(0).at("updates").at(0).at("body"), "Edited: we are on it.");
  test_support::HttpReply html = api("GET", "/status");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(html.body.find("Edited: we are on it."), std::string::npos);
  EXPECT_EQ(api("GET", "/status/style.css").header("Content-Type"), "text/css; charset=utf-8");
  test_support::HttpReply atom = api("GET", "/status/feed.atom");
  EXPECT_EQ(atom.status, 200);
  EXPECT_NE(atom.body.find("<entry>"), std::string::npos);
  EXPECT_EQ(api("POST", "/status", "", "{}").status, 405);
}

TEST_F(CommsApiTest, ResolvingNeedsAnOperatorAndTheSummaryIsMarkdown) {
  const json::object message = awaitingMessage();
  ASSERT_FALSE(message.empty());
  const std::string incident(message.at("incident").as_string());
  EXPECT_EQ(api("POST", "/api/v1/incidents/" + incident + "/resolve", kViewerToken, "{}").status,
            403);
  test_support::HttpReply resolved = api("POST", "/api/v1/incidents/" + incident + "/resolve",
                                         kOperatorToken, R"({"note":"back by hand"})");
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(json::parse(resolved.body).at("incident").at("state"), "resolved");
  EXPECT_EQ(api("POST", "/api/v1/incidents/" + incident + "/resolve", kOperatorToken, "{}").status,
            409);
  EXPECT_EQ(api("POST", "/api/v1/incidents/no-such/resolve", kOperatorToken, "{}").status, 404);
  test_support::HttpReply summary =
      api("GET", "/api/v1/incidents/" + incident + "/summary", kViewerToken);
  ASSERT_EQ(summary.status, 200);
  EXPECT_EQ(summary.header("Content-Type"), "text/markdown; charset=utf-8");
  EXPECT_NE(summary.body.find("# Post-incident summary: orders"), std::string::npos)
      << summary.body;
  EXPECT_NE(summary.body.find("by otto"), std::string::npos) << summary.body;
  test_support::HttpReply channels = api("GET", "/api/v1/channels", kViewerToken);
  ASSERT_EQ(channels.status, 200);
  EXPECT_EQ(channels.body.find("a-key-for-the-hook"), std::string::npos);
}

TEST_F(CoordinatorTest, WithoutCommsTheRoutesSayWhatToConfigure) {
  test_support::HttpReply incidents = api("GET", "/api/v1/incidents", kViewerToken);
  EXPECT_EQ(incidents.status, 404);
  EXPECT_NE(incidents.body.find("[comms]"), std::string::npos) << incidents.body;
  EXPECT_EQ(api("GET", "/status").status, 404);
}

}  // namespace
}  // namespace lifeboat::coordinator
