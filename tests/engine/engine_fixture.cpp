#include "engine_fixture.hpp"

#include <dirent.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/journal/journal.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::engine_test {

Result<std::optional<engine::DecisionAnswer>> FakeDecisions::decide(
    const std::string& step, const runbook::DecisionSpec& decision,
    std::chrono::steady_clock::time_point /*deadline*/, const process::CancelSignal& /*cancel*/) {
  std::lock_guard lock(mutex_);
  steps_.push_back(step);
  questions_.push_back(decision.question);
  return answer;
}

std::vector<std::string> FakeDecisions::askedSteps() const {
  std::lock_guard lock(mutex_);
  return steps_;
}

std::vector<std::string> FakeDecisions::askedQuestions() const {
  std::lock_guard lock(mutex_);
  return questions_;
}

EngineTest::EngineTest()
    : catalog_(plugin_host::SearchPath{{test_support::binaryDir() / "lib/lifeboat/plugins"}},
               runner_),
      work_(temp_.path() / "work"),
      state_(temp_.path() / "state") {
  fs::create_directories(work_);
}

std::optional<runbook::Runbook> EngineTest::load(std::string text, bool checkPlugins) {
  const std::string work = work_.string();
  for (std::size_t at = text.find("@W@"); at != std::string::npos; at = text.find("@W@", at)) {
    text.replace(at, 3, work);
    at += work.size();
  }
  const fs::path file = temp_.write("runbook-" + std::to_string(++runbooks_) + ".toml", text);
  runbook::LoadOptions options;
  if (checkPlugins) {
    options.describePlugin = [this](std::string_view name) { return catalog_.describe(name); };
  }
  DiagnosticSink sink;
  std::optional<runbook::Runbook> book = runbook::loadRunbook(text, file.string(), options, sink);
  std::string problems;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    if (diagnostic.severity == Severity::error) {
      problems += formatDiagnostic(file.string(), diagnostic) + "\n";
    }
  }
  EXPECT_TRUE(book.has_value()) << problems << text;
  return book;
}

engine::RunEnvironment EngineTest::environment() {
  engine::RunEnvironment environment;
  environment.stateDirectory = state_;
  environment.agentName = "engine-test";
  environment.catalog = &catalog_;
  environment.runner = &runner_;
  environment.decisions = &decisions_;
  environment.secrets.environment = [this](std::string_view name) -> std::optional<std::string> {
    auto found = secretEnvironment_.find(name);
    if (found == secretEnvironment_.end()) {
      return std::nullopt;
    }
    return found->second;
  };
  environment.warn = [this](const std::string& warning) { warnings_.push_back(warning); };
  environment.killGrace = std::chrono::milliseconds(1'000);
  return environment;
}

engine::RunResult EngineTest::run(const runbook::Runbook& book, runbook::Mode mode,
                                  std::optional<Timestamp> outageStart) {
  engine::RunRequest request;
  request.runbook = &book;
  request.mode = mode;
  request.outageStart = outageStart;
  Result<engine::RunResult> result = engine::startRun(request, environment());
  if (!result) {
    ADD_FAILURE() << "startRun: " << result.error().message << " (" << result.error().hint << ")";
    return {};
  }
  return *result;
}

fs::path EngineTest::journalPath(const std::string& runId) const {
  return state_ / runId / journal::kJournalFileName;
}

std::vector<Event> EngineTest::journal(const std::string& runId) const {
  Result<journal::JournalContents> contents = journal::readJournal(journalPath(runId));
  if (!contents) {
    ADD_FAILURE() << "readJournal: " << contents.error().message;
    return {};
  }
  EXPECT_FALSE(contents->tornTail);
  return contents->events;
}

std::string EngineTest::journalBytes(const std::string& runId) const {
  std::ifstream in(journalPath(runId), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string EngineTest::readWork(std::string_view name) const {
  std::ifstream in(work_ / name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> EngineTest::workLines(std::string_view name) const {
  std::vector<std::string> lines;
  std::istringstream in(readWork(name));
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// ----- reading events -----

std::vector<Event> eventsOf(const std::vector<Event>& events, std::string_view type,
                            std::string_view step) {
  std::vector<Event> found;
  for (const Event& event : events) {
    if (event.type == type && (step.empty() || event.step == step)) {
      found.push_back(event);
    }
  }
  return found;
}

std::optional<Event> finishedEvent(const std::vector<Event>& events, std::string_view step,
                                   std::string_view phase) {
  for (const Event& event : events) {
    if (event.type == event_type::kStepFinished && event.step == step &&
        text(event.data, "phase") == phase) {
      return event;
    }
  }
  ADD_FAILURE() << "no step.finished of step " << step << " in phase " << phase;
  return std::nullopt;
}

std::vector<Event> startedEvents(const std::vector<Event>& events, std::string_view step,
                                 std::string_view phase) {
  std::vector<Event> found;
  for (const Event& event : eventsOf(events, event_type::kStepStarted, step)) {
    if (text(event.data, "phase") == phase) {
      found.push_back(event);
    }
  }
  return found;
}

std::optional<Event> lastOfType(const std::vector<Event>& events, std::string_view type) {
  for (auto event = events.rbegin(); event != events.rend(); ++event) {
    if (event->type == type) {
      return *event;
    }
  }
  ADD_FAILURE() << "no " << type << " event";
  return std::nullopt;
}

std::optional<Event> evaluation(const std::vector<Event>& events, std::string_view objective) {
  for (const Event& event : eventsOf(events, event_type::kObjectiveEvaluated)) {
    if (text(event.data, "objective") == objective) {
      return event;
    }
  }
  ADD_FAILURE() << "no objective.evaluated for " << objective;
  return std::nullopt;
}

std::string text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

std::int64_t integer(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !(value->is_int64() || value->is_uint64())) {
    ADD_FAILURE() << "no integer " << key << " in " << json::serialize(object);
    return -1;
  }
  return value->to_number<std::int64_t>();
}

bool flag(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_bool()) {
    ADD_FAILURE() << "no boolean " << key << " in " << json::serialize(object);
    return false;
  }
  return value->get_bool();
}

std::int64_t millisecondsBetween(const Event& from, const Event& to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to.time - from.time).count();
}

std::vector<pid_t> livingMembers(pid_t group) {
  std::vector<pid_t> members;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return members;
  }
  while (const dirent* entry = ::readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in("/proc/" + name + "/stat");
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long parent = 0;
    long processGroup = 0;
    fields >> state >> parent >> processGroup;
    if (processGroup == group && state != 'Z' && state != 'X') {
      members.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  ::closedir(proc);
  return members;
}

bool pollUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string shellStep(std::string_view id, std::string_view script, std::string_view extra) {
  std::string step = "\n[[step]]\nid = \"" + std::string(id) +
                     "\"\nexec = [\"/bin/sh\", \"-c\", '" + std::string(script) + "']\n";
  if (!extra.empty()) {
    step += std::string(extra) + "\n";
  }
  return step;
}

void truncateJournalAfter(const fs::path& file, const std::function<bool(const Event&)>& keep) {
  std::ifstream in(file, std::ios::binary);
  std::string kept;
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    kept += line + "\n";
    Result<Event> event = decodeEvent(line);
    ASSERT_TRUE(event) << event.error().message;
    if (keep(*event)) {
      found = true;
      break;
    }
  }
  in.close();
  ASSERT_TRUE(found) << "no such event in " << file;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << kept;
}

}  // namespace lifeboat::engine_test
