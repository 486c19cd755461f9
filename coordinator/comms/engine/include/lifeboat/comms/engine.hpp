#pragma once
// The comms engine (docs/communications.md): turns the events the
// coordinator stored into incidents and messages for the plan's audiences,
// keeps them in an outbox and delivers them.
//
// Crash safety. The engine has its own SQLite file (WAL, synchronous=FULL)
// beside the events database. It reads stored events in id order and, for
// each, updates the incident and queues the messages in one transaction with
// the cursor: after a crash it resumes at the first event it had not
// finished, and no message is made twice (each has a dedup key, UNIQUE in
// the outbox). A queued message is sent at least once: it leaves `pending`
// only after its channel accepted it, and a resend carries the same dedup
// key (Idempotency-Key, PagerDuty's dedup_key, the email's Message-ID).
//
// Threads: one reads events and runs the cadence; each channel has its own
// sender (so a slow channel never holds up another) with its own rate limit.
// The API functions may be called from any thread.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"
#include "lifeboat/comms/channels.hpp"
#include "lifeboat/comms/plan.hpp"

namespace lifeboat::comms {

struct EngineOptions {
  std::filesystem::path database;        // the outbox (created when missing)
  std::filesystem::path eventsDatabase;  // the coordinator's store, read only
  Plan plan;
  // The status page's public address, for {{status_page_url}} ("" = unknown).
  std::string statusPageUrl{};
  // Tests shorten time; production uses the system clock and send().
  std::function<Timestamp()> clock{};
  std::function<Delivery(const ChannelSpec&, const Message&)> sender{};
  // Messages for people running the coordinator (one line each, no secret).
  std::function<void(std::string_view)> log{};
};

struct MessageFilter {
  std::string incident{};  // "" = every incident
  std::string state{};     // "" = every state
  std::size_t limit = 500;
};

class Engine {
 public:
  // Opens (creates, migrates) the outbox. Errors name the file.
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  ~Engine();  // stops
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  void stop();
  // New events were committed: read them soon.
  void eventsStored();
  // Processes every stored event not yet read and the cadence, now, on the
  // calling thread (tests; start() does this continuously).
  Result<std::size_t> catchUp();
  // Waits until no message is pending before `deadline` (tests, drain).
  bool waitIdle(std::chrono::milliseconds timeout);

  // --- API (docs/coordinator.md, "Communications") ---
  // Incidents, newest first: [{"key","service","service_name","drill","state",
  //   "agent","run","runbook","opened_at","outage_start","restored_at",
  //   "resolved_at","rto":{…},"rpo":{…},"messages":{state: count}}].
  Result<boost::json::array> incidents(bool openOnly, std::size_t limit);
  Result<std::optional<boost::json::object>> incident(std::string_view key);
  // Messages, newest first: [{"id","dedup_key","incident","audience","channel",
  //   "trigger","drill","state","subject","body","created_at","sent_at",
  //   "attempts","next_attempt_at","last_error","last_status","approved_by",
  //   "approved_at","edited","would_go_to"}].
  Result<boost::json::array> messages(const MessageFilter& filter);
  // Approves a message awaiting approval, with every message of its
  // announcement (the same text on the audience's other channels),
  // optionally with an edited subject/body. `by` names the person. Errors:
  // not found, not awaiting approval.
  Result<boost::json::object> approve(std::int64_t id, std::string_view by,
                                      std::optional<std::string> subject,
                                      std::optional<std::string> body);
  Result<boost::json::object> reject(std::int64_t id, std::string_view by, std::string_view reason);
  // An operator closes an incident the runs left open (a failed failover).
  Result<boost::json::object> resolve(std::string_view key, std::string_view by,
                                      std::string_view note);
  // [{"name","kind","state" ("ok"/"failing"),"consecutive_failures",
  //   "last_error","last_failure_at","last_success_at","pending","sent","failed"}]
  Result<boost::json::array> channels();
  // The post-incident summary (also the drill report): Markdown.
  Result<std::optional<std::string>> summary(std::string_view key);

  // --- Public status page (no authentication; drills are not shown) ---
  Result<boost::json::object> statusJson();
  Result<std::string> statusHtml();
  Result<std::string> statusAtom();
  Result<std::optional<std::string>> statusIncidentHtml(std::string_view key);
  // The pages' stylesheet (/status/style.css).
  static std::string_view statusStyle();

  struct Impl;  // opaque: the engine's sources share it

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeboat::comms
