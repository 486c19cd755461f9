#include "lifeboat/runbook/load.hpp"

#include <gtest/gtest.h>

namespace lifeboat::runbook {
namespace {

constexpr std::string_view kRunbook = R"(
[runbook]
name = "orders-db-failover"
service = "orders"
owner = "dba"

[objectives]
rto = "5m"
rpo = "30s"

[policy]
max_parallel = 3
default_timeout = "2m"
drill_may_touch_production = false

[vars]
vip = "127.0.0.10"

[targets.primary]
plugin = "pg"
region = "eu-west-1"
production = true
dsn = "host=127.0.0.1 port=15432"

[targets.standby]
plugin = "pg"
region = "eu-central-1"
dsn = "host=127.0.0.1 port=15433"

[[trigger]]
kind = "tcp"
host = "127.0.0.1"
port = 15432
interval = "1s"
timeout = "500ms"

[[step]]
id = "lag"
target = "standby"
action = "lag"
measures = "rpo"

[[step]]
id = "promote"
after = ["lag"]
target = "standby"
action = "promote"
with = { wait_seconds = 30 }
retry = { attempts = 3, backoff = "2s" }
rollback = { target = "standby", action = "demote" }
timeout = "1m"

[[step]]
id = "switch"
after = ["promote"]
target = "standby"
exec = ["/usr/local/bin/switch-vip", "${steps.promote.outputs.address}", "${vars.vip}"]

[[step]]
id = "verify"
after = ["switch"]
http = { url = "http://127.0.0.1:8080/health", expect_status = [200, 204] }
wait = { within = "60s", every = "1s" }
restores_service = true
)";

plugin::PluginDescription pgDescription() {
  plugin::PluginDescription description;
  description.name = "pg";
  description.version = "1";
  description.targetParams.push_back({"dsn", plugin::ParamType::string, true, false, "", "", {}});
  plugin::ActionSchema lag;
  lag.name = "lag";
  lag.probe = true;
  lag.measuresRpo = true;
  plugin::ActionSchema promote;
  promote.name = "promote";
  promote.params.push_back({"wait_seconds", plugin::ParamType::integer, false, false, "", "", {}});
  promote.outputs.push_back({"address", "new primary"});
  plugin::ActionSchema demote;
  demote.name = "demote";
  description.actions = {lag, promote, demote};
  return description;
}

TEST(Load, BuildsTheTypedModel) {
  const plugin::PluginDescription pg = pgDescription();
  LoadOptions options;
  int describeCalls = 0;
  options.describePlugin = [&](std::string_view name) -> Result<const plugin::PluginDescription*> {
    ++describeCalls;
    EXPECT_EQ(name, "pg");
    return &pg;
  };
  DiagnosticSink sink;
  const std::optional<Runbook> runbook = loadRunbook(kRunbook, "rb.toml", options, sink);
  for (const Diagnostic& diagnostic : sink.all()) {
    ADD_FAILURE() << formatDiagnostic("rb.toml", diagnostic);
  }
  ASSERT_TRUE(runbook.has_value());
  EXPECT_EQ(describeCalls, 1);  // once per plugin, not per target or step
  EXPECT_EQ(runbook->metadata.service, "orders");
  EXPECT_EQ(runbook->objectives.rto, std::chrono::minutes(5));
  EXPECT_EQ(runbook->objectives.rpo, std::chrono::seconds(30));
  EXPECT_EQ(runbook->policy.maxParallel, 3);
  EXPECT_EQ(runbook->sha256.size(), 64U);
  ASSERT_EQ(runbook->targets.size(), 2U);
  EXPECT_TRUE(runbook->targets[0].production);
  EXPECT_EQ(runbook->targets[0].fields.at("dsn").as_string(), "host=127.0.0.1 port=15432");
  ASSERT_EQ(runbook->triggers.size(), 1U);
  EXPECT_EQ(runbook->triggers[0].kind, TriggerKind::tcp);
  EXPECT_EQ(runbook->triggers[0].port, 15432);
  EXPECT_EQ(runbook->triggers[0].timeout, std::chrono::milliseconds(500));
  ASSERT_EQ(runbook->steps.size(), 4U);
  const Step& promote = runbook->steps[1];
  EXPECT_EQ(promote.kind, StepKind::plugin);
  EXPECT_EQ(promote.retry.attempts, 3);
  EXPECT_EQ(promote.retry.backoff, std::chrono::seconds(2));
  EXPECT_EQ(promote.timeout, std::chrono::minutes(1));
  ASSERT_TRUE(promote.rollback.has_value());
  EXPECT_EQ(std::get<PluginActionSpec>(promote.rollback->action).action, "demote");
  EXPECT_EQ(std::get<PluginActionSpec>(promote.action).with.at("wait_seconds").as_int64(), 30);
  const Step& verify = runbook->steps[3];
  EXPECT_EQ(verify.kind, StepKind::http);
  EXPECT_EQ(std::get<HttpSpec>(verify.action).expectStatus, (std::vector<int>{200, 204}));
  ASSERT_TRUE(verify.wait.has_value());
  EXPECT_EQ(verify.wait->within, std::chrono::seconds(60));
  EXPECT_TRUE(verify.restoresService);
  EXPECT_EQ(verify.effectiveTimeout(runbook->policy), std::chrono::minutes(2));
  EXPECT_EQ(runbook->steps[0].measures, Measures::rpo);
}

TEST(Load, ChecksPluginParametersAndOutputs) {
  const plugin::PluginDescription pg = pgDescription();
  LoadOptions options;
  options.describePlugin = [&](std::string_view) -> Result<const plugin::PluginDescription*> {
    return &pg;
  };
  std::string text(kRunbook);
  text.replace(text.find("wait_seconds = 30"), 17, "wait_secs = \"30\"");
  text.replace(text.find("outputs.address"), 15, "outputs.adress");
  DiagnosticSink sink;
  EXPECT_FALSE(loadRunbook(text, "rb.toml", options, sink).has_value());
  std::vector<std::string> messages;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    messages.push_back(diagnostic.message + " | " + diagnostic.hint);
  }
  ASSERT_EQ(messages.size(), 2U) << ::testing::PrintToString(messages);
  EXPECT_EQ(messages[0],
            "unknown parameter 'wait_secs' in 'with' of step 'promote' (action 'promote') | did "
            "you mean 'wait_seconds'?");
  EXPECT_EQ(messages[1],
            "${steps.promote.outputs.adress}: action 'promote' of step 'promote' has no output "
            "'adress' | did you mean 'address'?");
}

TEST(Load, WarnsWhenADrillStepReadsOutputsOfAStepDrillsSkip) {
  const plugin::PluginDescription pg = pgDescription();
  LoadOptions options;
  options.describePlugin = [&](std::string_view) -> Result<const plugin::PluginDescription*> {
    return &pg;
  };
  std::string text(kRunbook);
  // promote now acts on the production primary, which drills skip; switch
  // (on the standby) still runs in drills and reads promote's output.
  const std::string from = "after = [\"lag\"]\ntarget = \"standby\"\naction = \"promote\"";
  text.replace(text.find(from), from.size(),
               "after = [\"lag\"]\ntarget = \"primary\"\naction = \"promote\"");
  DiagnosticSink sink;
  ASSERT_TRUE(loadRunbook(text, "rb.toml", options, sink).has_value());
  ASSERT_EQ(sink.warningCount(), 1U);
  EXPECT_EQ(sink.all()[0].message,
            "${steps.promote.outputs.address} in step 'switch' reads an output of 'promote', "
            "which drills skip");
}

TEST(Load, APluginThatCannotDescribeItselfIsReportedOnce) {
  LoadOptions options;
  options.describePlugin = [](std::string_view name) -> Result<const plugin::PluginDescription*> {
    return Error{"no plugin named '" + std::string(name) + "'", "check --plugins-dir"};
  };
  DiagnosticSink sink;
  EXPECT_FALSE(loadRunbook(kRunbook, "rb.toml", options, sink).has_value());
  ASSERT_EQ(sink.errorCount(), 1U);
  EXPECT_EQ(sink.all()[0].message, "plugin 'pg' of target 'primary': no plugin named 'pg'");
  EXPECT_EQ(sink.all()[0].where, (SourceLocation{20, 10}));
}

TEST(Load, VarOverridesReplaceDefaults) {
  LoadOptions options;
  options.variables = {{"vip", "127.0.0.11"}, {"extra", "1"}};
  DiagnosticSink sink;
  const auto runbook = loadRunbook(kRunbook, "rb.toml", options, sink);
  ASSERT_TRUE(runbook.has_value());
  EXPECT_EQ(runbook->variables, (std::vector<std::pair<std::string, std::string>>{
                                    {"vip", "127.0.0.11"}, {"extra", "1"}}));
}

TEST(Load, ReportsEveryProblemAtOnce) {
  constexpr std::string_view kBroken = R"([runbook]
name = "x"
[objectives]
rto = "soon"
[[step]]
id = "a"
after = ["b"]
exec = ["/bin/true"]
when = "real"
[[step]]
id = "b"
after = ["a"]
exec = []
)";
  DiagnosticSink sink;
  EXPECT_FALSE(loadRunbook(kBroken, "rb.toml", {}, sink).has_value());
  std::vector<std::string> rendered;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    if (diagnostic.severity == Severity::error) {
      rendered.push_back(std::to_string(diagnostic.where.line) + ": " + diagnostic.message);
    }
  }
  EXPECT_EQ(rendered,
            (std::vector<std::string>{
                "1: [runbook] is missing required key 'service'",
                "4: 'rto' in [objectives]: invalid duration 'soon': expected a digit at "
                "'soon'",
                "5: dependency cycle: a -> b -> a", "13: 'exec' in step 'b' names no program"}));
}

}  // namespace
}  // namespace lifeboat::runbook
