#include "store_fixture.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sstream>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::store::testing {

Timestamp at(std::int64_t offsetMillis) {
  // 2026-11-24T22:56:10Z
  return Timestamp(std::chrono::milliseconds(1795560970000LL + offsetMillis));
}

Event makeEvent(std::string agent, std::string run, std::uint64_t seq, std::string type,
                std::string step, boost::json::object data, std::int64_t offsetMillis) {
  Event event;
  event.agent = std::move(agent);
  event.run = std::move(run);
  event.seq = seq;
  event.time = at(offsetMillis);
  event.type = std::move(type);
  event.step = std::move(step);
  event.data = std::move(data);
  return event;
}

std::vector<Event> outputEvents(const std::string& agent, const std::string& run,
                                std::uint64_t first, std::size_t count) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < count; ++i) {
    events.push_back(makeEvent(agent, run, first + i, "step.output", "promote",
                               {{"stream", "stdout"}, {"text", "line " + std::to_string(i)}},
                               static_cast<std::int64_t>(first + i)));
  }
  return events;
}

std::vector<Event> drillJournal() {
  const auto file = test_support::sourceDir() / "tests/coordinator_store/web-standby-drill.jsonl";
  std::istringstream lines(test_support::readText(file));
  std::vector<Event> events;
  std::string line;
  while (std::getline(lines, line)) {
    Result<Event> event = decodeEvent(line);
    EXPECT_TRUE(event.ok()) << file << ": " << (event ? "" : event.error().message);
    if (event) {
      events.push_back(std::move(*event));
    }
  }
  EXPECT_EQ(events.size(), 31u) << "cannot read " << file;
  return events;
}

std::string sqlValue(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
      if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
        value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
      }
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(statement);
  } else {
    ADD_FAILURE() << "cannot open " << file;
  }
  sqlite3_close(db);
  return value;
}

void sqlExecute(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(code, SQLITE_OK) << sql << ": " << (message != nullptr ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

}  // namespace lifeboat::store::testing
