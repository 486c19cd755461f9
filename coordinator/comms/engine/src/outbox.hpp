#pragma once
// The engine's own SQLite file: incidents, the outbox, the cadence and the
// cursor into the events store (docs/communications.md, "Outbox and
// delivery"). Uses the store's small SQLite wrapper; internal to the engine.

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/event.hpp"
#include "lifeboat/store/sqlite.hpp"

namespace lifeboat::comms::detail {

using store::detail::Connection;
using store::detail::SqliteFailure;
using store::detail::Statement;

inline std::int64_t toMillis(Timestamp time) {
  return time.time_since_epoch().count();
}
inline Timestamp fromMillis(std::int64_t millis) {
  return Timestamp{Milliseconds{millis}};
}

// Opens the outbox (ReadWrite creates it), WAL, synchronous=FULL, migrated.
// Throws SqliteFailure.
std::unique_ptr<Connection> openOutbox(const std::filesystem::path& file);

// BEGIN IMMEDIATE ... COMMIT; rolls back when not committed.
class Transaction {
 public:
  explicit Transaction(Connection& db) : db_(db) { db_.execute("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) {
      db_.rollback();
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.execute("COMMIT");
    done_ = true;
  }

 private:
  Connection& db_;
  bool done_ = false;
};

// An incident: one per drill run; for real outages one per service while open.
struct Incident {
  std::string key;
  std::string service;
  bool drill = false;
  std::string agent{};
  std::string run{};
  std::string runbook{};
  // investigating | failing_over | restored | failed | resolved
  std::string state = "investigating";
  std::int64_t openedAt = 0;
  std::optional<std::int64_t> outageStart{};
  std::optional<std::int64_t> restoredAt{};
  std::optional<std::int64_t> resolvedAt{};
  std::optional<std::int64_t> rtoTargetMs{};
  std::optional<std::int64_t> rpoTargetMs{};
  std::optional<std::int64_t> rtoMs{};
  std::optional<std::int64_t> rpoMs{};
  std::string rtoVerdict{};
  std::string rpoVerdict{};
  std::string outcome{};
  std::vector<std::string> restoresSteps{};  // steps with restores_service
  std::string resolvedBy{};
};

std::optional<Incident> loadIncident(Connection& db, std::string_view key);
void saveIncident(Connection& db, const Incident& incident);
// The open real incident of `service`, if any.
std::optional<Incident> openIncidentOf(Connection& db, std::string_view service);
std::optional<Incident> incidentOfRun(Connection& db, std::string_view agent, std::string_view run);
std::vector<Incident> openIncidents(Connection& db);

struct MessageRow {
  std::int64_t id = 0;
  std::string dedupKey;
  std::string groupKey;
  std::string incident;
  std::string audience;
  std::string channel;
  std::string trigger;
  bool drill = false;
  bool resolves = false;
  std::string subject;
  std::string body;
  std::string facts = "{}";  // JSON object text
  // awaiting_approval | pending | sent | failed | held | rejected
  std::string state = "pending";
  std::string wouldGoTo{};  // drill: the real channels, comma-separated
  std::int64_t createdAt = 0;
  std::int64_t nextAttemptAt = 0;
  std::int64_t attempts = 0;
  std::optional<std::int64_t> sentAt{};
  std::string lastError{};
  std::int64_t lastStatus = 0;
  std::string approvedBy{};
  std::optional<std::int64_t> approvedAt{};
  bool edited = false;
};

// INSERT unless the dedup key is known; true when inserted.
bool insertMessage(Connection& db, MessageRow& row);
std::optional<MessageRow> loadMessage(Connection& db, std::int64_t id);
// The next pending message of `channel` (earliest next attempt).
std::optional<MessageRow> nextPending(Connection& db, std::string_view channel);
boost::json::object messageJson(const MessageRow& row);
std::vector<MessageRow> messagesWhere(Connection& db, std::string_view incident,
                                      std::string_view state, std::size_t limit);

std::int64_t cursor(Connection& db);
void setCursor(Connection& db, std::int64_t id);

}  // namespace lifeboat::comms::detail
