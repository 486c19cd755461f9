#pragma once
// Shared setup of the engine tests: a state directory and a work directory
// per test, runbooks loaded from TOML text, runs started with a real process
// runner, and the journal read back for assertions.
//
// Runbook text may use @W@ for the test's work directory (where step
// scripts leave their side effects). Everything here runs on the test's
// thread, except FakeDecisions::decide (a worker thread of the engine).

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/engine/run.hpp"
#include "lifeboat/plugin_host/catalog.hpp"
#include "lifeboat/process/runner.hpp"
#include "lifeboat/runbook/load.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/runbook/plan.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::engine_test {

namespace fs = std::filesystem;
namespace json = boost::json;

// Answers decisions as told: `answer` when set, else "no answer before the
// deadline" (std::nullopt) at once. Records what it was asked.
class FakeDecisions final : public engine::DecisionProvider {
 public:
  Result<std::optional<engine::DecisionAnswer>> decide(
      const std::string& step, const runbook::DecisionSpec& decision,
      std::chrono::steady_clock::time_point deadline, const process::CancelSignal& cancel) override;

  std::optional<engine::DecisionAnswer> answer;
  std::vector<std::string> askedSteps() const;
  std::vector<std::string> askedQuestions() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> steps_;
  std::vector<std::string> questions_;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest();

  const fs::path& work() const { return work_; }
  const fs::path& state() const { return state_; }

  // Replaces @W@ by work(), writes the runbook to a file and loads it. With
  // `checkPlugins`, plugin actions are validated against the built plugins.
  // Fails the current test (and returns nullopt) on any error.
  std::optional<runbook::Runbook> load(std::string text, bool checkPlugins = false);

  engine::RunEnvironment environment();

  // Starts a run; fails the current test when startRun returns an Error.
  engine::RunResult run(const runbook::Runbook& book, runbook::Mode mode = runbook::Mode::real,
                        std::optional<Timestamp> outageStart = std::nullopt);

  fs::path journalPath(const std::string& runId) const;
  std::vector<Event> journal(const std::string& runId) const;
  std::string journalBytes(const std::string& runId) const;

  // The text of a file in the work directory ("" when missing).
  std::string readWork(std::string_view name) const;
  std::vector<std::string> workLines(std::string_view name) const;

  process::PosixRunner runner_;
  plugin_host::Catalog catalog_;
  FakeDecisions decisions_;
  // What ${secret:env:NAME} resolves to; anything else is "not set".
  std::map<std::string, std::string, std::less<>> secretEnvironment_;
  std::vector<std::string> warnings_;

 private:
  test_support::TempDir temp_;
  fs::path work_;
  fs::path state_;
  int runbooks_ = 0;
};

// ----- reading events -----

std::vector<Event> eventsOf(const std::vector<Event>& events, std::string_view type,
                            std::string_view step = {});
// The step.finished event of `step` in `phase`; fails the test when missing.
std::optional<Event> finishedEvent(const std::vector<Event>& events, std::string_view step,
                                   std::string_view phase = "main");
// step.started events of `step` in `phase`.
std::vector<Event> startedEvents(const std::vector<Event>& events, std::string_view step,
                                 std::string_view phase = "main");
std::optional<Event> lastOfType(const std::vector<Event>& events, std::string_view type);
// The objective.evaluated event of `objective`.
std::optional<Event> evaluation(const std::vector<Event>& events, std::string_view objective);

std::string text(const json::object& object, std::string_view key);
std::int64_t integer(const json::object& object, std::string_view key);
bool flag(const json::object& object, std::string_view key);
std::int64_t millisecondsBetween(const Event& from, const Event& to);

// Process ids of living (not zombie) processes in `group`.
std::vector<pid_t> livingMembers(pid_t group);

// Calls `condition` until it is true or `limit` passes.
bool pollUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds limit = std::chrono::seconds(5));

// An exec step (argv form) that runs `script` with /bin/sh -c. The script is
// a TOML literal string: it must not contain a single quote, and no `${`.
std::string shellStep(std::string_view id, std::string_view script, std::string_view extra = {});

// Keeps the journal's lines up to and including the first event that
// `keep` returns true for: the journal an agent that died right after that
// event leaves behind.
void truncateJournalAfter(const fs::path& file, const std::function<bool(const Event&)>& keep);

}  // namespace lifeboat::engine_test
