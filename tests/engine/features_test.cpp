// Step outputs, secrets, the service lock and its fencing token, decisions,
// notify and plugin actions, as a run journals them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_fixture.hpp"
#include "lifeboat/engine/file_lock.hpp"

namespace lifeboat::engine_test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr std::string_view kHeader = R"(
[runbook]
name = "features"
service = "features"
)";

// A step that writes its arguments, joined by '|', to @W@/FILE.
std::string argumentsStep(std::string_view id, std::string_view file,
                          const std::vector<std::string>& arguments, std::string_view extra) {
  std::string format;
  std::string quoted;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    format += (i == 0 ? "%s" : "|%s");
    quoted += ", \"" + arguments[i] + "\"";
  }
  std::string positional;
  for (std::size_t i = 1; i <= arguments.size(); ++i) {
    positional += " \"$" + std::to_string(i) + "\"";
  }
  return "\n[[step]]\nid = \"" + std::string(id) + "\"\nexec = [\"/bin/sh\", \"-c\", 'printf \"" +
         format + "\"" + positional + " > @W@/" + std::string(file) + "', \"sh\"" + quoted + "]\n" +
         std::string(extra) + "\n";
}

constexpr std::string_view kProducer =
    "printf \"{\\\"key\\\": \\\"hello world\\\", \\\"n\\\": 5}\\n\"";

TEST_F(EngineTest, OutputsOfAStepReachTheArgvOfALaterStep) {
  const auto book = load(std::string(kHeader) + shellStep("a", kProducer) +
                         argumentsStep("b", "b", {"${steps.a.outputs.key}", "${steps.a.outputs.n}"},
                                       "after = [\"a\"]"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(readWork("b"), "hello world|5");
  const auto a = finishedEvent(journal(result.runId), "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(json::serialize(a->data.at("outputs")), R"({"key":"hello world","n":5})");
}

TEST_F(EngineTest, AMissingOutputFailsTheReaderNamingTheKey) {
  const auto book =
      load(std::string(kHeader) + shellStep("a", kProducer) +
           argumentsStep("b", "b", {"${steps.a.outputs.address}"}, "after = [\"a\"]"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_FALSE(fs::exists(work() / "b"));
  const std::vector<Event> events = journal(result.runId);
  EXPECT_THAT(startedEvents(events, "b"), IsEmpty());
  const auto b = finishedEvent(events, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(text(b->data, "status"), "failed");
  EXPECT_THAT(text(b->data, "error"), HasSubstr("address"));
}

constexpr std::string_view kSecret = "hunter2-correct-horse";

TEST_F(EngineTest, SecretsReachTheChildButNeverTheJournal) {
  secretEnvironment_["TOKEN"] = std::string(kSecret);
  const auto book = load(std::string(kHeader) + R"(
[[step]]
id = "leak"
exec = { argv = ["/bin/sh", "-c", 'echo "token is $TOKEN"; printf %s "$TOKEN" > @W@/got; echo "bad $TOKEN" >&2; exit 1'], env = { TOKEN = "${secret:env:TOKEN}" } }
)");
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(readWork("got"), kSecret);  // the child did get the value

  const std::string bytes = journalBytes(result.runId);
  EXPECT_EQ(bytes.find(kSecret), std::string::npos);
  EXPECT_THAT(bytes, HasSubstr("token is [redacted]"));
  const std::vector<Event> events = journal(result.runId);
  std::string stderrText;
  for (const Event& event : eventsOf(events, event_type::kStepOutput, "leak")) {
    if (text(event.data, "stream") == "stderr") {
      stderrText += text(event.data, "text");
    }
  }
  EXPECT_EQ(stderrText, "bad [redacted]");
  const auto leak = finishedEvent(events, "leak");
  ASSERT_TRUE(leak);
  EXPECT_THAT(text(leak->data, "error"), HasSubstr("bad [redacted]"));
}

TEST_F(EngineTest, OnlySixtyFourKibibytesOfOutputAreJournaledPerStream) {
  // 100 lines of 1000 bytes.
  const auto book =
      load(std::string(kHeader) +
           shellStep("chatty", "head -c 100000 /dev/zero | tr \"\\000\" x | fold -w 1000"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  std::size_t journaled = 0;
  std::string note;
  for (const Event& event : eventsOf(journal(result.runId), event_type::kStepOutput, "chatty")) {
    ASSERT_EQ(text(event.data, "stream"), "stdout");
    const std::string line = text(event.data, "text");
    if (line.find("more bytes") != std::string::npos) {
      note = line;
    } else {
      journaled += line.size() + 1;
    }
  }
  EXPECT_LE(journaled, 64u * 1024u);
  EXPECT_GE(journaled, 60u * 1024u);
  EXPECT_EQ(note, "[" + std::to_string(100u * 1001u - journaled) +
                      " more bytes of output were not journaled]");
}

TEST_F(EngineTest, AnUnresolvableSecretFailsPreflightBeforeAnyStep) {
  const auto book = load(std::string(kHeader) + shellStep("first", "touch @W@/first") + R"(
[[step]]
id = "uses"
after = ["first"]
exec = { argv = ["/bin/true"], env = { TOKEN = "${secret:env:MISSING_TOKEN}" } }
)");
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_FALSE(fs::exists(work() / "first"));

  const std::vector<Event> events = journal(result.runId);
  EXPECT_THAT(eventsOf(events, event_type::kStepStarted), IsEmpty());
  const auto preflight = lastOfType(events, event_type::kPreflightFinished);
  ASSERT_TRUE(preflight);
  EXPECT_FALSE(flag(preflight->data, "ok"));
  bool secretsChecked = false;
  for (const json::value& check : preflight->data.at("checks").as_array()) {
    if (text(check.as_object(), "check") == "secrets") {
      secretsChecked = true;
      EXPECT_FALSE(flag(check.as_object(), "ok"));
      EXPECT_THAT(text(check.as_object(), "detail"), HasSubstr("env:MISSING_TOKEN"));
    }
  }
  EXPECT_TRUE(secretsChecked);
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_EQ(text(finished->data, "outcome"), "failed");
  EXPECT_EQ(integer(finished->data, "exit_code"), 1);
  EXPECT_THAT(text(finished->data, "error"), HasSubstr("preflight"));
}

TEST_F(EngineTest, AHeldServiceLockFailsPreflight) {
  Result<engine::FileLock> held = engine::FileLock::acquire(
      state() / "locks" / "features.lock", "service features", "the test (pid 1234)");
  ASSERT_TRUE(held) << held.error().message;
  const auto book = load(std::string(kHeader) + shellStep("first", "touch @W@/first"));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_EQ(result.exitCode, engine::kExitFailed);
  EXPECT_FALSE(fs::exists(work() / "first"));
  const std::vector<Event> events = journal(result.runId);
  EXPECT_THAT(eventsOf(events, event_type::kStepStarted), IsEmpty());
  const auto preflight = lastOfType(events, event_type::kPreflightFinished);
  ASSERT_TRUE(preflight);
  EXPECT_FALSE(flag(preflight->data, "ok"));
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_THAT(text(finished->data, "error"), HasSubstr("the test (pid 1234)"));
}

TEST_F(EngineTest, EachRunGetsALargerFencingToken) {
  const auto book =
      load(std::string(kHeader) + shellStep("token", "echo ${lock.fencing_token} >> @W@/tokens"));
  ASSERT_TRUE(book);
  EXPECT_EQ(run(*book).outcome, "done");
  EXPECT_EQ(run(*book).outcome, "done");  // the first run released the lock
  const std::vector<std::string> tokens = workLines("tokens");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_THAT(tokens[0], MatchesRegex("[0-9]+"));
  EXPECT_THAT(tokens[1], MatchesRegex("[0-9]+"));
  EXPECT_LT(std::stoull(tokens[0]), std::stoull(tokens[1]));
}

std::string decisionRunbook(std::string_view deadline) {
  return std::string(kHeader) + R"(
[vars]
what = "the standby"

[[step]]
id = "approve"
[step.decision]
question = "Promote ${vars.what}?"
approvers = ["incident-commander"]
)" + std::string(deadline) +
         R"(
[[step.decision.options]]
id = "promote"
impact = "Recent writes are lost."
[[step.decision.options]]
id = "wait"
label = "Wait for the primary"
impact = "The service stays down."
)" +
         argumentsStep("act", "decided",
                       {"${steps.approve.outputs.choice}", "${steps.approve.outputs.approver}",
                        "${steps.approve.outputs.rationale}"},
                       "after = [\"approve\"]");
}

TEST_F(EngineTest, ADecisionIsRequestedMadeAndReadableByLaterSteps) {
  decisions_.answer = engine::DecisionAnswer{"promote", "alice", "the standby is current", "cli"};
  const auto book = load(decisionRunbook(""));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(readWork("decided"), "promote|alice|the standby is current");
  EXPECT_THAT(decisions_.askedQuestions(), testing::ElementsAre("Promote the standby?"));

  const std::vector<Event> events = journal(result.runId);
  const auto requested = eventsOf(events, event_type::kDecisionRequested, "approve");
  const auto made = eventsOf(events, event_type::kDecisionMade, "approve");
  ASSERT_EQ(requested.size(), 1u);
  ASSERT_EQ(made.size(), 1u);
  EXPECT_LT(requested.front().seq, made.front().seq);
  EXPECT_EQ(text(requested.front().data, "question"), "Promote the standby?");
  const json::array& options = requested.front().data.at("options").as_array();
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(text(options[1].as_object(), "label"), "Wait for the primary");
  EXPECT_EQ(text(options[0].as_object(), "impact"), "Recent writes are lost.");
  EXPECT_EQ(json::serialize(requested.front().data.at("approvers")), R"(["incident-commander"])");
  EXPECT_EQ(text(made.front().data, "choice"), "promote");
  EXPECT_EQ(text(made.front().data, "by"), "alice");
  EXPECT_EQ(text(made.front().data, "rationale"), "the standby is current");
  EXPECT_EQ(text(made.front().data, "via"), "cli");
  const auto approve = finishedEvent(events, "approve");
  ASSERT_TRUE(approve);
  EXPECT_EQ(text(approve->data, "status"), "ok");
  EXPECT_EQ(text(approve->data.at("outputs").as_object(), "choice"), "promote");
}

TEST_F(EngineTest, TheDefaultIsTakenWhenTheDeadlinePasses) {
  const auto book = load(decisionRunbook("deadline = \"100ms\"\ndefault = \"wait\""));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_THAT(readWork("decided"), testing::StartsWith("wait|"));
  const std::vector<Event> events = journal(result.runId);
  const auto requested = eventsOf(events, event_type::kDecisionRequested, "approve");
  ASSERT_EQ(requested.size(), 1u);
  EXPECT_EQ(integer(requested.front().data, "deadline_ms"), 100);
  EXPECT_EQ(text(requested.front().data, "default"), "wait");
  const auto made = eventsOf(events, event_type::kDecisionMade, "approve");
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(text(made.front().data, "choice"), "wait");
  EXPECT_EQ(text(made.front().data, "via"), "deadline");
}

TEST_F(EngineTest, NoAnswerAndNoDefaultTimesTheDecisionOut) {
  const auto book = load(decisionRunbook("deadline = \"100ms\""));
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  EXPECT_FALSE(fs::exists(work() / "decided"));
  const std::vector<Event> events = journal(result.runId);
  EXPECT_THAT(eventsOf(events, event_type::kDecisionMade), IsEmpty());
  const auto approve = finishedEvent(events, "approve");
  ASSERT_TRUE(approve);
  EXPECT_EQ(text(approve->data, "status"), "timed_out");
  EXPECT_THAT(text(approve->data, "error"), HasSubstr("no default"));
  const auto act = finishedEvent(events, "act");
  ASSERT_TRUE(act);
  EXPECT_EQ(text(act->data, "status"), "skipped");
}

TEST_F(EngineTest, NotifyJournalsTheExpandedMessage) {
  const auto book = load(std::string(kHeader) + R"toml(
[vars]
region = "eu-central-1"

[[step]]
id = "tell"
notify = { audience = "engineers", message = "Failed over to ${vars.region} (run ${run.id}, drill ${run.drill})" }
)toml");
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book, runbook::Mode::drill);
  EXPECT_EQ(result.outcome, "done");
  const std::vector<Event> events = journal(result.runId);
  const auto notified = eventsOf(events, event_type::kNotifyRequested, "tell");
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(text(notified.front().data, "audience"), "engineers");
  EXPECT_EQ(text(notified.front().data, "message"),
            "Failed over to eu-central-1 (run " + result.runId + ", drill true)");
  EXPECT_EQ(json::serialize(notified.front().data.at("channels")), "[]");
  const auto tell = finishedEvent(events, "tell");
  ASSERT_TRUE(tell);
  EXPECT_EQ(text(tell->data, "status"), "ok");
}

TEST_F(EngineTest, PluginActionsRunThroughTheBuiltFilePlugin) {
  const auto book = load(std::string(kHeader) + R"(
[targets.files]
plugin = "file"
root = "@W@"

[[step]]
id = "write"
target = "files"
action = "write"
with = { path = "out/hello.txt", content = "hello ${run.service}" }

[[step]]
id = "verify"
after = ["write"]
target = "files"
action = "check"
with = { path = "out/hello.txt", contains = "hello features" }
wait = { within = "2s", every = "50ms" }
)" +
                             argumentsStep("sha", "sha", {"${steps.write.outputs.sha256}"},
                                           "after = [\"write\"]\ntarget = \"files\""),
                         /*checkPlugins=*/true);
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book, runbook::Mode::drill);
  EXPECT_EQ(result.outcome, "done");
  EXPECT_EQ(readWork("out/hello.txt"), "hello features");
  EXPECT_THAT(readWork("sha"), MatchesRegex("[0-9a-f]{64}"));
  const std::vector<Event> events = journal(result.runId);
  const auto write = finishedEvent(events, "write");
  ASSERT_TRUE(write);
  EXPECT_EQ(text(write->data, "status"), "ok");
  EXPECT_EQ(integer(write->data.at("outputs").as_object(), "bytes"), 14);
  const auto verify = finishedEvent(events, "verify");
  ASSERT_TRUE(verify);
  EXPECT_EQ(text(verify->data, "status"), "ok");
  const auto preflight = lastOfType(events, event_type::kPreflightFinished);
  ASSERT_TRUE(preflight);
  EXPECT_TRUE(flag(preflight->data, "ok"));
}

TEST_F(EngineTest, AMissingPluginFailsPreflight) {
  // Loaded without asking plugins, as a runbook validated elsewhere would be.
  const auto book = load(std::string(kHeader) + R"(
[targets.db]
plugin = "no-such-plugin"

[[step]]
id = "promote"
target = "db"
action = "promote"
)");
  ASSERT_TRUE(book);
  const engine::RunResult result = run(*book);
  EXPECT_EQ(result.outcome, "failed");
  const std::vector<Event> events = journal(result.runId);
  EXPECT_THAT(eventsOf(events, event_type::kStepStarted), IsEmpty());
  const auto preflight = lastOfType(events, event_type::kPreflightFinished);
  ASSERT_TRUE(preflight);
  EXPECT_FALSE(flag(preflight->data, "ok"));
  const auto finished = lastOfType(events, event_type::kRunFinished);
  ASSERT_TRUE(finished);
  EXPECT_THAT(text(finished->data, "error"), HasSubstr("no-such-plugin"));
  EXPECT_THAT(text(finished->data, "error"), Not(HasSubstr("lock")));
}

}  // namespace
}  // namespace lifeboat::engine_test
