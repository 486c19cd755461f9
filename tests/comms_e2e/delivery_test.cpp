// Delivery end to end: a receiver that fails its first requests gets each
// message in the end, once as a success per dedup key; a coordinator killed
// mid-incident loses no message and sends none twice; the plan's secrets
// never leave the coordinator except on the wire to their receiver.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json/serialize.hpp>
#include <map>
#include <set>
#include <thread>

#include "comms_e2e_fixture.hpp"
#include "lifeboat/test_support/files.hpp"

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

std::vector<json::object> on(const std::vector<json::object>& messages,
                             const std::string& channel) {
  std::vector<json::object> out;
  for (const json::object& message : messages) {
    if (text(message, "channel") == channel) {
      out.push_back(message);
    }
  }
  return out;
}

bool allIn(const std::vector<json::object>& messages, const std::string& state) {
  for (const json::object& message : messages) {
    if (text(message, "state") != state) {
      return false;
    }
  }
  return true;
}

// Successful requests per Idempotency-Key.
std::map<std::string, int> successesByKey(const std::vector<json::object>& records) {
  std::map<std::string, int> count;
  for (const json::object& record : records) {
    const std::string key = text(record.at("headers").as_object(), "idempotency-key");
    EXPECT_FALSE(key.empty()) << json::serialize(record);
    EXPECT_EQ(key, text(record.at("body").as_object(), "dedup_key")) << json::serialize(record);
    count[key] += success(record) ? 1 : 0;
  }
  return count;
}

TEST_F(CommsEndToEnd, RetriedMessagesArriveOnceAsASuccessPerDedupKey) {
  startAll({.customerHook = {"--script", "503,503"}});
  const ProcessResult ran = run("quick.toml");
  ASSERT_EQ(ran.exitCode, 0) << ran.err;
  std::string key;
  ASSERT_TRUE(eventually([&] { return !(key = incidentKey(false)).empty(); }))
      << coordinator_->log();
  EXPECT_TRUE(key.starts_with("inc-")) << key;
  ASSERT_TRUE(eventually([&] { return text(incident(key), "state") == "resolved"; }));
  approveAll(key);
  ASSERT_TRUE(eventually([&] { return allIn(where(messages(key), "customers"), "sent"); }))
      << dump(messages(key));
  // Time for a duplicate to show up, if the engine were to send one.
  std::this_thread::sleep_for(std::chrono::seconds(2));

  const std::vector<json::object> hook = on(where(messages(key), "customers"), "customer_webhook");
  ASSERT_EQ(hook.size(), 3u) << dump(messages(key));
  const std::vector<json::object> records = customerHook_->records();
  ASSERT_EQ(records.size(), 5u) << "three messages, two of them refused once\n" << dump(records);
  int refused = 0;
  for (const json::object& record : records) {
    refused += record.at("status").to_number<int>() == 503 ? 1 : 0;
    EXPECT_TRUE(record.at("problems").as_array().empty()) << json::serialize(record);
  }
  EXPECT_EQ(refused, 2);
  std::map<std::string, int> expected;
  std::int64_t attempts = 0;
  for (const json::object& message : hook) {
    expected[text(message, "dedup_key")] = 1;
    attempts += message.at("attempts").to_number<std::int64_t>();
    EXPECT_EQ(message.at("last_status").to_number<int>(), 200) << json::serialize(message);
  }
  EXPECT_EQ(successesByKey(records), expected) << dump(records);
  EXPECT_EQ(attempts, 5);

  // The channel's health: it failed, then recovered.
  const json::object channels = getJson("/api/v1/channels");
  bool seen = false;
  for (const json::value& value : channels.at("channels").as_array()) {
    const json::object& channel = value.as_object();
    if (text(channel, "name") == "customer_webhook") {
      seen = true;
      EXPECT_EQ(text(channel, "state"), "ok") << json::serialize(channel);
      EXPECT_EQ(channel.at("sent").to_number<int>(), 3) << json::serialize(channel);
      EXPECT_EQ(channel.at("failed").to_number<int>(), 0) << json::serialize(channel);
      EXPECT_EQ(channel.at("pending").to_number<int>(), 0) << json::serialize(channel);
      EXPECT_EQ(channel.at("consecutive_failures").to_number<int>(), 0);
      EXPECT_NE(text(channel, "last_error").find("HTTP 503"), std::string::npos)
          << json::serialize(channel);
    }
  }
  EXPECT_TRUE(seen) << json::serialize(channels);
}

TEST_F(CommsEndToEnd, CoordinatorKilledMidIncidentLosesNoMessageAndSendsNoneTwice) {
  // Every request fails at first, so that nothing is sent before the kill:
  // messages are pending, retried after the restart.
  startAll({.people = {"--script", "503,503,503,503,503,503"},
            .customerHook = {"--script", "503,503,503"}});
  const pid_t agent = startRun("failover.toml");
  ASSERT_GT(agent, 0);
  std::string key;
  ASSERT_TRUE(eventually([&] { return !(key = incidentKey(false)).empty(); }))
      << coordinator_->log();
  // The customers' first message, approved, and engineering's, both failed
  // once and waiting for their next attempt.
  ASSERT_TRUE(eventually(
      [&] { return !on(where(messages(key), "customers"), "customer_webhook").empty(); }));
  const json::object first = on(where(messages(key), "customers"), "customer_webhook").front();
  ASSERT_EQ(
      api("POST", "/api/v1/messages/" + std::to_string(first.at("id").as_int64()) + "/approve",
          "sam", "{}")
          .status,
      200);
  auto retrying = [&](const std::string& audience, const std::string& channel) {
    for (const json::object& message : on(where(messages(key), audience), channel)) {
      if (text(message, "state") == "pending" &&
          message.at("attempts").to_number<std::int64_t>() >= 1) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(eventually([&] {
    return retrying("customers", "customer_webhook") && retrying("engineering", "eng_slack");
  })) << dump(messages(key));
  EXPECT_NE(text(incident(key), "state"), "resolved") << "the run is still going";
  const std::size_t before = messages(key).size();
  coordinator_->crash();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  coordinator_->start();
  ASSERT_TRUE(coordinator_->running());

  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(eventually([&] { return text(incident(key), "state") == "resolved"; }))
      << coordinator_->log();
  EXPECT_GT(messages(key).size(), before) << "events after the kill made messages too";
  approveAll(key);
  ASSERT_TRUE(eventually(
      [&] {
        const std::vector<json::object> all = messages(key);
        return allIn(all, "sent");
      },
      std::chrono::seconds(90)))
      << dump(messages(key)) << coordinator_->log();
  std::this_thread::sleep_for(std::chrono::seconds(2));

  const std::vector<json::object> all = messages(key);
  // Every message the incident's events promise, once.
  std::vector<std::string> engineering;
  for (const json::object& message : where(all, "engineering")) {
    if (text(message, "trigger") != "update") {
      engineering.push_back(text(message, "trigger"));
    }
  }
  EXPECT_EQ(engineering,
            (std::vector<std::string>{"opened", "milestone", "notify", "restored", "resolved"}))
      << dump(all);
  std::multiset<std::string> customers;
  for (const json::object& message : where(all, "customers")) {
    customers.insert(text(message, "trigger") + " on " + text(message, "channel"));
  }
  EXPECT_EQ(customers,
            (std::multiset<std::string>{"opened on status_page", "opened on customer_webhook",
                                        "restored on status_page", "restored on customer_webhook",
                                        "resolved on status_page", "resolved on customer_webhook"}))
      << dump(all);
  std::set<std::string> keys;
  for (const json::object& message : all) {
    EXPECT_TRUE(keys.insert(text(message, "dedup_key")).second) << "made twice: " << dump(all);
  }

  // The customers' webhook: one success per dedup key, every key there.
  std::map<std::string, int> expected;
  for (const json::object& message : on(all, "customer_webhook")) {
    expected[text(message, "dedup_key")] = 1;
  }
  EXPECT_EQ(successesByKey(customerHook_->records()), expected) << dump(customerHook_->records());
  // Slack and PagerDuty carry no idempotency key: the successful requests
  // are exactly the messages sent there, subject for subject.
  const std::vector<json::object> people = people_->records();
  for (const auto& [channel, path] : std::vector<std::pair<std::string, std::string>>{
           {"eng_slack", "/slack/engineering"}, {"spokesperson_slack", "/slack/spokesperson"}}) {
    std::multiset<std::string> sent, received;
    for (const json::object& message : on(all, channel)) {
      sent.insert(text(message, "subject"));
    }
    for (const json::object& record : at(people, path)) {
      if (success(record)) {
        received.insert(text(record.at("body").as_object(), "text"));
      }
    }
    EXPECT_EQ(received, sent) << channel << "\n" << dump(at(people, path));
  }
  std::size_t paged = 0;
  for (const json::object& record : at(people, "/pagerduty/")) {
    paged += success(record) ? 1 : 0;
  }
  EXPECT_EQ(paged, on(all, "commander_pager").size()) << dump(at(people, "/pagerduty/"));
  const std::string log = coordinatorLog();
  EXPECT_NE(log.find("listening:"), log.rfind("listening:")) << "started twice";
}

TEST_F(CommsEndToEnd, SecretsNeverAppearInTheLogTheApiOrTheStores) {
  // The drill webhook fails three times: its errors are logged, stored and
  // reported to the incident commander's PagerDuty (keyed by a secret).
  startAll({.drillHook = {"--script", "503,503,503"}});
  const ProcessResult drilled = drill("quick.toml");
  ASSERT_EQ(drilled.exitCode, 0) << drilled.err;
  const ProcessResult ran = run("quick.toml");
  ASSERT_EQ(ran.exitCode, 0) << ran.err;
  std::string drillKey, realKey;
  ASSERT_TRUE(eventually([&] {
    drillKey = incidentKey(true);
    realKey = incidentKey(false);
    return !drillKey.empty() && !realKey.empty() &&
           text(incident(drillKey), "state") == "resolved" &&
           text(incident(realKey), "state") == "resolved";
  })) << coordinator_->log();
  approveAll(drillKey);
  approveAll(realKey);
  ASSERT_TRUE(eventually(
      [&] {
        const json::object answer = getJson("/api/v1/messages");
        for (const json::value& value : answer.at("messages").as_array()) {
          const json::object& message = value.as_object();
          const std::string state = text(message, "state");
          if (state != "sent" && state != "held") {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(60)))
      << json::serialize(getJson("/api/v1/messages"));

  // The secrets were used: signed webhooks, the routing key on PagerDuty.
  std::size_t signedOk = 0;
  for (const auto* server : {drillHook_.get(), customerHook_.get()}) {
    for (const json::object& record : server->records()) {
      EXPECT_TRUE(record.at("problems").as_array().empty()) << json::serialize(record);
      signedOk += success(record) ? 1 : 0;
    }
  }
  EXPECT_EQ(signedOk, 6u) << "three customer messages on each webhook";
  const std::vector<json::object> paged = at(people_->records(), "/pagerduty/");
  ASSERT_FALSE(paged.empty()) << "the failing channel was reported";
  for (const json::object& record : paged) {
    EXPECT_TRUE(success(record)) << json::serialize(record);
  }

  // What is searched for is what went over the wire to the receivers.
  const std::string drillPath = drillUrl_.substr(drillUrl_.find("/webhook/"));
  EXPECT_EQ(text(drillHook_->records().front(), "path"), drillPath);
  EXPECT_EQ(text(paged.front().at("body").as_object(), "routing_key"), routingKey_);
  std::vector<std::string> secrets{hmacKey_,
                                   routingKey_,
                                   drillUrl_,
                                   customerUrl_,
                                   drillUrl_.substr(drillUrl_.rfind('/') + 1),
                                   customerUrl_.substr(customerUrl_.rfind('/') + 1)};
  std::vector<std::pair<std::string, std::string>> seen;  // where, what
  seen.emplace_back("the log", coordinatorLog());
  for (const std::string& target :
       {std::string("/api/v1/messages"), std::string("/api/v1/channels"),
        std::string("/api/v1/incidents"), "/api/v1/incidents/" + drillKey,
        "/api/v1/incidents/" + realKey, "/api/v1/incidents/" + drillKey + "/summary",
        "/api/v1/incidents/" + realKey + "/summary", std::string("/api/v1/events?limit=10000"),
        std::string("/status"), std::string("/status.json"), std::string("/status/feed.atom"),
        "/status/incidents/" + realKey}) {
    const HttpReply reply = api("GET", target);
    EXPECT_EQ(reply.status, 200) << target << ": " << reply.body;
    seen.emplace_back(target, reply.body);
  }
  EXPECT_NE(seen[1].second.find("HTTP 503"), std::string::npos) << "errors are in the answers";
  for (const auto& entry : fs::recursive_directory_iterator(coordinatorDir())) {
    if (entry.is_regular_file()) {
      seen.emplace_back(entry.path().string(), test_support::readText(entry.path()));
    }
  }
  bool storesRead = false;
  for (const auto& [where, what] : seen) {
    storesRead = storesRead || where.ends_with("comms.db") || where.ends_with("comms.db-wal");
    for (const std::string& secret : secrets) {
      EXPECT_EQ(what.find(secret), std::string::npos) << "a secret in " << where;
    }
  }
  EXPECT_TRUE(storesRead);
}

}  // namespace
}  // namespace lifeboat::comms_e2e
