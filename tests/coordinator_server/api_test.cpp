// The people's side: bearer tokens and roles, the JSON API's shapes, notes,
// the live websocket and the embedded dashboard.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "server_fixture.hpp"

namespace lifeboat::coordinator {
namespace {

namespace json = boost::json;
using test_support::WsClient;

class ApiTest : public CoordinatorTest {
 protected:
  // db-eu-1 streams run-1, seq 1..3, and waits for the ack.
  void streamRun() {
    auto agent = agentOnline();
    ASSERT_NE(agent, nullptr);
    ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 1, 3)), "");
    ASSERT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":3}");
    agent->close();
  }
};

TEST_F(ApiTest, NoTokenOrAnUnknownOneIs401WithBearerChallenge) {
  for (const std::string token : {"", "not-a-known-token"}) {
    test_support::HttpReply reply = api("GET", "/api/v1/runs", token);
    EXPECT_EQ(reply.status, 401) << reply.error;
    EXPECT_EQ(reply.header("WWW-Authenticate"), "Bearer");
    EXPECT_TRUE(json::parse(reply.body).as_object().contains("error")) << reply.body;
  }
  EXPECT_EQ(log().find("not-a-known-token"), std::string::npos);
}

TEST_F(ApiTest, AViewerMayNotAddNotesAnOperatorMay) {
  streamRun();
  const std::string note = R"({"text":"paged the DBA"})";
  test_support::HttpReply refused =
      api("POST", "/api/v1/runs/db-eu-1/run-1/notes", kViewerToken, note);
  EXPECT_EQ(refused.status, 403) << refused.body;
  test_support::HttpReply added =
      api("POST", "/api/v1/runs/db-eu-1/run-1/notes", kOperatorToken, note);
  ASSERT_EQ(added.status, 201) << added.body << added.error;
  json::value body = json::parse(added.body);
  EXPECT_EQ(body.at("note").at("author"), "otto");
  EXPECT_EQ(body.at("note").at("text"), "paged the DBA");
  test_support::HttpReply run = api("GET", "/api/v1/runs/db-eu-1/run-1", kViewerToken);
  ASSERT_EQ(run.status, 200) << run.body;
  EXPECT_EQ(json::parse(run.body).at("run").at("notes").as_array().size(), 1u);
  EXPECT_EQ(api("POST", "/api/v1/runs/db-eu-1/no-such-run/notes", kOperatorToken, note).status,
            404);
  EXPECT_EQ(api("POST", "/api/v1/runs/db-eu-1/run-1/notes", kOperatorToken, "{}").status, 400);
  EXPECT_EQ(api("POST", "/api/v1/runs/db-eu-1/run-1/notes", kOperatorToken,
                R"({"text":")" + std::string(70 * 1024, 'x') + R"("})")
                .status,
            413);
}

TEST_F(ApiTest, ReadsHaveTheDocumentedShapes) {
  streamRun();
  json::value me = json::parse(api("GET", "/api/v1/me", kViewerToken).body);
  EXPECT_EQ(me, json::parse(R"({"name":"vera","role":"viewer"})"));

  test_support::HttpReply runs = api("GET", "/api/v1/runs?agent=db-eu-1&limit=10", kViewerToken);
  ASSERT_EQ(runs.status, 200) << runs.body;
  const json::value runsBody = json::parse(runs.body);
  const json::array& list = runsBody.at("runs").as_array();
  ASSERT_EQ(list.size(), 1u);
  for (const char* key :
       {"agent", "run", "runbook_name", "service", "drill", "started_at", "finished_at", "outcome",
        "live", "outage_start", "rto", "rpo", "events"}) {
    EXPECT_TRUE(list[0].as_object().contains(key)) << key << " in " << runs.body;
  }
  EXPECT_EQ(list[0].at("events"), 3);

  test_support::HttpReply events = api("GET", "/api/v1/events?agent=db-eu-1&limit=2", kViewerToken);
  ASSERT_EQ(events.status, 200) << events.body;
  json::value page = json::parse(events.body);
  ASSERT_EQ(page.at("events").as_array().size(), 2u);
  EXPECT_EQ(page.at("events").as_array()[0].at("seq"), 1);
  const std::int64_t next = page.at("next").as_int64();
  EXPECT_EQ(page.at("events").as_array()[1].at("id").as_int64(), next);
  json::value rest = json::parse(
      api("GET", "/api/v1/events?agent=db-eu-1&after=" + std::to_string(next), kViewerToken).body);
  ASSERT_EQ(rest.at("events").as_array().size(), 1u);
  EXPECT_EQ(rest.at("events").as_array()[0].at("seq"), 3);

  test_support::HttpReply objectives = api("GET", "/api/v1/objectives", kViewerToken);
  ASSERT_EQ(objectives.status, 200);
  EXPECT_TRUE(json::parse(objectives.body).at("objectives").is_array());

  EXPECT_EQ(api("GET", "/api/v1/runs/db-eu-1/nope", kViewerToken).status, 404);
  EXPECT_EQ(api("GET", "/api/v1/runs?limit=abc", kViewerToken).status, 400);
  EXPECT_EQ(api("GET", "/api/v1/nothing-here", kViewerToken).status, 404);
  EXPECT_EQ(api("DELETE", "/api/v1/runs", kOperatorToken).status, 405);
}

TEST_F(ApiTest, TheLiveFeedPushesAnEventOnceItIsCommitted) {
  std::string error;
  auto refused =
      WsClient::connect(apiPort_, {testCertificates().ca, {}, {}}, "/api/v1/live", error);
  EXPECT_EQ(refused, nullptr);
  EXPECT_NE(error.find("401"), std::string::npos) << error;

  auto live = WsClient::connect(apiPort_, {testCertificates().ca, {}, {}},
                                std::string("/api/v1/live?access_token=") + kViewerToken, error);
  ASSERT_NE(live, nullptr) << error;
  auto agent = agentOnline();
  ASSERT_NE(agent, nullptr);
  // The agent coming online is announced first.
  std::optional<std::string> first = live->receive();
  ASSERT_TRUE(first.has_value()) << live->lastError();
  json::value online = json::parse(*first);
  EXPECT_EQ(online.at("kind"), "agent");
  EXPECT_EQ(online.at("agent").at("name"), "db-eu-1");

  ASSERT_EQ(agent->send(batch("db-eu-1", "run-1", 7, 7)), "");
  ASSERT_EQ(agent->receive().value_or(agent->lastError()), "{\"ack\":7}");
  for (int i = 0; i < 3; ++i) {
    std::optional<std::string> message = live->receive();
    ASSERT_TRUE(message.has_value()) << live->lastError();
    json::value pushed = json::parse(*message);
    if (pushed.at("kind") != "event") {
      continue;  // the hello's update of the agent
    }
    EXPECT_EQ(pushed.at("event").at("seq"), 7);
    EXPECT_EQ(pushed.at("event").at("agent"), "db-eu-1");
    EXPECT_TRUE(pushed.at("event").as_object().contains("id"));
    return;
  }
  ADD_FAILURE() << "no event on the live feed";
}

TEST_F(ApiTest, TheLiveFeedTakesTheTokenInTheHeaderToo) {
  std::string error;
  auto live = WsClient::connect(apiPort_, {testCertificates().ca, {}, {}}, "/api/v1/live", error,
                                {{"Authorization", std::string("Bearer ") + kViewerToken}});
  EXPECT_NE(live, nullptr) << error;
}

TEST_F(ApiTest, TheDashboardIsServedWithItsContentTypesAndACsp) {
  const std::pair<const char*, const char*> files[] = {
      {"/", "text/html; charset=utf-8"},
      {"/app.js", "text/javascript; charset=utf-8"},
      {"/app.css", "text/css; charset=utf-8"}};
  for (const auto& [path, type] : files) {
    test_support::HttpReply reply = api("GET", path);
    EXPECT_EQ(reply.status, 200) << path;
    EXPECT_EQ(reply.header("Content-Type"), type) << path;
    EXPECT_EQ(reply.header("Content-Security-Policy"), "default-src 'self'") << path;
    EXPECT_EQ(reply.header("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_FALSE(reply.body.empty()) << path;
  }
  const std::string index =
      test_support::readText(test_support::sourceDir() / "coordinator/dashboard/index.html");
  EXPECT_EQ(api("GET", "/").body, index);
  EXPECT_EQ(api("GET", "/missing.js").status, 404);
}

}  // namespace
}  // namespace lifeboat::coordinator
