#pragma once
// Journals for the report tests, built event by event the way
// docs/protocol.md ("Types and their `data`") specifies each type, and the
// runs they describe.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::report::testing {

inline constexpr std::string_view kRunId = "20261124T225610Z-k3f9";
inline constexpr std::string_view kAgent = "db-eu-1";
// Every time in a journal is this base plus an offset in milliseconds.
Timestamp baseTime();
Timestamp at(std::int64_t offsetMs);

// One entry of run.started's `steps`.
struct PlanStep {
  std::string id{};
  std::string kind = "plugin";
  std::string target{};
  int wave = 1;
  std::string name{};
  bool cleanup = false;
  bool runs = true;
  std::string skipReason{};
  bool restoresService = false;
  bool measuresRpo = false;
  bool idempotent = false;
  bool hasRollback = false;
};

class JournalBuilder {
 public:
  explicit JournalBuilder(std::string run = std::string(kRunId));

  Event& add(std::int64_t atMs, std::string_view type, std::string step, boost::json::object data);

  void runStarted(bool drill, const std::vector<PlanStep>& steps, boost::json::object objectives,
                  std::int64_t outageStartMs = -2000, std::string outageSource = "trigger",
                  std::string runbookName = "orders-db-failover");
  void preflightFinished(std::int64_t atMs, bool ok, std::vector<std::string> warnings = {});
  void stepStarted(std::int64_t atMs, const std::string& step, std::string kind = "plugin",
                   std::string phase = "main", int attempt = 1);
  void stepOutput(std::int64_t atMs, const std::string& step, std::string text);
  // `extra` members are added to the data (exit_code, error, outputs...).
  void stepFinished(std::int64_t atMs, const std::string& step, std::string status,
                    std::int64_t durationMs, boost::json::object extra = {},
                    std::string phase = "main", int attempts = 1);
  void objectiveMeasured(std::int64_t atMs, std::string objective, std::int64_t valueMs,
                         std::string source);
  void objectiveEvaluated(std::int64_t atMs, std::string objective, std::int64_t targetMs,
                          std::optional<std::int64_t> valueMs, std::string verdict,
                          std::string source, std::optional<std::int64_t> restoredAtMs = {});
  void decisionRequested(std::int64_t atMs, const std::string& step, std::string question);
  void decisionMade(std::int64_t atMs, const std::string& step, std::string choice, std::string by,
                    std::string rationale, std::string via = "cli");
  void notifyRequested(std::int64_t atMs, const std::string& step, std::string audience,
                       std::string message);
  void runResumed(std::int64_t atMs, boost::json::array interrupted,
                  boost::json::array orphans = {});
  void runCancelling(std::int64_t atMs, std::string reason, int signal);
  void runFinished(std::int64_t atMs, std::string outcome, int exitCode,
                   std::vector<std::string> failedSteps = {}, std::string cleanup = "none",
                   bool rolledBack = false, std::string error = {});

  std::vector<Event>& events() { return events_; }

 private:
  std::string run_;
  std::uint64_t seq_ = 100;
  std::vector<Event> events_;
};

// The runs of the tests.
// A drill: preflight ok; lag (RPO 2.5s) ok, fence skipped (real only), promote
// ok, verify ok (restores service), tell-customers notify, drop-copy cleanup
// ok. RTO 5m met (restored after 9.5s), RPO 30s met.
std::vector<Event> passedDrill();
// A real run: lag ok, approve (decision, made), promote ok, switch failed
// (exit 3) with on_failure = rollback, promote's rollback ok, verify not run.
// RTO unknown, RPO met; failed with exit code 1.
std::vector<Event> failedRealRunWithRollback();
// A real run that restored the service but measured no RPO: done, exit 3.
std::vector<Event> runWithUnknownRpo();
// a ok, b started, agent died; resumed (b rerun, orphan group 4242 stopped),
// b ok, c started; the journal ends there.
std::vector<Event> interruptedAndResumedRun();
// Names, errors, decisions and messages full of markup and control bytes.
std::vector<Event> hostileRun();
// The hostile texts hostileRun() uses.
inline constexpr std::string_view kHostileName = "<script>alert(\"x\")</script> & 'q'";
inline constexpr std::string_view kHostileError = "bad \x1b[31mred\x07 <b>bold</b> & \"q\" 'a'\x01";

}  // namespace lifeboat::report::testing
