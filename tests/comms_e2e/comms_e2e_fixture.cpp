#include "comms_e2e_fixture.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lifeboat/common/event.hpp"
#include "lifeboat/test_support/files.hpp"

namespace lifeboat::comms_e2e {

namespace json = boost::json;
using namespace test_support;

namespace {

std::string randomHex(std::size_t bytes) {
  std::random_device random;
  std::ostringstream out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out << "0123456789abcdef"[random() % 16] << "0123456789abcdef"[random() % 16];
  }
  return out.str();
}

// The plan (docs/communications.md): customers are external, approved by
// the spokesperson, and hear through the status page and a signed webhook
// (a drill webhook in drills); engineering hears on Slack, drills included,
// every 2 s; executives on Teams, held in drills. Role alerts go to the
// incident commander's PagerDuty and the spokesperson's Slack. Every URL and
// key of the webhooks and PagerDuty is a secret reference. The impact holds
// characters each format must escape (receiver.py checks Slack's).
std::string plan(int people) {
  const std::string base = "http://127.0.0.1:" + std::to_string(people);
  return R"([services.e2e-shop]
display_name = "E2E Shop"
impact = "Shoppers cannot check out: <cart> & \"pay\" fail."

[channels.customer_webhook]
kind = "webhook"
url = "${secret:env:LIFEBOAT_E2E_CUSTOMER_URL}"
secret = "${secret:env:LIFEBOAT_E2E_HMAC_KEY}"
per_minute = 600

[channels.drill_webhook]
kind = "webhook"
url = "${secret:env:LIFEBOAT_E2E_DRILL_URL}"
secret = "${secret:env:LIFEBOAT_E2E_HMAC_KEY}"
per_minute = 600

[channels.eng_slack]
kind = "slack"
url = ")" +
         base + R"(/slack/engineering"
per_minute = 600

[channels.exec_teams]
kind = "teams"
url = ")" +
         base + R"(/teams/executives"

[channels.spokesperson_slack]
kind = "slack"
url = ")" +
         base + R"(/slack/spokesperson"
per_minute = 600

[channels.commander_pager]
kind = "pagerduty"
url = ")" +
         base + R"(/pagerduty/v2/enqueue"
secret = "${secret:env:LIFEBOAT_E2E_ROUTING_KEY}"
per_minute = 600

[roles.incident_commander]
person = "Ines Commander"
channels = ["commander_pager"]
tokens = ["ines"]

[roles.spokesperson]
person = "Sam Speaker"
channels = ["spokesperson_slack"]
tokens = ["sam"]

[roles.approver]
person = "Lee Approver"
tokens = ["lee"]

[audiences.customers]
channels = ["status_page", "customer_webhook"]
drill_channels = ["drill_webhook"]
external = true
approval = "spokesperson"

[audiences.engineering]
channels = ["eng_slack"]
drill = "real"
every = "2s"

[audiences.executives]
channels = ["exec_teams"]
drill = "held"

[templates.opened]
subject = "opened: {{service_name}} is down"
body = "{{impact}} Expected back by {{eta}}."

[templates.milestone]
subject = "milestone: {{step}} done"
body = "{{step}} finished after {{elapsed}}."

[templates.notify]
subject = "notify: {{service}}"
body = "{{message}}"

[templates.restored]
subject = "restored: {{service_name}} works again"
body = "Restored after {{elapsed}}."

[templates.resolved]
subject = "resolved: {{service_name}}"
body = "The incident is resolved."

[templates.update]
subject = "update: still {{state}}"
body = "Next update at {{next_update}}."

[[rules]]
on = "opened"
audiences = ["customers", "engineering", "executives"]
template = "opened"

[[rules]]
on = "milestone"
audiences = ["engineering"]
template = "milestone"
steps = ["promote"]

[[rules]]
on = "notify"
audiences = ["engineering"]
template = "notify"

[[rules]]
on = "restored"
audiences = ["customers", "engineering", "executives"]
template = "restored"

[[rules]]
on = "resolved"
audiences = ["customers", "engineering", "executives"]
template = "resolved"

[[rules]]
on = "update"
audiences = ["engineering"]
template = "update"

[status_page]
title = "E2E Shop status"
services = ["e2e-shop"]
)";
}

}  // namespace

void CommsEndToEnd::SetUp() {
  ASSERT_TRUE(fs::exists(coordinatorBinary())) << coordinatorBinary() << " is not built";
  ASSERT_TRUE(fs::exists(binaryDir() / "bin" / "lifeboat")) << "lifeboat is not built";
  // The agent must use the config given here, not one of the environment.
  ::unsetenv("LIFEBOAT_STATE_DIR");
  ::unsetenv("LIFEBOAT_CONFIG");
  // Tokens from the real `token` command; sam is the plan's spokesperson,
  // lee an approver who is not, ines an operator, vera a viewer.
  for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
           {"sam", "approver"}, {"lee", "approver"}, {"ines", "operator"}, {"vera", "viewer"}}) {
    const ProcessResult made = runProcess({coordinatorBinary().string(), "token", role, name});
    ASSERT_EQ(made.exitCode, 0) << made.err;
    const std::vector<std::string> lines = made.lines();
    ASSERT_GE(lines.size(), 5u) << made.out;
    tokens_[name] = lines[0];
    for (std::size_t i = 2; i < lines.size(); ++i) {
      tokenConfig_ += lines[i] + "\n";
    }
    tokenConfig_ += "\n";
  }
  hmacKey_ = "hmac-" + randomHex(16);
  routingKey_ = "route" + randomHex(14);
}

void CommsEndToEnd::TearDown() {
  if (coordinator_) {
    coordinator_->stop();
  }
}

void CommsEndToEnd::startAll(const ReceiverOptions& options) {
  auto withKeys = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.end(), {"--webhook-key", hmacKey_, "--routing-key", routingKey_});
    return arguments;
  };
  people_ = std::make_unique<comms::testing::PythonServer>(
      "receiver.py", temp_.path() / "people.jsonl", withKeys(options.people));
  drillHook_ = std::make_unique<comms::testing::PythonServer>(
      "receiver.py", temp_.path() / "drill-hook.jsonl", withKeys(options.drillHook));
  customerHook_ = std::make_unique<comms::testing::PythonServer>(
      "receiver.py", temp_.path() / "customer-hook.jsonl", withKeys(options.customerHook));
  ASSERT_GT(people_->port(), 0);
  ASSERT_GT(drillHook_->port(), 0);
  ASSERT_GT(customerHook_->port(), 0);
  // The webhooks' URLs are credentials: a secret path segment each.
  drillUrl_ =
      "http://127.0.0.1:" + std::to_string(drillHook_->port()) + "/webhook/drill-" + randomHex(12);
  customerUrl_ = "http://127.0.0.1:" + std::to_string(customerHook_->port()) +
                 "/webhook/customers-" + randomHex(12);
  ::setenv("LIFEBOAT_E2E_HMAC_KEY", hmacKey_.c_str(), 1);
  ::setenv("LIFEBOAT_E2E_ROUTING_KEY", routingKey_.c_str(), 1);
  ::setenv("LIFEBOAT_E2E_DRILL_URL", drillUrl_.c_str(), 1);
  ::setenv("LIFEBOAT_E2E_CUSTOMER_URL", customerUrl_.c_str(), 1);

  fs::create_directories(coordinatorDir());
  std::ofstream(coordinatorDir() / "comms.toml") << plan(people_->port());
  coordinator_ = std::make_unique<CoordinatorProcess>(
      coordinatorDir(), std::vector<std::string>{"e2e-agent"},
      "\n" + tokenConfig_ + "[comms]\nplan = \"comms.toml\"\n");
  coordinator_->start();
  ASSERT_TRUE(coordinator_->running());

  agentConfig_ = temp_.write(
      "agent.toml",
      "name = \"e2e-agent\"\nstate_dir = \"" + (temp_.path() / "state").string() +
          "\"\nrunbooks = []\n\n[coordinator]\nurl = \"" + coordinator_->url() +
          "\"\nca_file = \"" + coordinator_->tls("ca.pem").string() + "\"\ncert_file = \"" +
          coordinator_->tls("agent-e2e-agent.pem").string() + "\"\nkey_file = \"" +
          coordinator_->tls("agent-e2e-agent-key.pem").string() + "\"\nflush_timeout = \"30s\"\n");
}

ProcessResult CommsEndToEnd::drill(const std::string& runbook) {
  return runLifeboat({"drill", (sourceDir() / "tests/comms_e2e" / runbook).string(), "--config",
                      agentConfig_.string()});
}

ProcessResult CommsEndToEnd::run(const std::string& runbook) {
  return runLifeboat({"run", (sourceDir() / "tests/comms_e2e" / runbook).string(), "--yes",
                      "--config", agentConfig_.string()});
}

pid_t CommsEndToEnd::startRun(const std::string& runbook) {
  return startLifeboat({"run", (sourceDir() / "tests/comms_e2e" / runbook).string(), "--yes",
                        "--config", agentConfig_.string()});
}

HttpReply CommsEndToEnd::api(const std::string& method, const std::string& target,
                             const std::string& tokenName, const std::string& body) {
  return httpsRequest(coordinator_->apiPort(), ClientTls{coordinator_->tls("ca.pem"), {}, {}},
                      method, target, tokens_.at(tokenName), body);
}

json::object CommsEndToEnd::getJson(const std::string& target) {
  const HttpReply reply = api("GET", target);
  EXPECT_EQ(reply.status, 200) << target << ": " << reply.error << reply.body;
  boost::system::error_code error;
  json::value value = json::parse(reply.body, error);
  if (error || !value.is_object()) {
    ADD_FAILURE() << target << " answered no JSON object: " << reply.body;
    return {};
  }
  return std::move(value.as_object());
}

std::string CommsEndToEnd::incidentKey(bool drill) {
  const json::object answer = getJson("/api/v1/incidents");
  const json::value* list = answer.if_contains("incidents");
  if (list == nullptr || !list->is_array()) {
    return "";
  }
  for (const json::value& item : list->get_array()) {
    if (item.at("drill").as_bool() == drill) {
      return std::string(item.at("key").as_string());
    }
  }
  return "";
}

json::object CommsEndToEnd::incident(const std::string& key) {
  json::object answer = getJson("/api/v1/incidents/" + key);
  if (json::value* found = answer.if_contains("incident"); found != nullptr && found->is_object()) {
    return std::move(found->as_object());
  }
  ADD_FAILURE() << "no incident " << key;
  return {};
}

std::vector<json::object> CommsEndToEnd::messages(const std::string& key) {
  std::vector<json::object> out;
  const json::object answer = getJson("/api/v1/messages?incident=" + key);
  const json::value* list = answer.if_contains("messages");
  if (list == nullptr || !list->is_array()) {
    return out;
  }
  for (const json::value& item : list->get_array()) {
    out.push_back(item.as_object());
  }
  std::sort(out.begin(), out.end(), [](const json::object& a, const json::object& b) {
    return a.at("id").as_int64() < b.at("id").as_int64();
  });
  return out;
}

void CommsEndToEnd::approveAll(const std::string& key) {
  for (const json::object& message : messages(key)) {
    if (text(message, "state") == "awaiting_approval") {
      const HttpReply reply = api(
          "POST", "/api/v1/messages/" + std::to_string(message.at("id").as_int64()) + "/approve",
          "sam", "{}");
      // An approval covers the audience's other channels too: a second
      // approval of one of those is a conflict, not an error of ours.
      EXPECT_TRUE(reply.status == 200 || reply.status == 409) << reply.status << reply.body;
    }
  }
}

bool CommsEndToEnd::eventually(const std::function<bool()>& condition,
                               std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::string CommsEndToEnd::coordinatorLog() const {
  return readText(coordinatorDir() / "coordinator.log");
}

std::string text(const json::object& object, const char* key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

std::int64_t millis(const json::object& object, const char* key) {
  const Result<Timestamp> time = parseTimestamp(text(object, key));
  EXPECT_TRUE(time.ok()) << key << " is not a timestamp: " << json::serialize(object);
  return time.ok() ? time->time_since_epoch().count() : 0;
}

bool success(const json::object& record) {
  const std::int64_t status = record.at("status").to_number<std::int64_t>();
  return status >= 200 && status < 300;
}

std::vector<json::object> at(const std::vector<json::object>& records, const std::string& prefix) {
  std::vector<json::object> out;
  for (const json::object& record : records) {
    if (text(record, "path").starts_with(prefix)) {
      out.push_back(record);
    }
  }
  return out;
}

std::vector<json::object> where(const std::vector<json::object>& messages,
                                const std::string& audience) {
  std::vector<json::object> out;
  for (const json::object& message : messages) {
    if (text(message, "audience") == audience) {
      out.push_back(message);
    }
  }
  return out;
}

}  // namespace lifeboat::comms_e2e
