// A drill end to end: `lifeboat drill` streams to the coordinator, whose
// comms plan sends each audience the messages its rules promise, marked
// [DRILL], where the plan's drill settings say: engineering for real (with
// its 2 s cadence), executives held, customers to the drill webhook only
// after the spokesperson approved them through the API.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <thread>

#include "comms_e2e_fixture.hpp"

namespace lifeboat::comms_e2e {
namespace {

namespace json = boost::json;
using test_support::HttpReply;
using test_support::ProcessResult;

constexpr std::string_view kDrillLine =
    "DRILL: this message is part of a failover drill; no service was affected.\n\n";

std::vector<std::string> triggers(const std::vector<json::object>& messages, bool updates = true) {
  std::vector<std::string> out;
  for (const json::object& message : messages) {
    if (updates || text(message, "trigger") != "update") {
      out.push_back(text(message, "trigger"));
    }
  }
  return out;
}

std::string dump(const std::vector<json::object>& items) {
  std::string out;
  for (const json::object& item : items) {
    out += json::serialize(item) + "\n";
  }
  return out;
}

TEST_F(CommsEndToEnd, DrillSendsEachAudienceItsMessagesMarkedHeldOrApproved) {
  startAll();
  const ProcessResult drilled = drill("failover.toml");
  ASSERT_EQ(drilled.exitCode, 0) << drilled.err << coordinator_->log();

  std::string key;
  ASSERT_TRUE(eventually([&] { return !(key = incidentKey(true)).empty(); }))
      << coordinator_->log();
  EXPECT_TRUE(key.starts_with("drill-")) << key;
  EXPECT_EQ(incidentKey(false), "") << "a drill opens no real incident";
  ASSERT_TRUE(eventually([&] { return text(incident(key), "state") == "resolved"; }))
      << json::serialize(incident(key));
  // Engineering hears for real: wait until everything it was sent arrived.
  ASSERT_TRUE(eventually([&] {
    for (const json::object& message : where(messages(key), "engineering")) {
      if (text(message, "state") != "sent") {
        return false;
      }
    }
    return true;
  })) << dump(messages(key));

  const std::vector<json::object> all = messages(key);
  for (const json::object& message : all) {
    EXPECT_TRUE(message.at("drill").as_bool()) << json::serialize(message);
    EXPECT_TRUE(text(message, "subject").starts_with("[DRILL] ")) << json::serialize(message);
    EXPECT_TRUE(text(message, "body").starts_with(kDrillLine)) << json::serialize(message);
  }

  // Engineering (drill = "real"): the trigger order, with updates only
  // between the opening and the resolution, each due 2 s after the last
  // message engineering got.
  const std::vector<json::object> engineering = where(all, "engineering");
  EXPECT_EQ(triggers(engineering, false),
            (std::vector<std::string>{"opened", "milestone", "notify", "restored", "resolved"}))
      << dump(engineering);
  ASSERT_FALSE(engineering.empty());
  EXPECT_EQ(text(engineering.front(), "trigger"), "opened");
  EXPECT_EQ(text(engineering.back(), "trigger"), "resolved");
  std::size_t updates = 0;
  for (std::size_t i = 0; i < engineering.size(); ++i) {
    const json::object& message = engineering[i];
    EXPECT_EQ(text(message, "channel"), "eng_slack");
    EXPECT_EQ(text(message, "would_go_to"), "");
    if (text(message, "trigger") != "update") {
      continue;
    }
    ++updates;
    const std::int64_t gap =
        millis(message, "created_at") - millis(engineering[i - 1], "created_at");
    EXPECT_GE(gap, 1900) << "an update came early\n" << dump(engineering);
    EXPECT_LE(gap, 3500) << "an update came late\n" << dump(engineering);
  }
  EXPECT_GE(updates, 1u) << "a 7 s drill with a 2 s cadence has updates\n" << dump(engineering);
  for (const json::object& message : engineering) {
    if (text(message, "trigger") == "notify") {
      EXPECT_NE(text(message, "body").find("The standby of e2e-shop is promoted (run "),
                std::string::npos)
          << json::serialize(message);
    }
    if (text(message, "trigger") == "milestone") {
      EXPECT_EQ(text(message, "subject"), "[DRILL] milestone: promote done");
    }
  }

  // Executives (drill = "held"): recorded with where they would have gone.
  const std::vector<json::object> executives = where(all, "executives");
  EXPECT_EQ(triggers(executives), (std::vector<std::string>{"opened", "restored", "resolved"}))
      << dump(executives);
  for (const json::object& message : executives) {
    EXPECT_EQ(text(message, "state"), "held") << json::serialize(message);
    EXPECT_EQ(text(message, "would_go_to"), "exec_teams") << json::serialize(message);
    EXPECT_EQ(message.at("attempts").to_number<std::int64_t>(), 0);
  }

  // Customers: on the drill channel instead of the status page and the real
  // webhook, each waiting for the spokesperson.
  const std::vector<json::object> customers = where(all, "customers");
  EXPECT_EQ(triggers(customers), (std::vector<std::string>{"opened", "restored", "resolved"}))
      << dump(customers);
  for (const json::object& message : customers) {
    EXPECT_EQ(text(message, "channel"), "drill_webhook") << json::serialize(message);
    EXPECT_EQ(text(message, "state"), "awaiting_approval") << json::serialize(message);
    EXPECT_EQ(text(message, "would_go_to"), "status_page,customer_webhook");
  }
  // The spokesperson was asked, once per announcement, on their channel.
  const std::vector<json::object> asked = where(all, "role:spokesperson");
  EXPECT_EQ(asked.size(), customers.size()) << dump(asked);
  for (const json::object& message : asked) {
    EXPECT_EQ(text(message, "channel"), "spokesperson_slack");
    EXPECT_EQ(text(message, "trigger"), "approval_needed");
  }

  // What the receivers got: engineering's messages once each, in order;
  // nothing on Teams (held); nothing yet on any webhook.
  ASSERT_TRUE(eventually(
      [&] { return at(people_->records(), "/slack/spokesperson").size() >= asked.size(); }));
  const std::vector<json::object> people = people_->records();
  for (const json::object& record : people) {
    EXPECT_TRUE(record.at("problems").as_array().empty()) << json::serialize(record);
    EXPECT_TRUE(success(record)) << json::serialize(record);
  }
  EXPECT_TRUE(at(people, "/teams/").empty()) << dump(at(people, "/teams/"));
  const std::vector<json::object> slack = at(people, "/slack/engineering");
  ASSERT_EQ(slack.size(), engineering.size()) << dump(slack);
  for (std::size_t i = 0; i < slack.size(); ++i) {
    const json::object& body = slack[i].at("body").as_object();
    EXPECT_EQ(text(body, "text"), text(engineering[i], "subject")) << json::serialize(body);
    EXPECT_NE(json::serialize(body).find("DRILL"), std::string::npos);
  }
  for (const json::object& record : at(people, "/slack/spokesperson")) {
    EXPECT_TRUE(text(record.at("body").as_object(), "text").starts_with("[DRILL] Approval needed"))
        << json::serialize(record);
  }
  EXPECT_TRUE(drillHook_->records().empty()) << dump(drillHook_->records());
  EXPECT_TRUE(customerHook_->records().empty()) << dump(customerHook_->records());

  // Approval: only the plan's spokesperson may; then the message goes to the
  // drill webhook, and nowhere else.
  const json::object& opened = customers[0];
  const std::string approveOpened =
      "/api/v1/messages/" + std::to_string(opened.at("id").as_int64()) + "/approve";
  for (const std::string who : {"lee", "ines", "vera"}) {
    const HttpReply refused = api("POST", approveOpened, who, "{}");
    EXPECT_EQ(refused.status, 403) << who << ": " << refused.body;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(drillHook_->records().empty()) << "sent before approval";
  const HttpReply approved = api("POST", approveOpened, "sam", "{}");
  ASSERT_EQ(approved.status, 200) << approved.body;
  ASSERT_TRUE(eventually([&] { return !drillHook_->records().empty(); }))
      << dump(messages(key)) << coordinator_->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::vector<json::object> hooked = drillHook_->records();
  ASSERT_EQ(hooked.size(), 1u) << "only the approved message\n" << dump(hooked);
  {
    const json::object& body = hooked[0].at("body").as_object();
    EXPECT_TRUE(hooked[0].at("problems").as_array().empty()) << json::serialize(hooked[0]);
    EXPECT_EQ(text(body, "dedup_key"), text(opened, "dedup_key"));
    EXPECT_EQ(text(body, "trigger"), "opened");
    EXPECT_TRUE(body.at("drill").as_bool());
    EXPECT_EQ(text(body, "subject"), "[DRILL] opened: E2E Shop is down");
  }
  for (const json::object& message : where(messages(key), "customers")) {
    if (message.at("id") == opened.at("id")) {
      EXPECT_EQ(text(message, "approved_by"), "sam");
      EXPECT_TRUE(eventually([&] {
        for (const json::object& now : where(messages(key), "customers")) {
          if (now.at("id") == opened.at("id")) {
            return text(now, "state") == "sent";
          }
        }
        return false;
      }));
    }
  }

  // The other two, approved in turn, follow in order.
  for (const std::size_t index : {1, 2}) {
    const HttpReply reply =
        api("POST",
            "/api/v1/messages/" + std::to_string(customers[index].at("id").as_int64()) + "/approve",
            "sam", "{}");
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  ASSERT_TRUE(eventually([&] { return drillHook_->records().size() >= 3; }))
      << dump(drillHook_->records());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  hooked = drillHook_->records();
  ASSERT_EQ(hooked.size(), 3u) << dump(hooked);
  EXPECT_EQ(text(hooked[1].at("body").as_object(), "trigger"), "restored");
  EXPECT_EQ(text(hooked[2].at("body").as_object(), "trigger"), "resolved");
  for (const json::object& record : hooked) {
    const json::object& body = record.at("body").as_object();
    EXPECT_TRUE(success(record)) << json::serialize(record);
    EXPECT_TRUE(body.at("drill").as_bool());
    EXPECT_TRUE(text(body, "subject").starts_with("[DRILL] ")) << json::serialize(body);
    EXPECT_TRUE(text(body, "body").starts_with(kDrillLine)) << json::serialize(body);
  }
  EXPECT_TRUE(customerHook_->records().empty()) << dump(customerHook_->records());
  EXPECT_TRUE(at(people_->records(), "/teams/").empty());

  // A drill is never on the public status page.
  const HttpReply status = test_support::httpsRequest(
      coordinator_->apiPort(), {coordinator_->tls("ca.pem"), {}, {}}, "GET", "/status.json");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.body.find("DRILL"), std::string::npos) << status.body;
  EXPECT_EQ(status.body.find(key), std::string::npos) << status.body;

  // The drill report lists every message (held ones with where they would
  // have gone) and the cadence kept.
  const HttpReply summary = api("GET", "/api/v1/incidents/" + key + "/summary");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_NE(summary.header("Content-Type").find("text/markdown"), std::string::npos);
  const std::string& report = summary.body;
  EXPECT_NE(report.find("# Drill report: E2E Shop (" + key + ")"), std::string::npos) << report;
  EXPECT_NE(report.find("## Messages"), std::string::npos) << report;
  EXPECT_NE(report.find("would have gone to"), std::string::npos) << report;
  for (const json::object& message : messages(key)) {
    EXPECT_NE(report.find(" | " + text(message, "audience") + " | " + text(message, "channel") +
                          " | " + text(message, "trigger") + " | " + text(message, "state")),
              std::string::npos)
        << json::serialize(message) << "\n"
        << report;
  }
  EXPECT_NE(report.find("| executives | exec_teams | opened | held | exec_teams | [DRILL] opened"),
            std::string::npos)
      << report;
  const json::object cadence = incident(key).at("cadence").as_array().at(0).as_object();
  EXPECT_EQ(text(cadence, "audience"), "engineering");
  EXPECT_EQ(cadence.at("every_ms").to_number<std::int64_t>(), 2000);
  EXPECT_EQ(cadence.at("updates").to_number<std::size_t>(), updates);
  EXPECT_NE(report.find("## Cadence"), std::string::npos) << report;
  EXPECT_NE(report.find("| engineering | every 2s | " + std::to_string(updates) + " | "),
            std::string::npos)
      << report;
}

// A spokesperson's edit of a drill message keeps its drill marking.
TEST_F(CommsEndToEnd, DrillMessageEditedAtApprovalKeepsItsDrillMarker) {
  startAll();
  const ProcessResult drilled = drill("quick.toml");
  ASSERT_EQ(drilled.exitCode, 0) << drilled.err;
  std::string key;
  ASSERT_TRUE(eventually([&] {
    key = incidentKey(true);
    return !key.empty() && text(incident(key), "state") == "resolved";
  })) << coordinator_->log();
  const std::vector<json::object> customers = where(messages(key), "customers");
  ASSERT_EQ(customers.size(), 3u) << dump(customers);
  const HttpReply edited = api(
      "POST", "/api/v1/messages/" + std::to_string(customers[0].at("id").as_int64()) + "/approve",
      "sam", R"({"subject":"opened: E2E Shop is slow","body":"Checkout may fail for a while."})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  ASSERT_TRUE(eventually([&] { return !drillHook_->records().empty(); }));
  const json::object record = drillHook_->records().front();
  const json::object& body = record.at("body").as_object();
  EXPECT_TRUE(success(record)) << json::serialize(record);
  EXPECT_TRUE(body.at("drill").as_bool());
  EXPECT_EQ(text(body, "subject"), "[DRILL] opened: E2E Shop is slow") << json::serialize(body);
  EXPECT_EQ(text(body, "body"), std::string(kDrillLine) + "Checkout may fail for a while.")
      << json::serialize(body);
  for (const json::object& message : where(messages(key), "customers")) {
    if (message.at("id") == customers[0].at("id")) {
      EXPECT_TRUE(message.at("edited").as_bool());
      EXPECT_TRUE(text(message, "subject").starts_with("[DRILL] ")) << json::serialize(message);
    }
  }
}

}  // namespace
}  // namespace lifeboat::comms_e2e
