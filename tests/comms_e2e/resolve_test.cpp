// A failed failover end to end: the run ends without restoring the service,
// the incident commander is paged, the incident stays open (engineering
// keeps hearing on its cadence) until an operator resolves it through the
// API; then every audience hears that it is resolved, and nothing follows.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <thread>

#include "comms_e2e_fixture.hpp"

namespace lifeboat::comms_e2e {
namespace {

namespace json = boost::json;
using test_support::HttpReply;
using test_support::ProcessResult;

std::string dump(const std::vector<json::object>& items) {
  std::string out;
  for (const json::object& item : items) {
    out += json::serialize(item) + "\n";
  }
  return out;
}

std::vector<std::string> triggers(const std::vector<json::object>& messages) {
  std::vector<std::string> out;
  for (const json::object& message : messages) {
    if (text(message, "trigger") != "update") {
      out.push_back(text(message, "trigger"));
    }
  }
  return out;
}

std::size_t updates(const std::vector<json::object>& messages) {
  std::size_t count = 0;
  for (const json::object& message : messages) {
    count += text(message, "trigger") == "update" ? 1 : 0;
  }
  return count;
}

TEST_F(CommsEndToEnd, FailedFailoverStaysOpenUntilAnOperatorResolvesIt) {
  startAll();
  const ProcessResult ran = run("failing.toml");
  ASSERT_NE(ran.exitCode, 0) << ran.err;
  std::string key;
  ASSERT_TRUE(eventually([&] {
    key = incidentKey(false);
    return !key.empty() && text(incident(key), "state") == "failed";
  })) << coordinator_->log();

  // The incident commander is paged on PagerDuty; nobody hears "restored".
  ASSERT_TRUE(eventually([&] { return !at(people_->records(), "/pagerduty/").empty(); }))
      << dump(messages(key));
  const json::object page = at(people_->records(), "/pagerduty/").front();
  EXPECT_TRUE(success(page)) << json::serialize(page);
  EXPECT_EQ(text(page.at("body").as_object(), "event_action"), "trigger");
  EXPECT_TRUE(text(page.at("body").at("payload").as_object(), "summary")
                  .starts_with("Failover of e2e-shop ended"))
      << json::serialize(page);
  for (const json::object& message : messages(key)) {
    EXPECT_NE(text(message, "trigger"), "restored") << json::serialize(message);
  }
  // Still open: engineering's updates go on while nobody resolves it.
  const std::size_t before = updates(where(messages(key), "engineering"));
  ASSERT_TRUE(eventually([&] { return updates(where(messages(key), "engineering")) > before; },
                         std::chrono::seconds(10)))
      << dump(messages(key));
  for (const json::object& message : where(messages(key), "engineering")) {
    if (text(message, "trigger") == "update") {
      EXPECT_EQ(text(message, "subject"), "update: still failover failed");
    }
  }

  // Only an operator may resolve it, once.
  const std::string target = "/api/v1/incidents/" + key + "/resolve";
  const std::string note = R"({"note":"traffic moved by hand"})";
  EXPECT_EQ(api("POST", target, "vera", note).status, 403);
  const HttpReply resolved = api("POST", target, "ines", note);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(api("POST", target, "ines", note).status, 409);
  const json::object shown = incident(key);
  EXPECT_EQ(text(shown, "state"), "resolved") << json::serialize(shown);
  EXPECT_EQ(text(shown, "resolved_by"), "ines") << json::serialize(shown);

  // Everyone hears it is resolved; engineering hears nothing after that.
  ASSERT_TRUE(eventually([&] {
    for (const json::object& message : where(messages(key), "engineering")) {
      if (text(message, "state") != "sent") {
        return false;
      }
    }
    return at(people_->records(), "/teams/executives").size() >= 2;
  })) << dump(messages(key));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::vector<json::object> all = messages(key);
  const std::vector<json::object> engineering = where(all, "engineering");
  EXPECT_EQ(triggers(engineering), (std::vector<std::string>{"opened", "milestone", "resolved"}))
      << dump(engineering);
  EXPECT_EQ(text(engineering.back(), "trigger"), "resolved") << "no update after it\n"
                                                             << dump(engineering);
  EXPECT_EQ(triggers(where(all, "executives")), (std::vector<std::string>{"opened", "resolved"}));
  EXPECT_EQ(triggers(where(all, "customers")),
            (std::vector<std::string>{"opened", "opened", "resolved", "resolved"}))
      << dump(where(all, "customers"));
  std::vector<std::string> teams;
  for (const json::object& record : at(people_->records(), "/teams/executives")) {
    EXPECT_TRUE(success(record)) << json::serialize(record);
    teams.push_back(json::serialize(record.at("body")));
  }
  ASSERT_EQ(teams.size(), 2u);
  EXPECT_NE(teams[1].find("resolved: E2E Shop"), std::string::npos) << teams[1];

  const HttpReply summary = api("GET", "/api/v1/incidents/" + key + "/summary");
  ASSERT_EQ(summary.status, 200);
  EXPECT_NE(summary.body.find("# Post-incident summary: E2E Shop (" + key + ")"), std::string::npos)
      << summary.body;
  EXPECT_NE(summary.body.find(" by ines"), std::string::npos) << summary.body;
  EXPECT_NE(summary.body.find("failover_failed"), std::string::npos) << summary.body;
}

}  // namespace
}  // namespace lifeboat::comms_e2e
