// `lifeboat run`, `drill`, `cancel`, `runs`, `show`, `report` and `resume` as
// a user meets them: exit codes, confirmation, decisions, secrets, reports.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "test_server.hpp"

namespace lifeboat::test_support {
namespace {

using namespace std::chrono_literals;

std::string readText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::filesystem::path newestRun(const std::filesystem::path& state) {
  std::filesystem::path newest;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(state, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with("20") &&
        (newest.empty() || name > newest.filename().string())) {
      newest = entry.path();
    }
  }
  return newest;
}

// A runbook with one exec step per entry of `scripts` (each runs after the
// previous), the last restoring the service; `extra` is appended verbatim.
std::string runbook(const std::string& objectives, const std::vector<std::string>& scripts,
                    const std::string& extra = "") {
  std::string text = "[runbook]\nname = \"cli-test\"\nservice = \"cli-test\"\n\n" + objectives +
                     "\n[targets.local]\nregion = \"local\"\n\n";
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    text += "[[step]]\nid = \"s" + std::to_string(i + 1) + "\"\ntarget = \"local\"\n";
    if (i > 0) {
      text += "after = [\"s" + std::to_string(i) + "\"]\n";
    }
    if (i + 1 == scripts.size()) {
      text += "restores_service = true\n";
    }
    text += "exec = [\"/bin/sh\", \"-c\", \"" + scripts[i] + "\"]\n\n";
  }
  return text + extra;
}

class RunCommand : public ::testing::Test {
 protected:
  ProcessResult lifeboat(std::vector<std::string> arguments,
                         std::vector<std::pair<std::string, std::string>> environment = {}) {
    arguments.push_back("--state-dir");
    arguments.push_back(state().string());
    return runLifeboat(arguments, dir_.path(), std::move(environment));
  }
  std::filesystem::path state() const { return dir_.path() / "state"; }

  TempDir dir_;
};

TEST_F(RunCommand, DrillThatMeetsItsObjectivesExitsZeroAndWritesReports) {
  const auto file =
      dir_.write("ok.toml", runbook("[objectives]\nrto = \"1m\"\n", {"echo first", "echo second"}));
  const ProcessResult result = lifeboat({"drill", file.string()});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("RTO:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("-> met"), std::string::npos) << result.out;
  const auto run = newestRun(state());
  ASSERT_FALSE(run.empty());
  const boost::json::value report = boost::json::parse(readText(run / "report.json"));
  EXPECT_EQ(report.at("outcome").as_string(), "done");

  const ProcessResult runs = lifeboat({"runs", "--output", "json"});
  EXPECT_EQ(runs.exitCode, 0) << runs.err;
  EXPECT_EQ(boost::json::parse(runs.out).as_array().size(), 1u);

  const ProcessResult show = lifeboat({"show", "last"});
  EXPECT_EQ(show.exitCode, 0) << show.err;
  EXPECT_NE(show.out.find("met"), std::string::npos) << show.out;

  const ProcessResult junit = lifeboat({"report", "last", "--format", "junit"});
  EXPECT_EQ(junit.exitCode, 0) << junit.err;
  EXPECT_NE(junit.out.find("<testsuite"), std::string::npos);
  EXPECT_NE(junit.out.find("step s2"), std::string::npos) << junit.out;

  const ProcessResult html =
      lifeboat({"report", "last", "--format", "html", "--out", (dir_.path() / "r.html").string()});
  EXPECT_EQ(html.exitCode, 0) << html.err;
  EXPECT_NE(readText(dir_.path() / "r.html").find("<svg"), std::string::npos);
}

TEST_F(RunCommand, BreachedObjectiveExitsThree) {
  const auto file =
      dir_.write("slow.toml", runbook("[objectives]\nrto = \"50ms\"\n", {"sleep 0.3"}));
  const ProcessResult result = lifeboat({"drill", file.string()});
  EXPECT_EQ(result.exitCode, 3) << result.err;
  EXPECT_NE(result.out.find("breached"), std::string::npos) << result.out;
}

TEST_F(RunCommand, UnmeasuredObjectiveIsUnknownAndExitsThree) {
  const auto file = dir_.write(
      "rpo.toml", runbook("[objectives]\nrto = \"1m\"\nrpo = \"1m\"\n", {"true"},
                          "[[step]]\nid = \"lag\"\ntarget = \"local\"\nmeasures = \"rpo\"\n"
                          "exec = [\"/bin/echo\", \"no measurement here\"]\n"));
  const ProcessResult result = lifeboat({"drill", file.string()});
  EXPECT_EQ(result.exitCode, 3) << result.err;
  EXPECT_NE(result.out.find("RPO: not measured"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("unknown"), std::string::npos) << result.out;
}

TEST_F(RunCommand, FailedStepExitsOneAndNamesTheStep) {
  const auto file = dir_.write("fail.toml", runbook("[objectives]\nrto = \"1m\"\n",
                                                    {"echo broken >&2; exit 7", "echo never"}));
  const ProcessResult result = lifeboat({"drill", file.string()});
  EXPECT_EQ(result.exitCode, 1) << result.err;
  EXPECT_NE(result.out.find("failed steps: s1"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("status 7"), std::string::npos) << result.err;
  EXPECT_EQ(readText(newestRun(state()) / "journal.jsonl").find("never\""), std::string::npos);
}

TEST_F(RunCommand, RealRunWithoutATerminalNeedsYesAndDoesNothingWithoutIt) {
  const auto marker = dir_.path() / "touched";
  const auto file = dir_.write(
      "real.toml", runbook("[objectives]\nrto = \"1m\"\n", {"touch " + marker.string()}));
  const ProcessResult refused = lifeboat({"run", file.string()});
  EXPECT_EQ(refused.exitCode, 2);
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(newestRun(state()).empty());

  const ProcessResult confirmed = lifeboat({"run", file.string(), "--yes"});
  EXPECT_EQ(confirmed.exitCode, 0) << confirmed.err;
  EXPECT_TRUE(std::filesystem::exists(marker));
}

TEST_F(RunCommand, SecretsNeverReachOutputJournalOrReports) {
  const std::string secret = "s3cr3t-value-7781";
  const auto file =
      dir_.write("secret.toml",
                 "[runbook]\nname = \"secret\"\nservice = \"secret\"\n[objectives]\nrto = \"1m\"\n"
                 "[targets.local]\nregion = \"local\"\n"
                 "[[step]]\nid = \"leak\"\ntarget = \"local\"\nrestores_service = true\n"
                 "[step.exec]\nargv = [\"/bin/sh\", \"-c\", \"echo token=$TOKEN; echo $TOKEN >&2; "
                 "echo \\\"{\\\\\\\"t\\\\\\\": \\\\\\\"$TOKEN\\\\\\\"}\\\"\"]\n"
                 "env = { TOKEN = \"${secret:env:DEMO_TOKEN}\" }\n");
  const ProcessResult result =
      lifeboat({"drill", file.string(), "--output", "json"}, {{"DEMO_TOKEN", secret}});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out.find(secret), std::string::npos);
  EXPECT_EQ(result.err.find(secret), std::string::npos);
  EXPECT_NE(result.out.find("[redacted]"), std::string::npos) << result.out;
  const auto run = newestRun(state());
  for (const char* name : {"journal.jsonl", "report.json"}) {
    const std::string text = readText(run / name);
    EXPECT_FALSE(text.empty()) << name;
    EXPECT_EQ(text.find(secret), std::string::npos) << name << " holds the secret";
  }
  for (const char* format : {"html", "junit", "json"}) {
    const ProcessResult report = lifeboat({"report", "last", "--format", format});
    EXPECT_EQ(report.out.find(secret), std::string::npos) << format;
  }

  const ProcessResult missing = lifeboat({"drill", file.string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.out.find("secret env:DEMO_TOKEN is not set"), std::string::npos) << missing.out;
}

TEST_F(RunCommand, DecisionsAnsweredOnTheCommandLineAreChecked) {
  const std::string decision =
      "[[step]]\nid = \"go\"\n[step.decision]\nquestion = \"Go?\"\n"
      "approvers = [\"alice\"]\n"
      "[[step.decision.options]]\nid = \"yes\"\nimpact = \"we go\"\n"
      "[[step.decision.options]]\nid = \"no\"\nimpact = \"we stay\"\n"
      "[[step]]\nid = \"after\"\nafter = [\"go\"]\ntarget = \"local\"\n"
      "exec = [\"/bin/echo\", \"chose ${steps.go.outputs.choice}\"]\n";
  const auto file =
      dir_.write("decide.toml", runbook("[objectives]\nrto = \"1m\"\n", {"true"}, decision));

  const ProcessResult answered = lifeboat({"drill", file.string(), "--decide", "go=yes",
                                           "--approver", "alice", "--rationale", "tested"});
  EXPECT_EQ(answered.exitCode, 0) << answered.err;
  const std::string journal = readText(newestRun(state()) / "journal.jsonl");
  EXPECT_NE(journal.find("\"decision.made\""), std::string::npos);
  EXPECT_NE(journal.find("\"rationale\":\"tested\""), std::string::npos);
  EXPECT_NE(journal.find("chose yes"), std::string::npos);

  const ProcessResult notApprover = lifeboat(
      {"drill", file.string(), "--decide", "go=yes", "--approver", "mallory", "--rationale", "x"});
  EXPECT_EQ(notApprover.exitCode, 1);
  EXPECT_NE(notApprover.err.find("mallory is not an approver"), std::string::npos)
      << notApprover.err;

  const ProcessResult noAnswer = lifeboat({"drill", file.string()});
  EXPECT_EQ(noAnswer.exitCode, 1);
  EXPECT_NE(noAnswer.err.find("--decide go=OPTION"), std::string::npos) << noAnswer.err;

  const ProcessResult badStep = lifeboat({"drill", file.string(), "--decide", "s1=yes"});
  EXPECT_EQ(badStep.exitCode, 2);
}

TEST_F(RunCommand, HttpStepsAreJudgedByStatusAndBody) {
  http::fixtures::TestServer server;
  ASSERT_GT(server.port(), 0);
  const auto file =
      dir_.write("http.toml",
                 "[runbook]\nname = \"web\"\nservice = \"web\"\n[objectives]\nrto = \"1m\"\n"
                 "[targets.local]\nregion = \"local\"\n"
                 "[[step]]\nid = \"up\"\ntarget = \"local\"\nrestores_service = true\n"
                 "http = { url = \"" +
                     server.url("/status/204") +
                     "\", expect_status = [200, 204], expect_body = \"\" }\n"
                     "[[step]]\nid = \"down\"\ntarget = \"local\"\non_failure = \"continue\"\n"
                     "http = { url = \"" +
                     server.url("/status/503") + "\" }\n");
  const ProcessResult result = lifeboat({"drill", file.string()});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  const std::string journal = readText(newestRun(state()) / "journal.jsonl");
  EXPECT_NE(journal.find("\"http_status\":204"), std::string::npos) << journal;
  EXPECT_NE(journal.find("status 503, expected 200"), std::string::npos) << journal;
}

// `lifeboat cancel` from another process stops a long step at once; the run
// ends interrupted (exit 4) and cleanup still runs.
TEST_F(RunCommand, CancelStopsARunInProgress) {
  const auto cleaned = dir_.path() / "cleaned";
  const auto file = dir_.write(
      "long.toml", runbook("[objectives]\nrto = \"1m\"\n", {"sleep 60"},
                           "[[step]]\nid = \"tidy\"\ncleanup = true\ntarget = \"local\"\n"
                           "exec = [\"/usr/bin/touch\", \"" +
                               cleaned.string() + "\"]\n"));
  const pid_t agent = startLifeboat({"drill", file.string(), "--state-dir", state().string()});
  ASSERT_GT(agent, 0);

  // Wait until the long step's child is running.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto run = newestRun(state());
    if (!run.empty() && readText(run / "journal.jsonl").find("step.process") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  // A run without http steps never loads libcurl and its dependencies.
  const std::string maps = readText("/proc/" + std::to_string(agent) + "/maps");
  EXPECT_FALSE(maps.empty());
  EXPECT_EQ(maps.find("libcurl"), std::string::npos);

  const auto started = std::chrono::steady_clock::now();
  const ProcessResult cancel = lifeboat({"cancel", "last"});
  EXPECT_EQ(cancel.exitCode, 0) << cancel.err;
  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 4);
  EXPECT_TRUE(std::filesystem::exists(cleaned)) << "cleanup did not run after the cancel";
  const std::string journal = readText(newestRun(state()) / "journal.jsonl");
  EXPECT_NE(journal.find("\"status\":\"cancelled\""), std::string::npos);
  EXPECT_NE(journal.find("\"outcome\":\"interrupted\""), std::string::npos);

  const ProcessResult again = lifeboat({"cancel", "last"});
  EXPECT_NE(again.exitCode, 0);
  EXPECT_NE(again.err.find("not in progress"), std::string::npos) << again.err;
}

TEST_F(RunCommand, ResumeRefusesAFinishedRunAndAnEditedRunbook) {
  const auto file = dir_.write("done.toml", runbook("[objectives]\nrto = \"1m\"\n", {"true"}));
  ASSERT_EQ(lifeboat({"drill", file.string()}).exitCode, 0);
  const ProcessResult finished = lifeboat({"resume", "last"});
  EXPECT_EQ(finished.exitCode, 2);
  EXPECT_NE(finished.err.find("nothing to resume"), std::string::npos) << finished.err;

  // Cut run.finished off as if the agent had died, then edit the runbook.
  const auto journal = newestRun(state()) / "journal.jsonl";
  std::string text = readText(journal);
  text.erase(text.rfind("{\"v\":1"));
  std::ofstream(journal, std::ios::trunc) << text;
  dir_.write("done.toml", runbook("[objectives]\nrto = \"2m\"\n", {"true"}));
  const ProcessResult edited = lifeboat({"resume", "last"});
  EXPECT_EQ(edited.exitCode, 2);
  EXPECT_NE(edited.err.find("was edited since run"), std::string::npos) << edited.err;
}

}  // namespace
}  // namespace lifeboat::test_support
