// Run summaries, steps, objectives, decisions and notes, from the journal of
// a real drill and from hand-built events that follow docs/protocol.md.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::at;
using testing::drillJournal;
using testing::makeEvent;

constexpr const char* kDrillRun = "20261204T165708Z-97rv";

class StoreViews : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir_.path() / "events.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }

  boost::json::object run(const std::string& agent, const std::string& id) {
    auto found = store_->run(agent, id);
    EXPECT_TRUE(found.ok()) << (found ? "" : found.error().message);
    EXPECT_TRUE(found.ok() && found->has_value()) << agent << "/" << id;
    return found.ok() && found->has_value() ? **found : boost::json::object{};
  }

  static const boost::json::object& step(const boost::json::object& run, std::string_view id) {
    for (const auto& entry : run.at("steps").as_array()) {
      if (entry.at("id").as_string() == id) {
        return entry.as_object();
      }
    }
    ADD_FAILURE() << "no step " << id;
    static const boost::json::object kNone;
    return kNone;
  }

  test_support::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreViews, SummarizesARealDrillJournal) {
  // Split in two batches, as a stream would deliver it.
  const std::vector<Event> journal = drillJournal();
  ASSERT_TRUE(store_->append(std::span(journal).first(12)).ok());
  ASSERT_TRUE(store_->append(std::span(journal).subspan(12)).ok());

  auto runs = store_->runs({});
  ASSERT_TRUE(runs.ok()) << runs.error().message;
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0), boost::json::parse(R"({
    "agent": "vm", "run": "20261204T165708Z-97rv", "runbook_name": "web-standby-failover",
    "service": "shop-web", "drill": true, "started_at": "2026-12-04T16:57:08.933Z",
    "finished_at": "2026-12-04T16:57:08.965Z", "outcome": "done", "live": false,
    "outage_start": "2026-12-04T16:57:08.933Z",
    "rto": {"target_ms": 120000, "value_ms": 28, "verdict": "met"},
    "rpo": {"target_ms": 300000, "value_ms": 12000, "verdict": "met"},
    "events": 31})"));
  auto agents = store_->agents();
  ASSERT_TRUE(agents.ok());
  EXPECT_EQ(agents->at(0).at("last_seq").as_uint64(), 1031u);
  EXPECT_EQ(agents->at(0).at("first_seen").as_string(), "2026-12-04T16:57:08.933Z");
}

TEST_F(StoreViews, StepsFollowThePlanAndTheTimeline) {
  ASSERT_TRUE(store_->append(drillJournal()).ok());
  const boost::json::object full = run("vm", kDrillRun);
  const auto& steps = full.at("steps").as_array();
  std::vector<std::string> ids;
  for (const auto& entry : steps) {
    ids.emplace_back(entry.at("id").as_string());
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"standby-up", "data-window", "approve", "fence-primary",
                                      "promote", "verify", "tell-engineers", "drop-drill-marker"}));
  const auto& window = step(full, "data-window");
  EXPECT_EQ(window.at("name").as_string(), "Measure the data-loss window");
  EXPECT_EQ(window.at("kind").as_string(), "exec");
  EXPECT_EQ(window.at("wave").as_int64(), 1);
  EXPECT_EQ(window.at("status").as_string(), "ok");
  EXPECT_EQ(window.at("phase").as_string(), "main");
  EXPECT_EQ(window.at("attempts").as_int64(), 1);
  EXPECT_EQ(window.at("started_at").as_string(), "2026-12-04T16:57:08.944Z");
  EXPECT_EQ(window.at("finished_at").as_string(), "2026-12-04T16:57:08.952Z");
  EXPECT_EQ(window.at("duration_ms").as_int64(), 10);
  EXPECT_TRUE(window.at("error").is_null());

  EXPECT_EQ(step(full, "verify").at("restores_service").as_bool(), true);
  const auto& fence = step(full, "fence-primary");
  EXPECT_EQ(fence.at("status").as_string(), "skipped");
  EXPECT_TRUE(fence.at("started_at").is_null());
  EXPECT_EQ(fence.at("skip_reason").as_string(), "when = \"real\"");
  EXPECT_EQ(step(full, "drop-drill-marker").at("phase").as_string(), "cleanup");

  const auto& objectives = full.at("objectives").as_array();
  ASSERT_EQ(objectives.size(), 4u);
  EXPECT_EQ(objectives[0].at("type").as_string(), "objective.measured");
  EXPECT_EQ(objectives[0].at("objective").as_string(), "rpo");
  EXPECT_EQ(objectives[0].at("step").as_string(), "data-window");
  EXPECT_EQ(objectives[2].at("type").as_string(), "objective.evaluated");
  EXPECT_EQ(objectives[2].at("restored_at").as_string(), "2026-12-04T16:57:08.961Z");
  EXPECT_EQ(objectives[2].at("time").as_string(), "2026-12-04T16:57:08.964Z");

  const auto& decisions = full.at("decisions").as_array();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].at("step").as_string(), "approve");
  EXPECT_EQ(decisions[0].at("status").as_string(), "made");
  EXPECT_EQ(decisions[0].at("request").at("options").as_array().size(), 2u);
  EXPECT_EQ(decisions[0].at("made").at("choice").as_string(), "promote");
  EXPECT_EQ(decisions[0].at("made").at("by").as_string(), "sre-oncall");
  EXPECT_TRUE(full.at("notes").as_array().empty());

  auto unknown = store_->run("vm", "no-such-run");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

// A failover as it happens: the summary and steps while it runs, a retry,
// a rollback, a pending decision, then the end.
TEST_F(StoreViews, ALiveRunShowsWhatHappenedSoFar) {
  const boost::json::array plan = boost::json::parse(R"([
    {"id":"fence","name":"Fence","kind":"exec","target":"db1","wave":1,"cleanup":false,
     "runs":true,"restores_service":false,"measures_rpo":false,"idempotent":true,"attempts":3,
     "has_rollback":true},
    {"id":"promote","name":"Promote","kind":"plugin","target":"db2","wave":2,"cleanup":false,
     "runs":true,"restores_service":true,"measures_rpo":false,"idempotent":false,"attempts":1,
     "has_rollback":false},
    {"id":"ask","name":"Ask","kind":"decision","target":"","wave":3,"cleanup":false,
     "runs":true,"restores_service":false,"measures_rpo":false,"idempotent":false,"attempts":1,
     "has_rollback":false}])")
                                      .as_array();
  const std::string id = "20261124T225610Z-k3f9";
  std::vector<Event> first{
      makeEvent("db-eu-1", id, 100, "run.started", "",
                {{"runbook", "/etc/lifeboat/runbooks/orders.toml"},
                 {"runbook_name", "orders-failover"},
                 {"service", "orders"},
                 {"drill", false},
                 {"started_at", formatTimestamp(at(0))},
                 {"outage_start", formatTimestamp(at(-30000))},
                 {"outage_start_source", "trigger"},
                 {"objectives", {{"rto_ms", 60000}}},
                 {"steps", plan}}),
      makeEvent("db-eu-1", id, 101, "step.started", "fence",
                {{"kind", "exec"}, {"phase", "main"}, {"attempt", 1}}, 10),
      makeEvent("db-eu-1", id, 102, "step.started", "fence",
                {{"kind", "exec"}, {"phase", "main"}, {"attempt", 2}}, 1010),
  };
  ASSERT_TRUE(store_->append(first).ok());
  {
    const auto live = run("db-eu-1", id);
    EXPECT_TRUE(live.at("live").as_bool());
    EXPECT_TRUE(live.at("finished_at").is_null());
    EXPECT_EQ(live.at("drill").as_bool(), false);
    EXPECT_EQ(live.at("outage_start").as_string(), formatTimestamp(at(-30000)));
    EXPECT_EQ(live.at("rto"),
              boost::json::parse(R"({"target_ms":60000,"value_ms":null,"verdict":null})"));
    EXPECT_EQ(live.at("rpo"),
              boost::json::parse(R"({"target_ms":null,"value_ms":null,"verdict":null})"));
    const auto& fence = step(live, "fence");
    EXPECT_EQ(fence.at("status").as_string(), "running");
    EXPECT_EQ(fence.at("attempts").as_int64(), 2);
    EXPECT_EQ(fence.at("started_at").as_string(), formatTimestamp(at(10)));
    EXPECT_EQ(step(live, "promote").at("status").as_string(), "pending");
    auto liveRuns = store_->runs({.liveOnly = true});
    ASSERT_TRUE(liveRuns.ok());
    EXPECT_EQ(liveRuns->size(), 1u);
  }

  std::vector<Event> second{
      makeEvent("db-eu-1", id, 103, "step.finished", "fence",
                {{"status", "ok"}, {"phase", "main"}, {"attempts", 2}, {"duration_ms", 1500}},
                1510),
      makeEvent("db-eu-1", id, 104, "step.started", "promote",
                {{"kind", "plugin"}, {"phase", "main"}, {"attempt", 1}}, 1600),
      makeEvent("db-eu-1", id, 105, "objective.measured", "promote",
                {{"objective", "rto"}, {"value_ms", 33000}, {"source", "promote"}}, 3000),
      makeEvent("db-eu-1", id, 106, "step.finished", "promote",
                {{"status", "failed"},
                 {"phase", "main"},
                 {"attempts", 1},
                 {"duration_ms", 1400},
                 {"error", "promote timed out"}},
                3000),
      makeEvent("db-eu-1", id, 107, "step.started", "fence",
                {{"kind", "exec"}, {"phase", "rollback"}, {"attempt", 1}}, 3100),
      makeEvent("db-eu-1", id, 108, "step.finished", "fence",
                {{"status", "ok"}, {"phase", "rollback"}, {"attempts", 1}, {"duration_ms", 200}},
                3300),
      makeEvent("db-eu-1", id, 109, "step.started", "ask",
                {{"kind", "decision"}, {"phase", "main"}, {"attempt", 1}}, 3400),
      makeEvent("db-eu-1", id, 110, "decision.requested", "ask",
                {{"question", "Retry the promotion?"},
                 {"options", boost::json::parse(R"([{"id":"retry","label":"retry","impact":""}])")},
                 {"approvers", boost::json::array{"dba"}}},
                3400),
  };
  ASSERT_TRUE(store_->append(second).ok());
  {
    const auto live = run("db-eu-1", id);
    EXPECT_EQ(live.at("rto").at("value_ms").as_int64(), 33000) << "measured, not yet evaluated";
    const auto& fence = step(live, "fence");
    EXPECT_EQ(fence.at("phase").as_string(), "rollback");
    EXPECT_EQ(fence.at("started_at").as_string(), formatTimestamp(at(10)));
    EXPECT_EQ(fence.at("duration_ms").as_int64(), 200);
    ASSERT_EQ(fence.at("phases").as_array().size(), 2u);
    EXPECT_EQ(fence.at("phases").at(0).at("attempts").as_int64(), 2);
    EXPECT_EQ(fence.at("phases").at(0).at("duration_ms").as_int64(), 1500);
    const auto& promote = step(live, "promote");
    EXPECT_EQ(promote.at("status").as_string(), "failed");
    EXPECT_EQ(promote.at("error").as_string(), "promote timed out");
    const auto& decisions = live.at("decisions").as_array();
    ASSERT_EQ(decisions.size(), 1u);
    EXPECT_EQ(decisions[0].at("status").as_string(), "pending");
    EXPECT_TRUE(decisions[0].at("made").is_null());
    EXPECT_EQ(decisions[0].at("requested_at").as_string(), formatTimestamp(at(3400)));
  }

  std::vector<Event> third{
      makeEvent("db-eu-1", id, 111, "decision.made", "ask",
                {{"choice", "retry"},
                 {"by", "carol"},
                 {"rationale", "db2 is up"},
                 {"via", "coordinator"}},
                5000),
      makeEvent("db-eu-1", id, 112, "objective.evaluated", "",
                {{"objective", "rto"}, {"target_ms", 60000}, {"verdict", "unknown"}}, 6000),
      makeEvent("db-eu-1", id, 113, "run.finished", "",
                {{"outcome", "failed"}, {"exit_code", 1}, {"failed_steps", {"promote"}}}, 6001),
  };
  ASSERT_TRUE(store_->append(third).ok());
  const auto done = run("db-eu-1", id);
  EXPECT_FALSE(done.at("live").as_bool());
  EXPECT_EQ(done.at("outcome").as_string(), "failed");
  EXPECT_EQ(done.at("finished_at").as_string(), formatTimestamp(at(6001)));
  EXPECT_EQ(done.at("rto"),
            boost::json::parse(R"({"target_ms":60000,"value_ms":null,"verdict":"unknown"})"))
      << "the evaluation has the last word; it did not count the measurement";
  EXPECT_EQ(done.at("decisions").at(0).at("status").as_string(), "made");
  EXPECT_EQ(done.at("decisions").at(0).at("made").at("by").as_string(), "carol");
  auto liveRuns = store_->runs({.liveOnly = true});
  ASSERT_TRUE(liveRuns.ok());
  EXPECT_TRUE(liveRuns->empty());
}

TEST_F(StoreViews, RunsAndObjectivesNewestFirstAndFiltered) {
  for (int i = 0; i < 3; ++i) {
    const std::string id = "run-" + std::to_string(i);
    const std::string service = i == 1 ? "billing" : "orders";
    const auto seq = static_cast<std::uint64_t>(10 * i);
    std::vector<Event> events{
        makeEvent("db-eu-1", id, seq + 1, "run.started", "",
                  {{"service", service},
                   {"drill", i == 2},
                   {"started_at", formatTimestamp(at(i * 60000))}},
                  i * 60000),
        makeEvent("db-eu-1", id, seq + 2, "objective.evaluated", "",
                  {{"objective", "rpo"},
                   {"target_ms", 5000},
                   {"value_ms", 1000 * i},
                   {"verdict", "met"},
                   {"source", "lag"}},
                  i * 60000 + 10),
    };
    ASSERT_TRUE(store_->append(events).ok());
  }
  auto runs = store_->runs({.service = "orders"});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(runs->at(0).at("run").as_string(), "run-2");
  EXPECT_EQ(runs->at(1).at("run").as_string(), "run-0");
  auto limited = store_->runs({.limit = 1});
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ(limited->at(0).at("run").as_string(), "run-2");
  auto none = store_->runs({.agent = "db-us-1"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto objectives = store_->objectives("orders", 10);
  ASSERT_TRUE(objectives.ok()) << objectives.error().message;
  ASSERT_EQ(objectives->size(), 2u);
  EXPECT_EQ(objectives->at(0), boost::json::parse(R"({
    "agent":"db-eu-1","run":"run-2","service":"orders","drill":true,"objective":"rpo",
    "target_ms":5000,"value_ms":2000,"verdict":"met","time":")" +
                                                  formatTimestamp(at(120010)) + R"("})"));
  auto all = store_->objectives("", 10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST_F(StoreViews, NotesGoOnAStoredRunsTimeline) {
  ASSERT_TRUE(store_->append(drillJournal()).ok());
  auto note = store_->addNote("vm", kDrillRun, "alice", "standby took over cleanly", at(5));
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(note->at("author").as_string(), "alice");
  EXPECT_EQ(note->at("time").as_string(), formatTimestamp(at(5)));
  EXPECT_EQ(note->at("text").as_string(), "standby took over cleanly");
  ASSERT_TRUE(store_->addNote("vm", kDrillRun, "bob", "second", at(6)).ok());

  const auto full = run("vm", kDrillRun);
  const auto& notes = full.at("notes").as_array();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].as_object(), *note);
  EXPECT_EQ(notes[1].at("author").as_string(), "bob");

  auto missing = store_->addNote("vm", "no-such-run", "alice", "hello", at(7));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no-such-run"), std::string::npos);
  auto empty = store_->addNote("vm", kDrillRun, "alice", "", at(7));
  EXPECT_FALSE(empty.ok());
}

}  // namespace
}  // namespace lifeboat::store
