// Appending events: duplicates, batches that fail whole, presence, paging,
// and a reader beside the writer.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <limits>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::at;
using testing::makeEvent;
using testing::outputEvents;
using testing::sqlValue;

class StoreAppend : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(file_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }

  boost::json::object agent(const std::string& name) {
    auto found = store_->agent(name);
    EXPECT_TRUE(found.ok());
    EXPECT_TRUE(found.ok() && found->has_value()) << name;
    return found.ok() && found->has_value() ? **found : boost::json::object{};
  }

  test_support::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "events.db";
  std::unique_ptr<Store> store_;
};

TEST_F(StoreAppend, StoresEachAgentAndSeqOnceAndCountsTheDuplicates) {
  auto first = store_->appendBatch(outputEvents("db-eu-1", "r1", 1, 5));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->stored, 5u);
  EXPECT_EQ(first->duplicates, 0u);
  ASSERT_EQ(first->ids.size(), 5u);
  EXPECT_LT(first->ids[0], first->ids[4]);

  // A resend after a lost acknowledgement: seq 3..5 again, then 6 and 7.
  auto again = store_->appendBatch(outputEvents("db-eu-1", "r1", 3, 5));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->stored, 2u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(again->ids[0], 0);
  EXPECT_EQ(again->ids[2], 0);
  EXPECT_GT(again->ids[3], first->ids[4]);

  EXPECT_EQ(sqlValue(file_, "SELECT count(*) FROM events"), "7");
  const boost::json::object summary = agent("db-eu-1");
  EXPECT_EQ(summary.at("events").as_int64(), 7);
  EXPECT_EQ(summary.at("last_seq").as_uint64(), 7u);
  auto runs = store_->runs({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0).at("events").as_int64(), 7);
}

TEST_F(StoreAppend, TheSameSeqFromTwoAgentsIsStoredTwice) {
  std::vector<Event> batch = outputEvents("db-eu-1", "r1", 42, 1);
  batch.push_back(outputEvents("db-us-1", "r2", 42, 1).front());
  auto stored = store_->append(batch);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(*stored, 2u);
  EXPECT_EQ(agent("db-eu-1").at("events").as_int64(), 1);
  EXPECT_EQ(agent("db-us-1").at("events").as_int64(), 1);
  EXPECT_EQ(agent("db-us-1").at("last_seq").as_uint64(), 42u);
}

TEST_F(StoreAppend, ABatchThatFailsMidwayStoresNothing) {
  ASSERT_TRUE(store_->append(outputEvents("db-eu-1", "r0", 1, 3)).ok());
  // The sixth event breaks an Event invariant (type never empty), which the
  // schema checks: the insert fails after five were written in the batch.
  std::vector<Event> batch = outputEvents("db-eu-1", "r1", 10, 10);
  batch[5].type = "";
  batch.push_back(makeEvent("db-eu-1", "r1", 30, "run.finished", "", {{"outcome", "done"}}));
  auto stored = store_->appendBatch(batch);
  ASSERT_FALSE(stored.ok());
  EXPECT_NE(stored.error().message.find("event 6 of 11 (agent \"db-eu-1\", seq 15"),
            std::string::npos)
      << stored.error().message;
  EXPECT_EQ(sqlValue(file_, "SELECT count(*) FROM events"), "3");
  EXPECT_EQ(sqlValue(file_, "SELECT count(*) FROM runs WHERE run = 'r1'"), "0");
  EXPECT_EQ(agent("db-eu-1").at("events").as_int64(), 3);
  EXPECT_EQ(agent("db-eu-1").at("last_seq").as_uint64(), 3u);

  // The store stays usable: the same batch, repaired, goes in whole.
  batch[5].type = "step.output";
  auto retried = store_->appendBatch(batch);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->stored, 11u);
  EXPECT_EQ(agent("db-eu-1").at("events").as_int64(), 14);
}

TEST_F(StoreAppend, PresenceEventsAreNotStoredAgentLevelEventsMakeNoRun) {
  std::vector<Event> batch{
      makeEvent("db-eu-1", "", 0, "hello", "",
                {{"agent_version", "0.1.0"}, {"protocol", 1}, {"hostname", "db1"}}),
      makeEvent("db-eu-1", "", 7, "watch.started", "", {{"pid", 99}}, 10),
      makeEvent("db-eu-1", "", 8, "outage.declared", "",
                {{"service", "orders"}, {"consecutive_failures", 3}}, 20),
      makeEvent("db-eu-1", "", 0, "heartbeat", "", {}, 30000),
  };
  auto stored = store_->appendBatch(batch);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->stored, 2u);
  EXPECT_EQ(stored->duplicates, 0u);
  EXPECT_EQ(stored->ids[0], 0);
  EXPECT_EQ(stored->ids[3], 0);
  EXPECT_EQ(sqlValue(file_, "SELECT group_concat(type) FROM events"),
            "watch.started,outage.declared");
  EXPECT_EQ(sqlValue(file_, "SELECT count(*) FROM runs"), "0");
  const auto summary = agent("db-eu-1");
  EXPECT_EQ(summary.at("events").as_int64(), 2);
  EXPECT_EQ(summary.at("last_seq").as_uint64(), 8u);
  EXPECT_EQ(summary.at("last_seen").as_string(), formatTimestamp(at(30000)));
}

TEST_F(StoreAppend, PresenceKeepsFirstAndLastSeenAndTheLatestDetails) {
  auto added = store_->recordPresence({.agent = "db-eu-1",
                                       .online = true,
                                       .at = at(1000),
                                       .hostname = "db1.example",
                                       .version = "0.1.0",
                                       .address = "127.0.0.1"});
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(*added);
  auto online = agent("db-eu-1");
  EXPECT_EQ(online.at("online").as_bool(), true);
  EXPECT_EQ(online.at("hostname").as_string(), "db1.example");
  EXPECT_TRUE(online.at("last_seq").is_null());
  EXPECT_EQ(online.at("events").as_int64(), 0);

  auto gone = store_->recordPresence({.agent = "db-eu-1", .online = false, .at = at(5000)});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  const auto offline = agent("db-eu-1");
  EXPECT_EQ(offline.at("online").as_bool(), false);
  EXPECT_EQ(offline.at("hostname").as_string(), "db1.example") << "kept: the goodbye has none";
  EXPECT_EQ(offline.at("version").as_string(), "0.1.0");
  EXPECT_EQ(offline.at("address").as_string(), "127.0.0.1");
  EXPECT_EQ(offline.at("first_seen").as_string(), formatTimestamp(at(1000)));
  EXPECT_EQ(offline.at("last_seen").as_string(), formatTimestamp(at(5000)));

  ASSERT_TRUE(store_->recordPresence({.agent = "db-us-1", .online = true, .at = at(6000)}).ok());
  ASSERT_TRUE(store_->recordPresence({.agent = "db-ap-1", .online = true, .at = at(6000)}).ok());
  auto marked = store_->markAllOffline(at(9000));
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 2u);
  auto agents = store_->agents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 3u);
  EXPECT_EQ(agents->at(0).at("name").as_string(), "db-ap-1") << "by name";
  for (const auto& entry : *agents) {
    EXPECT_FALSE(entry.at("online").as_bool());
    EXPECT_EQ(entry.as_object().size(), 9u);
  }
  auto unknown = store_->agent("nobody");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(StoreAppend, EventsPageByIdAndKeepTheirOwnShape) {
  std::vector<Event> batch = outputEvents("db-eu-1", "r1", 1, 10);
  const auto other = outputEvents("db-us-1", "r2", 1, 10);
  batch.insert(batch.end(), other.begin(), other.end());
  batch.push_back(makeEvent("db-us-1", "", std::numeric_limits<std::uint64_t>::max(),
                            "watch.started", "", {{"pid", 1}}));
  ASSERT_TRUE(store_->append(batch).ok());

  std::vector<std::int64_t> ids;
  std::int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    auto events = store_->events({.afterId = after, .limit = 6});
    ASSERT_TRUE(events.ok()) << events.error().message;
    if (events->empty()) {
      break;
    }
    EXPECT_LE(events->size(), 6u);
    for (const auto& event : *events) {
      ids.push_back(event.at("id").as_int64());
    }
    after = ids.back();
  }
  ASSERT_EQ(ids.size(), 21u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  auto ofAgent = store_->events({.agent = "db-us-1"});
  ASSERT_TRUE(ofAgent.ok());
  ASSERT_EQ(ofAgent->size(), 11u);
  const auto& last = ofAgent->back().as_object();
  EXPECT_EQ(last.at("seq").as_uint64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(last.contains("step")) << "left out when empty, as in the event line";

  auto ofRun = store_->events({.agent = "db-eu-1", .run = "r1", .afterId = ids[2], .limit = 100});
  ASSERT_TRUE(ofRun.ok());
  ASSERT_EQ(ofRun->size(), 7u);
  const auto& first = ofRun->front().as_object();
  EXPECT_EQ(first.at("id").as_int64(), ids[3]);
  // The event's own keys, in encodeEvent()'s order, after "id".
  std::vector<std::string> keys;
  for (const auto& member : first) {
    keys.emplace_back(member.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "v", "agent", "run", "seq", "ts", "type", "step",
                                            "data"}));
  boost::json::object line = first;
  line.erase("id");
  auto decoded = decodeEvent(boost::json::serialize(line));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, batch[3]);
}

TEST_F(StoreAppend, AReaderSeesTheWritersCommits) {
  ASSERT_TRUE(store_->append(outputEvents("db-eu-1", "r1", 1, 5)).ok());
  auto reader = Store::open(file_, Access::ReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto before = (*reader)->events({});
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->size(), 5u);

  ASSERT_TRUE(store_->append(outputEvents("db-eu-1", "r1", 6, 5)).ok());
  auto after = (*reader)->events({});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 10u);
  auto agents = (*reader)->agents();
  ASSERT_TRUE(agents.ok());
  EXPECT_EQ(agents->at(0).at("events").as_int64(), 10);
}

}  // namespace
}  // namespace lifeboat::store
