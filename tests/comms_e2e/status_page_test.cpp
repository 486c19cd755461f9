// The public status page of a real incident: `lifeboat run` streams real
// events, the customers' messages are published once the spokesperson
// approves them, and the page (HTML, JSON, Atom) shows those and never a
// drill nor a rejected message.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "comms_e2e_fixture.hpp"

namespace lifeboat::comms_e2e {
namespace {

namespace json = boost::json;
using test_support::HttpReply;
using test_support::ProcessResult;

TEST_F(CommsEndToEnd, StatusPageShowsApprovedUpdatesOfRealIncidentsAndNeverADrill) {
  startAll();
  // No token: the status page is public.
  auto page = [&](const std::string& target) {
    const HttpReply reply = test_support::httpsRequest(
        coordinator_->apiPort(), {coordinator_->tls("ca.pem"), {}, {}}, "GET", target);
    EXPECT_EQ(reply.status, 200) << target << ": " << reply.error << reply.body;
    return reply;
  };
  auto statusJson = [&] {
    boost::system::error_code error;
    json::value value = json::parse(page("/status.json").body, error);
    EXPECT_FALSE(error);
    return error ? json::object{} : value.as_object();
  };

  // A drill, fully approved: sent to the drill webhook, never published.
  const ProcessResult drilled = drill("quick.toml");
  ASSERT_EQ(drilled.exitCode, 0) << drilled.err;
  std::string drillKey;
  ASSERT_TRUE(eventually([&] {
    drillKey = incidentKey(true);
    return !drillKey.empty() && text(incident(drillKey), "state") == "resolved";
  })) << coordinator_->log();
  approveAll(drillKey);
  ASSERT_TRUE(eventually([&] { return drillHook_->records().size() >= 3; }));
  EXPECT_EQ(text(statusJson(), "status"), "operational");
  EXPECT_TRUE(statusJson().at("incidents").as_array().empty()) << json::serialize(statusJson());

  // A real run: nothing is public before the spokesperson approves.
  const ProcessResult ran = run("quick.toml");
  ASSERT_EQ(ran.exitCode, 0) << ran.err;
  std::string key;
  ASSERT_TRUE(eventually([&] {
    key = incidentKey(false);
    return !key.empty() && text(incident(key), "state") == "resolved";
  })) << coordinator_->log();
  EXPECT_TRUE(statusJson().at("incidents").as_array().empty()) << json::serialize(statusJson());
  EXPECT_EQ(
      test_support::httpsRequest(coordinator_->apiPort(), {coordinator_->tls("ca.pem"), {}, {}},
                                 "GET", "/status/incidents/" + key)
          .status,
      404);

  // Approve the opening and the restoration; reject the resolution.
  for (const json::object& message : where(messages(key), "customers")) {
    if (text(message, "channel") != "status_page") {
      continue;
    }
    const std::string id = std::to_string(message.at("id").as_int64());
    const HttpReply reply = text(message, "trigger") == "resolved"
                                ? api("POST", "/api/v1/messages/" + id + "/reject", "sam",
                                      R"({"reason":"we say it once we are sure"})")
                                : api("POST", "/api/v1/messages/" + id + "/approve", "sam", "{}");
    EXPECT_EQ(reply.status, 200) << reply.body;
  }
  ASSERT_TRUE(eventually([&] { return customerHook_->records().size() >= 2; }));

  const json::object status = statusJson();
  ASSERT_EQ(status.at("incidents").as_array().size(), 1u) << json::serialize(status);
  const json::object& shown = status.at("incidents").as_array()[0].as_object();
  EXPECT_EQ(text(shown, "key"), key);
  EXPECT_EQ(text(shown, "service_name"), "E2E Shop");
  std::vector<std::string> subjects;
  for (const json::value& update : shown.at("updates").as_array()) {
    subjects.push_back(text(update.as_object(), "subject"));
  }
  std::sort(subjects.begin(), subjects.end());
  EXPECT_EQ(subjects, (std::vector<std::string>{"opened: E2E Shop is down",
                                                "restored: E2E Shop works again"}))
      << json::serialize(status);

  const std::string html = page("/status").body;
  const std::string atom = page("/status/feed.atom").body;
  const std::string incidentHtml = page("/status/incidents/" + key).body;
  EXPECT_NE(html.find("<title>E2E Shop status</title>"), std::string::npos) << html;
  EXPECT_NE(atom.find("<feed xmlns=\"http://www.w3.org/2005/Atom\""), std::string::npos) << atom;
  for (const std::string* body : {&html, &atom, &incidentHtml}) {
    EXPECT_NE(body->find("opened: E2E Shop is down"), std::string::npos) << *body;
    EXPECT_NE(body->find("restored: E2E Shop works again"), std::string::npos) << *body;
    EXPECT_EQ(body->find("DRILL"), std::string::npos) << *body;
    EXPECT_EQ(body->find(drillKey), std::string::npos) << *body;
  }
  // Text is escaped for HTML and XML, and only there.
  for (const std::string* body : {&html, &atom, &incidentHtml}) {
    EXPECT_NE(body->find("&lt;cart&gt; &amp; &quot;pay&quot; fail."), std::string::npos) << *body;
    EXPECT_EQ(body->find("<cart>"), std::string::npos) << *body;
  }
  EXPECT_NE(json::serialize(status).find(R"(<cart> & \"pay\" fail.)"), std::string::npos)
      << json::serialize(status);
  // (The incident's own page is checked for rejected text below.)
  for (const std::string* body : {&html, &atom}) {
    EXPECT_EQ(body->find("resolved: E2E Shop"), std::string::npos) << "rejected\n" << *body;
  }
  const std::string json = json::serialize(status);
  EXPECT_EQ(json.find("DRILL"), std::string::npos) << json;
  EXPECT_EQ(json.find(drillKey), std::string::npos) << json;
  EXPECT_EQ(
      test_support::httpsRequest(coordinator_->apiPort(), {coordinator_->tls("ca.pem"), {}, {}},
                                 "GET", "/status/incidents/" + drillKey)
          .status,
      404);

  // The customers' webhook got what was approved, not what was rejected.
  std::vector<std::string> hooked;
  for (const json::object& record : customerHook_->records()) {
    EXPECT_TRUE(success(record)) << json::serialize(record);
    hooked.push_back(text(record.at("body").as_object(), "trigger"));
  }
  std::sort(hooked.begin(), hooked.end());
  EXPECT_EQ(hooked, (std::vector<std::string>{"opened", "restored"}));
}

// The public incident page shows only what was published to it: not the
// rejected text, the internal audiences' messages or the role alerts (its
// summary is the public one, not the internal post-incident summary).
TEST_F(CommsEndToEnd, PublicIncidentPageShowsNothingUnpublished) {
  startAll();
  const ProcessResult ran = run("quick.toml");
  ASSERT_EQ(ran.exitCode, 0) << ran.err;
  std::string key;
  ASSERT_TRUE(eventually([&] {
    key = incidentKey(false);
    return !key.empty() && text(incident(key), "state") == "resolved";
  })) << coordinator_->log();
  for (const json::object& message : where(messages(key), "customers")) {
    if (text(message, "channel") != "status_page") {
      continue;
    }
    const std::string id = std::to_string(message.at("id").as_int64());
    const HttpReply reply = text(message, "trigger") == "resolved"
                                ? api("POST", "/api/v1/messages/" + id + "/reject", "sam", "{}")
                                : api("POST", "/api/v1/messages/" + id + "/approve", "sam", "{}");
    EXPECT_EQ(reply.status, 200) << reply.body;
  }
  const HttpReply page =
      test_support::httpsRequest(coordinator_->apiPort(), {coordinator_->tls("ca.pem"), {}, {}},
                                 "GET", "/status/incidents/" + key);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("opened: E2E Shop is down"), std::string::npos) << page.body;
  // Rejected by the spokesperson:
  EXPECT_EQ(page.body.find("resolved: E2E Shop"), std::string::npos) << page.body;
  // Sent to internal audiences and roles only:
  EXPECT_EQ(page.body.find("milestone: promote done"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("Approval needed"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("role:spokesperson"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("exec_teams"), std::string::npos) << page.body;
}

}  // namespace
}  // namespace lifeboat::comms_e2e
