// The comms engine end to end inside one process: events written to a real
// store, a plan, real HTTP receivers on 127.0.0.1 (receiver.py checks each
// payload's documented format), the engine's own SQLite outbox.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "engine_fixture.hpp"

namespace lifeboat::comms::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kRoutingKey = "R0UT1NGKEYFORTHEENGINETEST000001";

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Channels on the receiver, roles, and templates shared by the tests;
// audiences and rules are each test's own.
constexpr const char* kBase = R"toml(
[services.orders]
display_name = "Orders"
impact = "Orders <cannot> be placed & paid."

[channels.eng]
kind = "slack"
url = "http://127.0.0.1:@PORT@/slack/eng"

[channels.exec]
kind = "teams"
url = "http://127.0.0.1:@PORT@/teams/exec"

[channels.cust]
kind = "webhook"
url = "${secret:env:LB_ENGINE_TEST_URL}"
secret = "${secret:env:LB_ENGINE_TEST_KEY}"

[channels.cust_drill]
kind = "webhook"
url = "http://127.0.0.1:@PORT@/webhook/cust-drill"
secret = "${secret:env:LB_ENGINE_TEST_KEY}"

[channels.ic]
kind = "webhook"
url = "http://127.0.0.1:@PORT@/webhook/ic"
secret = "${secret:env:LB_ENGINE_TEST_KEY}"

[channels.pager]
kind = "pagerduty"
url = "http://127.0.0.1:@PORT@/pagerduty/ic"
secret = "${secret:env:LB_ENGINE_TEST_ROUTING_KEY}"

[roles.incident_commander]
person = "Dana"
channels = ["ic", "pager"]

[roles.spokesperson]
person = "Sam"
channels = ["ic"]
tokens = ["sam"]

[templates.opened]
subject = "{{service_name}} is down"
body = "{{impact}} ETA {{eta}}. Next update at {{next_update}}."

[templates.restored]
subject = "{{service_name}} is back"
body = "Restored after {{elapsed}}; RTO budget left {{rto_budget_left}}."

[templates.resolved]
subject = "Resolved: {{service_name}}"
body = "Resolved. RPO {{rpo_measured}}."

[templates.update]
subject = "{{service_name}}: still working"
body = "Still working ({{state}}). Next update at {{next_update}}."
)toml";

class CommsEngine : public EngineTest {
 protected:
  void SetUp() override {
    ::setenv("LB_ENGINE_TEST_KEY", kWebhookKey, 1);
    ::setenv("LB_ENGINE_TEST_ROUTING_KEY", kRoutingKey, 1);
    receiverArguments_.push_back("--routing-key");
    receiverArguments_.push_back(kRoutingKey);
    EngineTest::SetUp();
    ::setenv("LB_ENGINE_TEST_URL", url("/webhook/cust").c_str(), 1);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(receiver_->port()) + path;
  }
};

constexpr const char* kDrillAudiences = R"toml(
[audiences.customers]
channels = ["status_page", "cust"]
drill_channels = ["cust_drill"]
external = true
approval = "spokesperson"

[audiences.engineering]
channels = ["eng"]
drill = "real"

[audiences.executives]
channels = ["exec"]
drill = "held"

[[rules]]
on = "opened"
audiences = ["customers", "engineering", "executives"]
template = "opened"

[[rules]]
on = "restored"
audiences = ["customers", "engineering", "executives"]
template = "restored"

[[rules]]
on = "resolved"
audiences = ["engineering", "executives"]
template = "resolved"
)toml";

TEST_F(CommsEngine, DrillRoutesEachAudienceMarksItAndHoldsCustomersForApproval) {
  startEngine(plan(std::string(kBase) + kDrillAudiences));
  RunEvents run("agent-1", "run-1", now());
  append({run.started("orders", true), run.stepOk("promote"), run.finished("done")});

  // engineering rehearses on its real channel, marked as a drill.
  ASSERT_TRUE(eventually([&] { return received("/slack/eng").size() == 3; }))
      << json::serialize(messages());
  for (const json::object& request : received("/slack/eng")) {
    EXPECT_EQ(text(request, "problems"), "") << json::serialize(request);
    EXPECT_NE(text(request.at("body").as_object(), "text").find("[DRILL]"), std::string::npos);
  }
  // executives: held, with where they would have gone; nothing sent.
  const std::vector<json::object> held = messagesWhere("audience", "executives");
  ASSERT_EQ(held.size(), 3u);
  for (const json::object& message : held) {
    EXPECT_EQ(text(message, "state"), "held");
    EXPECT_EQ(text(message, "would_go_to"), "exec");
    EXPECT_TRUE(text(message, "subject").starts_with("[DRILL] "));
  }
  EXPECT_TRUE(received("/teams/exec").empty());

  // customers: on the drill channel only, waiting for the spokesperson.
  std::vector<json::object> customers = messagesWhere("audience", "customers");
  ASSERT_EQ(customers.size(), 2u);  // opened, restored (no resolved rule)
  for (const json::object& message : customers) {
    EXPECT_EQ(text(message, "channel"), "cust_drill");
    EXPECT_EQ(text(message, "state"), "awaiting_approval");
    EXPECT_EQ(text(message, "would_go_to"), "status_page,cust");
  }
  // The spokesperson was asked, on their channel.
  ASSERT_TRUE(eventually([&] { return received("/webhook/ic").size() >= 2; }));
  EXPECT_NE(
      text(received("/webhook/ic")[0].at("body").as_object(), "subject").find("Approval needed"),
      std::string::npos);
  EXPECT_TRUE(received("/webhook/cust-drill").empty());

  // Approving with an edit sends the edited text, once.
  const std::int64_t opened = customers.back().at("id").as_int64();
  Result<json::object> approved =
      engine_->approve(opened, "sam", std::nullopt, std::string("Edited by Sam & checked."));
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_TRUE(approved->at("edited").as_bool());
  ASSERT_TRUE(eventually([&] { return received("/webhook/cust-drill").size() == 1; }));
  const json::object sent = received("/webhook/cust-drill").at(0);
  EXPECT_EQ(text(sent, "problems"), "");
  // The edit keeps the drill marking.
  EXPECT_EQ(text(sent.at("body").as_object(), "body"),
            "DRILL: this message is part of a failover drill; no service was affected.\n\n"
            "Edited by Sam & checked.");
  EXPECT_TRUE(sent.at("body").as_object().at("drill").as_bool());
  // A second approval is refused; a rejection keeps the other one unsent.
  EXPECT_FALSE(engine_->approve(opened, "sam", std::nullopt, std::nullopt));
  const std::int64_t restored = customers.front().at("id").as_int64();
  ASSERT_TRUE(engine_->reject(restored, "sam", "not yet"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(received("/webhook/cust-drill").size(), 1u);
  EXPECT_EQ(text(messagesWhere("state", "rejected").at(0), "last_error"), "not yet");
}

TEST_F(CommsEngine, DrillReportListsMessagesWhereTheyWouldHaveGoneAndTheObjectives) {
  startEngine(plan(std::string(kBase) + kDrillAudiences));
  RunEvents run("agent-1", "run-9", now());
  append(
      {run.started("orders", true), run.stepOk("promote"),
       run.make(
           "objective.evaluated", "",
           {{"objective", "rto"}, {"target_ms", 600000}, {"value_ms", 42000}, {"verdict", "met"}}),
       run.finished("done")});
  ASSERT_TRUE(eventually([&] { return messagesWhere("trigger", "resolved").size() == 2; }));
  Result<json::array> incidents = engine_->incidents(false, 10);
  ASSERT_TRUE(incidents);
  ASSERT_EQ(incidents->size(), 1u);
  const json::object& incident = incidents->at(0).as_object();
  EXPECT_EQ(text(incident, "state"), "resolved");
  EXPECT_TRUE(incident.at("drill").as_bool());
  Result<std::optional<std::string>> report = engine_->summary(text(incident, "key"));
  ASSERT_TRUE(report && *report);
  const std::string& markdown = **report;
  EXPECT_NE(markdown.find("# Drill report: Orders"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| RTO | 10m | 42s | met |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| executives | exec | opened | held | exec |"), std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("step promote"), std::string::npos) << markdown;
  // The public status page never shows a drill.
  Result<json::object> status = engine_->statusJson();
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->at("incidents").as_array().empty());
  EXPECT_EQ(text(*status, "status"), "operational");
}

constexpr const char* kRealAudiences = R"toml(
[audiences.customers]
channels = ["status_page", "cust"]
external = true

[audiences.engineering]
channels = ["eng"]
every = "2s"

[[rules]]
on = "opened"
audiences = ["customers", "engineering"]
template = "opened"

[[rules]]
on = "resolved"
audiences = ["customers", "engineering"]
template = "resolved"

[[rules]]
on = "update"
audiences = ["engineering"]
template = "update"
)toml";

TEST_F(CommsEngine, RealIncidentIsPublishedOnTheStatusPageWithHtmlAndAtomEscaped) {
  startEngine(plan(std::string(kBase) + kRealAudiences));
  const Timestamp start = now();
  RunEvents run("agent-1", "run-2", start);
  append({run.started("orders", false), run.stepOk("promote"), run.finished("done")});
  ASSERT_TRUE(eventually([&] { return received("/webhook/cust").size() == 2; }));
  Result<json::object> status = engine_->statusJson();
  ASSERT_TRUE(status);
  const json::array& incidents = status->at("incidents").as_array();
  ASSERT_EQ(incidents.size(), 1u) << json::serialize(*status);
  const json::object& incident = incidents[0].as_object();
  EXPECT_EQ(text(incident, "state"), "resolved");
  ASSERT_EQ(incident.at("updates").as_array().size(), 2u);
  EXPECT_EQ(text(incident.at("updates").as_array()[1].as_object(), "body"),
            "Orders <cannot> be placed & paid. ETA " + formatFactTime(start - 30s + 10min) +
                ". Next update at when there is news.");
  Result<std::string> html = engine_->statusHtml();
  ASSERT_TRUE(html);
  EXPECT_NE(html->find("Orders &lt;cannot&gt; be placed &amp; paid."), std::string::npos);
  EXPECT_EQ(html->find("<cannot>"), std::string::npos);
  Result<std::string> atom = engine_->statusAtom();
  ASSERT_TRUE(atom);
  EXPECT_NE(atom->find("<entry><id>urn:lifeboat:status:"), std::string::npos) << *atom;
  EXPECT_EQ(atom->find("<cannot>"), std::string::npos);
  Result<std::optional<std::string>> page = engine_->statusIncidentHtml(text(incident, "key"));
  ASSERT_TRUE(page && *page);
  EXPECT_NE((*page)->find("Post-incident summary"), std::string::npos);
}

TEST_F(CommsEngine, CadenceSendsUpdatesWhileOpenAndStopsWhenResolved) {
  startEngine(plan(std::string(kBase) + kRealAudiences));
  RunEvents run("agent-1", "run-3", now());
  append({run.started("orders", false)});
  ASSERT_TRUE(eventually([&] { return messagesWhere("trigger", "update").size() >= 2; }, 10s));
  for (const json::object& update : messagesWhere("trigger", "update")) {
    EXPECT_EQ(text(update, "audience"), "engineering");
    EXPECT_EQ(text(update, "subject"), "Orders: still working");
  }
  append({run.finished("done")});
  // customers (status page, webhook) and engineering.
  ASSERT_TRUE(eventually([&] { return messagesWhere("trigger", "resolved").size() == 3; }));
  const std::size_t updates = messagesWhere("trigger", "update").size();
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(messagesWhere("trigger", "update").size(), updates);
  Result<json::array> incidents = engine_->incidents(false, 10);
  ASSERT_TRUE(incidents);
  const json::object& cadence =
      incidents->at(0).as_object().at("cadence").as_array().at(0).as_object();
  EXPECT_EQ(cadence.at("missed").as_int64(), 0);
  EXPECT_GE(cadence.at("updates").as_int64(), 2);
}

TEST_F(CommsEngine, AnUpdateWaitingForApprovalIsAMissedUpdateForTheIncidentCommander) {
  startEngine(plan(std::string(kBase) + R"toml(
[audiences.customers]
channels = ["cust"]
external = true
approval = "spokesperson"
every = "2s"

[[rules]]
on = "opened"
audiences = ["customers"]
template = "opened"

[[rules]]
on = "update"
audiences = ["customers"]
template = "update"
)toml"));
  RunEvents run("agent-1", "run-4", now());
  append({run.started("orders", false)});
  ASSERT_TRUE(eventually([&] { return !messagesWhere("trigger", "cadence_missed").empty(); }, 10s))
      << json::serialize(messages());
  std::set<std::string> alerted;
  for (const json::object& alert : messagesWhere("trigger", "cadence_missed")) {
    EXPECT_EQ(text(alert, "audience"), "role:incident_commander");
    alerted.insert(text(alert, "channel"));
  }
  EXPECT_EQ(alerted, (std::set<std::string>{"ic", "pager"}));
  ASSERT_TRUE(eventually([&] {
    for (const json::object& request : received("/webhook/ic")) {
      if (text(request.at("body").as_object(), "subject").starts_with("Missed update")) {
        return true;
      }
    }
    return false;
  }));
  EXPECT_TRUE(received("/webhook/cust").empty());
}

class CommsEngineRetries : public CommsEngine {
 protected:
  void SetUp() override {
    receiverArguments_ = {"--script", "503,503"};
    CommsEngine::SetUp();
  }
};

TEST_F(CommsEngineRetries, ARefusedMessageIsRetriedUntilSentAndNeverSentTwice) {
  startEngine(plan(std::string(kBase) + R"toml(
[audiences.engineering]
channels = ["ic"]

[[rules]]
on = "opened"
audiences = ["engineering"]
template = "opened"
)toml"));
  RunEvents run("agent-1", "run-5", now());
  append({run.started("orders", false)});
  ASSERT_TRUE(eventually([&] { return messagesWhere("state", "sent").size() == 1; }, 20s))
      << json::serialize(messages());
  const json::object message = messagesWhere("state", "sent").front();
  EXPECT_EQ(message.at("attempts").as_int64(), 3);
  const std::vector<json::object> requests = received("/webhook/ic");
  ASSERT_EQ(requests.size(), 3u);
  std::set<std::string> keys;
  std::vector<std::int64_t> statuses;
  for (const json::object& request : requests) {
    keys.insert(text(request.at("headers").as_object(), "idempotency-key"));
    statuses.push_back(request.at("status").as_int64());
  }
  EXPECT_EQ(keys, std::set<std::string>{text(message, "dedup_key")});
  EXPECT_EQ(statuses, (std::vector<std::int64_t>{503, 503, 200}));
}

TEST_F(CommsEngine, AChannelThatKeepsFailingIsReportedAndItsMessageMarkedFailed) {
  Plan parsed = plan(std::string(kBase) + R"toml(
[channels.dead]
kind = "slack"
url = "http://127.0.0.1:1/slack/dead"
give_up_after = "5s"

[audiences.engineering]
channels = ["dead"]

[[rules]]
on = "opened"
audiences = ["engineering"]
template = "opened"
)toml");
  startEngine(std::move(parsed));
  RunEvents run("agent-1", "run-6", now());
  append({run.started("orders", false)});
  ASSERT_TRUE(eventually([&] { return messagesWhere("state", "failed").size() == 1; }, 20s))
      << json::serialize(messages());
  EXPECT_NE(text(messagesWhere("state", "failed").front(), "last_error").find("gave up after"),
            std::string::npos);
  ASSERT_TRUE(eventually([&] {
    std::set<std::string> subjects;
    for (const json::object& request : received("/webhook/ic")) {
      subjects.insert(text(request.at("body").as_object(), "subject"));
    }
    return subjects.contains("Channel failing: dead") &&
           subjects.contains("Message not delivered: engineering on dead");
  }));
  Result<json::array> channels = engine_->channels();
  ASSERT_TRUE(channels);
  for (const json::value& channel : *channels) {
    if (text(channel.as_object(), "name") == "dead") {
      EXPECT_EQ(text(channel.as_object(), "state"), "failing");
      EXPECT_EQ(channel.as_object().at("failed").as_int64(), 1);
    }
  }
}

TEST_F(CommsEngine, ARestartedEngineResumesWithoutLosingOrDoublingAMessage) {
  const std::string text = std::string(kBase) + kRealAudiences;
  startEngine(plan(text));
  RunEvents run("agent-1", "run-7", now());
  append({run.started("orders", false)});
  ASSERT_TRUE(eventually([&] { return messagesWhere("trigger", "opened").size() == 3; }));
  stopEngine();
  // Events stored while the engine was down are read after the restart.
  append({run.stepOk("promote"), run.finished("done")});
  startEngine(plan(text));
  ASSERT_TRUE(eventually([&] {
    return messagesWhere("trigger", "resolved").size() == 3 &&
           messagesWhere("state", "pending").empty();
  })) << json::serialize(messages());
  std::map<std::string, int> delivered;
  for (const json::object& request : received("/webhook/cust")) {
    if (request.at("status").as_int64() == 200) {
      ++delivered[testing::text(request.at("headers").as_object(), "idempotency-key")];
    }
  }
  EXPECT_EQ(delivered.size(), 2u);  // opened and resolved
  for (const auto& [key, count] : delivered) {
    EXPECT_EQ(count, 1) << key;
  }
}

TEST_F(CommsEngine, SecretsNeverReachTheOutboxTheApiOrTheLog) {
  startEngine(plan(std::string(kBase) + kRealAudiences));
  RunEvents run("agent-1", "run-8", now());
  append({run.started("orders", false), run.finished("done")});
  ASSERT_TRUE(eventually([&] { return received("/webhook/cust").size() == 2; }));
  const std::string url = this->url("/webhook/cust");
  std::string everything = json::serialize(messages());
  everything += json::serialize(*engine_->channels());
  everything += json::serialize(*engine_->incidents(false, 10));
  const std::string incident = text(messagesWhere("audience", "customers").at(0), "incident");
  everything += engine_->summary(incident)->value_or("");
  for (const std::string& line : log_) {
    everything += line;
  }
  stopEngine();
  for (const char* file : {"comms.db", "comms.db-wal"}) {
    std::ifstream in(directory_.path() / file, std::ios::binary);
    everything.append(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(everything.find(kWebhookKey), std::string::npos);
  EXPECT_EQ(everything.find(url), std::string::npos);
  EXPECT_EQ(everything.find("/webhook/cust\""), std::string::npos);
}

TEST_F(CommsEngine, AnOutageAndItsFailoverAreOneIncidentAndAFailedRunWaitsForAPerson) {
  startEngine(plan(std::string(kBase) + kRealAudiences));
  RunEvents watch("agent-1", "", now());
  Event declared = watch.make("outage.declared", "",
                              {{"service", "orders"},
                               {"outage_start", formatTimestamp(now() - 20s)},
                               {"consecutive_failures", 3}});
  RunEvents run("agent-1", "run-10", now(), 2);
  append({declared, run.started("orders", false), run.finished("failed")});
  ASSERT_TRUE(eventually([&] { return !messagesWhere("trigger", "failover_failed").empty(); }));
  Result<json::array> incidents = engine_->incidents(false, 10);
  ASSERT_TRUE(incidents);
  ASSERT_EQ(incidents->size(), 1u) << json::serialize(*incidents);
  const json::object incident = incidents->at(0).as_object();
  EXPECT_EQ(text(incident, "state"), "failed");
  EXPECT_EQ(text(incident, "run"), "run-10");
  EXPECT_EQ(messagesWhere("trigger", "opened").size(), 3u);  // once, not per event
  EXPECT_TRUE(messagesWhere("trigger", "resolved").empty());
  Result<json::object> resolved = engine_->resolve(text(incident, "key"), "dana", "fixed by hand");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(text(*resolved, "state"), "resolved");
  EXPECT_EQ(text(*resolved, "resolved_by"), "dana");
  // customers (2), engineering, and the resolve of the incident commander's page.
  ASSERT_TRUE(eventually([&] { return messagesWhere("trigger", "resolved").size() == 4; }));
  EXPECT_FALSE(engine_->resolve(text(incident, "key"), "dana", ""));
  ASSERT_TRUE(eventually([&] { return received("/pagerduty/ic").size() == 2; }));
  std::vector<std::string> actions;
  for (const json::object& request : received("/pagerduty/ic")) {
    EXPECT_EQ(text(request, "problems"), "") << json::serialize(request);
    const json::object& body = request.at("body").as_object();
    actions.push_back(text(body, "event_action"));
    EXPECT_EQ(text(body, "dedup_key"), text(incident, "key"));
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"trigger", "resolve"}));
}

}  // namespace
}  // namespace lifeboat::comms::testing
