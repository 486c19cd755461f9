// The command line as users meet it: help, version, exit codes, the example
// runbooks, plan output in text and JSON.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

TEST(Commands, HelpListsSubcommandsAndExitCodes) {
  const ProcessResult result = runLifeboat({"--help"});
  EXPECT_EQ(result.exitCode, 0);
  for (const char* word : {"validate", "plan", "version", "Exit codes"}) {
    EXPECT_NE(result.out.find(word), std::string::npos) << word << " missing from\n" << result.out;
  }
  const ProcessResult planHelp = runLifeboat({"plan", "--help"});
  EXPECT_EQ(planHelp.exitCode, 0);
  EXPECT_NE(planHelp.out.find("--drill"), std::string::npos);
}

TEST(Commands, VersionPrintsTheVersion) {
  const ProcessResult result = runLifeboat({"version"});
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_TRUE(result.out.starts_with("lifeboat 0.")) << result.out;
}

TEST(Commands, UsageErrorsExitTwo) {
  EXPECT_EQ(runLifeboat({}).exitCode, 2);
  EXPECT_EQ(runLifeboat({"frobnicate"}).exitCode, 2);
  EXPECT_EQ(runLifeboat({"validate"}).exitCode, 2);
  EXPECT_EQ(runLifeboat({"plan", "a.toml", "--output", "yaml"}).exitCode, 2);
  const ProcessResult badVar = runLifeboat({"validate", "x.toml", "--var", "novalue"});
  EXPECT_EQ(badVar.exitCode, 2);
  EXPECT_NE(badVar.err.find("NAME=VALUE"), std::string::npos) << badVar.err;
}

TEST(Commands, MissingFileIsAClearError) {
  TempDir dir;
  const ProcessResult result = runLifeboat({"validate", "nope.toml"}, dir.path());
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.err.find("nope.toml"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("No such file"), std::string::npos) << result.err;
}

TEST(Commands, EveryExampleRunbookIsValid) {
  std::vector<std::string> arguments{"validate"};
  for (const auto& entry : std::filesystem::directory_iterator(sourceDir() / "runbooks")) {
    if (entry.path().extension() == ".toml") {
      arguments.push_back(entry.path().string());
    }
  }
  ASSERT_GE(arguments.size(), 4U);
  const ProcessResult result = runLifeboat(arguments);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.err.find("error:"), std::string::npos) << result.err;
}

TEST(Commands, OneBadFileAmongGoodOnesFailsTheWholeValidation) {
  TempDir dir;
  dir.write("bad.toml", "[runbook]\nname = \"x\"\n");
  const ProcessResult result = runLifeboat(
      {"validate", (sourceDir() / "runbooks" / "web-region-failover.toml").string(), "bad.toml"},
      dir.path());
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.out.find("web-region-failover.toml: valid (8 steps"), std::string::npos)
      << result.out;
  EXPECT_NE(result.err.find("bad.toml:1:1: error: [runbook] is missing required key 'service'"),
            std::string::npos)
      << result.err;
}

TEST(Commands, PlanShowsWavesCriticalPathAndDrillDifferences) {
  const ProcessResult result =
      runLifeboat({"plan", (sourceDir() / "runbooks" / "web-region-failover.toml").string()});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("wave 1"), std::string::npos);
  EXPECT_NE(result.out.find("wave 4"), std::string::npos);
  EXPECT_NE(result.out.find("critical path (real): scale-central -> warm-central -> "
                            "move-dns -> verify (worst case 12m, longer than the RTO of 10m)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("critical path (drill): scale-central -> warm-central -> "
                            "move-dns-drill -> verify"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("drill: skipped (when = \"real\")"), std::string::npos);
  EXPECT_NE(result.out.find("a drill touches: central\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("a real run touches: central, west (production)\n"), std::string::npos)
      << result.out;
}

TEST(Commands, PlanDrillListsOnlyWhatTheDrillDoes) {
  const ProcessResult result = runLifeboat(
      {"plan", "--drill", (sourceDir() / "runbooks" / "drill-config-restore.toml").string()});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("mode: drill"), std::string::npos);
  EXPECT_NE(result.out.find("cleanup (at the end, also after a failure)"), std::string::npos);
  EXPECT_EQ(result.out.find("real:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("a drill touches: backup, scratch\n"), std::string::npos) << result.out;
}

TEST(Commands, PlanJsonIsMachineReadable) {
  const ProcessResult result =
      runLifeboat({"plan", "--output", "json",
                   (sourceDir() / "runbooks" / "db-failover-decision.toml").string()});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  const boost::json::value plan = boost::json::parse(result.out);
  EXPECT_EQ(plan.at("runbook").at("name").as_string(), "orders-db-failover");
  EXPECT_EQ(plan.at("runbook").at("sha256").as_string().size(), 64U);
  EXPECT_EQ(plan.at("objectives").at("rto_ms").as_int64(), 15 * 60'000);
  const auto& waves = plan.at("waves").as_array();
  ASSERT_FALSE(waves.empty());
  EXPECT_EQ(waves[0].as_array()[0].as_string(), "replication-lag");
  bool sawFence = false;
  for (const auto& step : plan.at("steps").as_array()) {
    if (step.at("id").as_string() == "fence-primary") {
      sawFence = true;
      EXPECT_TRUE(step.at("real").at("runs").as_bool());
      EXPECT_FALSE(step.at("drill").at("runs").as_bool());
      EXPECT_EQ(step.at("timeout_ms").as_int64(), 30'000);
    }
  }
  EXPECT_TRUE(sawFence);
  const auto& path = plan.at("critical_path").at("steps").as_array();
  EXPECT_EQ(path.front().as_string(), "replication-lag");
  for (const auto& id : plan.at("drill_critical_path").at("steps").as_array()) {
    EXPECT_NE(id.as_string(), "fence-primary");  // drills skip it
  }
}

TEST(Commands, VarOverridesAndSatisfiesVariables) {
  TempDir dir;
  dir.write("v.toml",
            "[runbook]\nname = \"v\"\nservice = \"v\"\n[objectives]\nrto = \"1m\"\n"
            "[[step]]\nid = \"s\"\nwhen = \"real\"\nexec = [\"/bin/echo\", \"${vars.who}\"]\n"
            "restores_service = true\n");
  const ProcessResult without = runLifeboat({"validate", "v.toml"}, dir.path());
  EXPECT_EQ(without.exitCode, 2);
  EXPECT_NE(without.err.find("--var who=VALUE"), std::string::npos) << without.err;
  EXPECT_EQ(runLifeboat({"validate", "v.toml", "--var", "who=me"}, dir.path()).exitCode, 0);
}

TEST(Commands, MissingPluginIsAnErrorThatSaysWhereItLooked) {
  TempDir dir;
  dir.write("p.toml",
            "[runbook]\nname = \"p\"\nservice = \"p\"\n[targets.db]\nplugin = \"postgrse\"\n"
            "[[step]]\nid = \"s\"\ntarget = \"db\"\naction = \"promote\"\n");
  const ProcessResult result =
      runLifeboat({"validate", "p.toml", "--plugins-dir", dir.path().string()}, dir.path());
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.err.find("p.toml:5:10: error: plugin 'postgrse' of target 'db'"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(dir.path().string()), std::string::npos) << result.err;
}

}  // namespace
}  // namespace lifeboat::test_support
