#pragma once
// Events and databases for the store's tests: events built the way
// docs/protocol.md describes them, the journal of a real drill, and raw
// SQLite access for what the Store API does not show (schema, pragmas).

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::store::testing {

// 2026-11-24T22:56:10.000Z plus `offsetMillis`.
Timestamp at(std::int64_t offsetMillis = 0);

Event makeEvent(std::string agent, std::string run, std::uint64_t seq, std::string type,
                std::string step = "", boost::json::object data = {},
                std::int64_t offsetMillis = 0);

// `count` step.output events of one agent and run, seq first..first+count-1.
std::vector<Event> outputEvents(const std::string& agent, const std::string& run,
                                std::uint64_t first, std::size_t count);

// tests/coordinator_store/web-standby-drill.jsonl: the journal `lifeboat
// drill` wrote for runbooks/web-standby-drill.toml (scripts/demo.sh), run
// 20261204T165708Z-97rv of agent "vm", 31 events, seq 1001..1031.
std::vector<Event> drillJournal();

// Polls `ready` every millisecond for up to 10 s; whether it became true.
template <class Ready>
bool waitUntil(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// One value of a query on the raw database ("" when no row), read with the
// SQLite C API beside the Store.
std::string sqlValue(const std::filesystem::path& file, const std::string& sql);
// Runs SQL on the raw database; fails the test when it fails.
void sqlExecute(const std::filesystem::path& file, const std::string& sql);

}  // namespace lifeboat::store::testing
