#include "engine_fixture.hpp"

#include <boost/json/parse.hpp>
#include <thread>

#include "lifeboat/common/diagnostics.hpp"

namespace lifeboat::comms::testing {

namespace json = boost::json;

std::string text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

Event RunEvents::make(std::string type, std::string step, json::object data) {
  Event event;
  event.agent = agent_;
  event.run = run_;
  event.seq = seq_++;
  event.time = time_;
  time_ += std::chrono::seconds(1);
  event.type = std::move(type);
  event.step = std::move(step);
  event.data = std::move(data);
  return event;
}

Event RunEvents::started(const std::string& service, bool drill) {
  json::array steps;
  steps.push_back({{"id", "promote"},
                   {"name", "Promote the standby"},
                   {"kind", "exec"},
                   {"restores_service", true},
                   {"runs", true}});
  steps.push_back({{"id", "check"}, {"name", "Check"}, {"kind", "exec"}, {"runs", true}});
  return make("run.started", "",
              {{"runbook", "/runbooks/orders.toml"},
               {"runbook_name", "orders-failover"},
               {"service", service},
               {"drill", drill},
               {"started_at", formatTimestamp(time_)},
               {"outage_start", formatTimestamp(time_ - std::chrono::seconds(30))},
               {"objectives", {{"rto_ms", 600000}, {"rpo_ms", 60000}}},
               {"steps", std::move(steps)}});
}

Event RunEvents::stepOk(const std::string& step) {
  return make("step.finished", step,
              {{"status", "ok"}, {"phase", "main"}, {"attempts", 1}, {"duration_ms", 1000}});
}

Event RunEvents::finished(const std::string& outcome) {
  return make("run.finished", "", {{"outcome", outcome}, {"exit_code", 0}, {"duration_ms", 9000}});
}

void EngineTest::SetUp() {
  Result<std::unique_ptr<store::Store>> opened =
      store::Store::open(directory_.path() / "events.db");
  ASSERT_TRUE(opened) << opened.error().message;
  store_ = std::move(*opened);
  std::vector<std::string> arguments = receiverArguments_;
  arguments.insert(arguments.end(), {"--webhook-key", kWebhookKey});
  receiver_ = std::make_unique<PythonServer>("receiver.py", directory_.path() / "requests.jsonl",
                                             arguments);
  ASSERT_NE(receiver_->port(), 0);
}

void EngineTest::TearDown() {
  stopEngine();
}

Plan EngineTest::plan(std::string text) const {
  for (std::size_t at = text.find("@PORT@"); at != std::string::npos; at = text.find("@PORT@")) {
    text.replace(at, 6, std::to_string(receiver_->port()));
  }
  DiagnosticSink sink;
  std::optional<Plan> parsed = parsePlan(text, sink);
  for (const Diagnostic& diagnostic : sink.sorted()) {
    // Warnings (unused templates, short cadences) are fine in these plans.
    if (diagnostic.severity == Severity::error) {
      ADD_FAILURE() << formatDiagnostic("plan.toml", diagnostic);
    }
  }
  return parsed.value_or(Plan{});
}

void EngineTest::startEngine(Plan plan) {
  EngineOptions options;
  options.database = directory_.path() / "comms.db";
  options.eventsDatabase = directory_.path() / "events.db";
  options.plan = std::move(plan);
  options.statusPageUrl = "https://127.0.0.1/status";
  options.log = [this](std::string_view line) { log_.emplace_back(line); };
  Result<std::unique_ptr<Engine>> engine = Engine::open(std::move(options));
  ASSERT_TRUE(engine) << engine.error().message;
  engine_ = std::move(*engine);
  engine_->start();
}

void EngineTest::stopEngine() {
  if (engine_) {
    engine_->stop();
    engine_.reset();
  }
}

void EngineTest::append(const std::vector<Event>& events) {
  Result<std::size_t> stored = store_->append(events);
  ASSERT_TRUE(stored) << stored.error().message;
  if (engine_) {
    engine_->eventsStored();
  }
}

json::array EngineTest::messages(const std::string& incident) {
  MessageFilter filter;
  filter.incident = incident;
  Result<json::array> list = engine_->messages(filter);
  EXPECT_TRUE(list) << list.error().message;
  return list ? *list : json::array{};
}

std::vector<json::object> EngineTest::messagesWhere(const std::string& field,
                                                    const std::string& value) {
  std::vector<json::object> found;
  for (const json::value& message : messages()) {
    if (text(message.as_object(), field) == value) {
      found.push_back(message.as_object());
    }
  }
  return found;
}

std::vector<json::object> EngineTest::received(const std::string& path) const {
  std::vector<json::object> found;
  for (json::object& request : receiver_->records()) {
    if (text(request, "path") == path) {
      found.push_back(std::move(request));
    }
  }
  return found;
}

bool EngineTest::eventually(const std::function<bool()>& condition,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace lifeboat::comms::testing
