// The postgres plugin against one real primary and its streaming standby,
// shared by the suite: each test leaves both as it found them (a primary
// that takes writes, a standby streaming from it).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "plugin_runner.hpp"

namespace lifeboat::test_servers {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

class PostgresPluginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new test_support::TempDir();
    primary_ = PostgresServer::primary(temp_->path() / "primary").release();
    if (primary_ != nullptr) {
      standby_ = PostgresServer::standbyOf(*primary_, temp_->path() / "standby").release();
    }
  }
  static void TearDownTestSuite() {
    delete standby_;
    delete primary_;
    delete temp_;
    standby_ = nullptr;
    primary_ = nullptr;
    temp_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(primary_, nullptr) << "the primary did not start";
    ASSERT_NE(standby_, nullptr) << "the standby did not start";
    ASSERT_EQ(::access(pluginPath().c_str(), X_OK), 0) << pluginPath() << " is not built";
  }

  static std::string label(const PostgresServer& server) {
    return server.address() + ":" + std::to_string(server.port());
  }

  static test_support::TempDir* temp_;
  static PostgresServer* primary_;
  static PostgresServer* standby_;
};

test_support::TempDir* PostgresPluginTest::temp_ = nullptr;
PostgresServer* PostgresPluginTest::primary_ = nullptr;
PostgresServer* PostgresPluginTest::standby_ = nullptr;

TEST_F(PostgresPluginTest, DescribeIsAValidDescription) {
  auto answer = test_support::runProcess({pluginPath()}, R"({"v":1,"op":"describe"})");
  ASSERT_EQ(answer.exitCode, 0) << answer.err;
  const json::value final = json::parse(answer.lastLine());
  auto description = plugin::parseDescription(final.at("plugin"));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "postgres");
  for (const char* action : {"status", "replication_lag", "data_loss", "verify_writes"}) {
    ASSERT_NE(description->findAction(action), nullptr) << action;
    EXPECT_TRUE(description->findAction(action)->probe) << action;
  }
  for (const char* action : {"fence", "unfence", "promote", "clone", "drop_clone", "rejoin"}) {
    ASSERT_NE(description->findAction(action), nullptr) << action;
    EXPECT_FALSE(description->findAction(action)->probe) << action;
  }
  EXPECT_EQ(description->findAction("fence")->undoneBy, "unfence");
  EXPECT_EQ(description->findAction("clone")->undoneBy, "drop_clone");
  EXPECT_TRUE(description->findAction("data_loss")->measuresRpo);
  EXPECT_TRUE(description->findAction("replication_lag")->measuresRpo);
  bool passwordSecret = false;
  for (const auto& param : description->targetParams) {
    passwordSecret = passwordSecret || (param.name == "password" && param.secret);
  }
  EXPECT_TRUE(passwordSecret);
}

TEST_F(PostgresPluginTest, StatusReportsTheRoles) {
  auto primary = runPlugin("check", "status", targetOf(*primary_));
  ASSERT_TRUE(primary.ok()) << primary.dump();
  EXPECT_EQ(primary.outputText("role"), "primary");
  EXPECT_EQ(primary.output("in_recovery"), false);
  EXPECT_EQ(primary.output("accepts_writes"), true);
  EXPECT_EQ(primary.output("timeline"), 1);
  EXPECT_THAT(primary.outputText("server_version"), HasSubstr("15"));
  EXPECT_THAT(primary.outputText("lsn"), HasSubstr("/"));

  auto standby = runPlugin("check", "status", targetOf(*standby_), {{"expect_role", "standby"}});
  ASSERT_TRUE(standby.ok()) << standby.dump();
  EXPECT_EQ(standby.outputText("role"), "standby");
  EXPECT_EQ(standby.output("accepts_writes"), false);

  auto wrong = runPlugin("check", "status", targetOf(*standby_), {{"expect_role", "primary"}});
  EXPECT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.process.exitCode, 1);
  EXPECT_THAT(wrong.error(), HasSubstr(label(*standby_) + " is a standby, expected a primary"));
}

TEST_F(PostgresPluginTest, StatusOfAnUnreachableServerSaysWhereAndWhatToCheck) {
  const int port = test_support::freePorts(1);
  json::object target{
      {"dsn", "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres"},
      {"password", kTestPassword}};
  auto answer = runPlugin("check", "status", target);
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(answer.process.exitCode, 1);
  EXPECT_THAT(answer.error(),
              HasSubstr("cannot connect to PostgreSQL at 127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(answer.hint(), HasSubstr("listens"));
}

TEST_F(PostgresPluginTest, ATargetDsnWithAPasswordIsRefusedWithoutQuotingIt) {
  json::object target{{"dsn", primary_->dsn() + " password=" + kTestPassword}};
  auto answer = runPlugin("check", "status", target);
  EXPECT_FALSE(answer.ok());
  EXPECT_THAT(answer.error(), HasSubstr("contains a password"));
}

TEST_F(PostgresPluginTest, ReplicationLagFailsAboveMaxLagBytesWhileTheWalSenderIsStopped) {
  auto idle = runPlugin("check", "replication_lag", targetOf(*standby_));
  ASSERT_TRUE(idle.ok()) << idle.dump();
  EXPECT_GE(idle.output("lag_bytes").as_int64(), 0);
  EXPECT_TRUE(idle.final.at("measurements").as_object().contains("rpo_seconds"));

  const pid_t walSender = primary_->walSenderPid("standby1");
  ASSERT_GT(walSender, 0);
  ASSERT_EQ(::kill(walSender, SIGSTOP), 0);
  primary_->query("CREATE TABLE IF NOT EXISTS lag_probe (x int); INSERT INTO lag_probe VALUES (1)");
  auto behind = runPlugin("check", "replication_lag", targetOf(*standby_),
                          {{"primary_dsn", primary_->dsn()}, {"max_lag_bytes", 0}});
  ::kill(walSender, SIGCONT);
  EXPECT_FALSE(behind.ok());
  EXPECT_THAT(behind.error(), HasSubstr("standby " + label(*standby_) + " is "));
  EXPECT_THAT(behind.error(), HasSubstr("bytes behind"));
  EXPECT_THAT(behind.error(), HasSubstr("more than max_lag_bytes 0"));

  // Once the walsender runs again the standby catches up: what a `wait`
  // modifier would see, polled here the same way.
  bool caughtUp = false;
  for (int attempt = 0; attempt < 100 && !caughtUp; ++attempt) {
    auto again = runPlugin("check", "replication_lag", targetOf(*standby_),
                           {{"primary_dsn", primary_->dsn()}, {"max_lag_bytes", 0}});
    caughtUp = again.ok();
    if (!caughtUp) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(caughtUp);

  auto onPrimary = runPlugin("check", "replication_lag", targetOf(*primary_));
  EXPECT_FALSE(onPrimary.ok());
  EXPECT_THAT(onPrimary.error(), HasSubstr("is not a standby"));
}

TEST_F(PostgresPluginTest, VerifyWritesFailsOnAStandbyAndWritesOneCanaryOnThePrimary) {
  auto standby = runPlugin("check", "verify_writes", targetOf(*standby_));
  EXPECT_FALSE(standby.ok());
  EXPECT_THAT(standby.error(), HasSubstr(label(*standby_) + " does not take writes"));
  EXPECT_THAT(standby.error(), HasSubstr("standby"));

  auto primary = runPlugin("check", "verify_writes", targetOf(*primary_), {}, "r-verify");
  ASSERT_TRUE(primary.ok()) << primary.dump();
  EXPECT_EQ(primary.outputText("origin"), label(*primary_));
  const std::string id = primary.outputText("id");
  EXPECT_EQ(
      primary_->queryValue("SELECT writer || ' ' || origin FROM lifeboat.canary WHERE id = " + id),
      "verify:r-verify " + label(*primary_));
}

TEST_F(PostgresPluginTest, FenceReadOnlyStopsWritesAndUnfenceRestoresThem) {
  auto fenced = runPlugin("run", "fence", targetOf(*primary_));  // auto without data_dir
  ASSERT_TRUE(fenced.ok()) << fenced.dump();
  EXPECT_EQ(fenced.outputText("method"), "read_only");
  EXPECT_EQ(fenced.output("was_running"), true);

  auto refused = runPlugin("check", "verify_writes", targetOf(*primary_));
  auto direct = test_support::runProcess(
      {std::string(PostgresServer::kBinDir) + "/psql", "-XAt", "-h", primary_->address(), "-p",
       std::to_string(primary_->port()), "-U", "postgres", "-d", "postgres", "-v",
       "ON_ERROR_STOP=1", "-c", "CREATE TABLE fenced_write (x int)"});
  auto unfenced = runPlugin("run", "unfence", targetOf(*primary_));
  ASSERT_TRUE(unfenced.ok()) << unfenced.dump();
  EXPECT_EQ(unfenced.outputText("method"), "read_only");

  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.error(), HasSubstr("default_transaction_read_only is on"));
  EXPECT_NE(direct.exitCode, 0);
  EXPECT_THAT(direct.err, HasSubstr("read-only transaction"));
  EXPECT_TRUE(primary_->waitFor("SELECT current_setting('default_transaction_read_only') = 'off'"));
  auto writes = runPlugin("check", "verify_writes", targetOf(*primary_));
  EXPECT_TRUE(writes.ok()) << writes.dump();
}

TEST_F(PostgresPluginTest, FenceOfAnUnreachableServerWithoutDataDirFailsUnlessAllowed) {
  const int port = test_support::freePorts(1);
  json::object target{{"dsn", "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres"},
                      {"password", kTestPassword}};
  auto refused = runPlugin("run", "fence", target);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.hint(), HasSubstr("cannot be proven fenced"));
  auto allowed = runPlugin("run", "fence", target, {{"allow_unreachable", true}});
  ASSERT_TRUE(allowed.ok()) << allowed.dump();
  EXPECT_EQ(allowed.outputText("method"), "unreachable");
}

TEST_F(PostgresPluginTest, CloneMakesAnIsolatedCopyThatDropCloneRemoves) {
  const fs::path parent = temp_->path() / "drills";
  fs::create_directories(parent);
  ASSERT_EQ(::chown(parent.c_str(), ::getpwnam("postgres")->pw_uid, ::getpwnam("postgres")->pw_gid),
            0);
  // The canary table exists on the primary before the copy is made, so that
  // the copy's writes can be shown not to reach it.
  ASSERT_TRUE(runPlugin("check", "verify_writes", targetOf(*primary_)).ok());
  const int port = test_support::freePorts(1);
  const json::object params{{"parent_dir", parent.string()}, {"port", port}};
  auto cloned = runPlugin("run", "clone", targetOf(*primary_), params, "r-drill");
  ASSERT_TRUE(cloned.ok()) << cloned.dump();
  const fs::path copy = parent / "lifeboat-drill-r-drill";
  EXPECT_EQ(cloned.outputText("data_dir"), copy.string());
  EXPECT_EQ(cloned.outputText("tag"), "r-drill");
  EXPECT_EQ(cloned.outputText("dsn"),
            "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres");
  EXPECT_TRUE(fs::exists(copy / "lifeboat-drill.json"));

  // The copy is a standby of the primary until a drill promotes it; then it
  // takes writes that never reach the primary.
  const json::object copyTarget{{"dsn", cloned.outputText("dsn")}, {"password", kTestPassword}};
  auto copyStatus = runPlugin("check", "status", copyTarget);
  ASSERT_TRUE(copyStatus.ok()) << copyStatus.dump();
  EXPECT_EQ(copyStatus.outputText("role"), "standby");
  auto promoted = runPlugin("run", "promote", copyTarget, {}, "r-drill");
  ASSERT_TRUE(promoted.ok()) << promoted.dump();
  EXPECT_EQ(promoted.output("timeline"), 2);
  auto written = runPlugin("check", "verify_writes", copyTarget, {}, "r-drill");
  ASSERT_TRUE(written.ok()) << written.dump();
  EXPECT_EQ(written.outputText("origin"), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(primary_->queryValue("SELECT count(*) FROM lifeboat.canary WHERE writer = "
                                 "'verify:r-drill'"),
            "0");

  auto again = runPlugin("run", "clone", targetOf(*primary_), params, "r-drill");
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(again.error(), HasSubstr("already exists"));

  std::ifstream pidFile(copy / "postmaster.pid");
  pid_t copyPid = 0;
  pidFile >> copyPid;
  ASSERT_GT(copyPid, 0);
  auto otherRun = runPlugin("run", "drop_clone", targetOf(*primary_),
                            {{"parent_dir", parent.string()}}, "r-other");
  ASSERT_TRUE(otherRun.ok()) << otherRun.dump();
  EXPECT_EQ(otherRun.output("removed"), false);
  auto dropped = runPlugin("run", "drop_clone", targetOf(*primary_),
                           {{"parent_dir", parent.string()}}, "r-drill");
  ASSERT_TRUE(dropped.ok()) << dropped.dump();
  EXPECT_EQ(dropped.output("removed"), true);
  EXPECT_FALSE(fs::exists(copy));
  EXPECT_FALSE(processRuns(copyPid)) << "the copy's postmaster still runs";
  EXPECT_FALSE(test_support::acceptsConnections("127.0.0.1", port));
}

TEST_F(PostgresPluginTest, DropCloneRefusesADirectoryOfAnotherRun) {
  const fs::path parent = temp_->path() / "foreign";
  fs::create_directories(parent / "lifeboat-drill-r-mine");
  std::ofstream(parent / "lifeboat-drill-r-mine" / "lifeboat-drill.json") << R"({"run":"r-x"})";
  auto refused = runPlugin("run", "drop_clone", targetOf(*primary_),
                           {{"parent_dir", parent.string()}}, "r-mine");
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.error(), HasSubstr("names another run"));
  EXPECT_TRUE(fs::exists(parent / "lifeboat-drill-r-mine"));
}

TEST_F(PostgresPluginTest, PromoteOfAPrimaryIsIdempotent) {
  auto answer = runPlugin("run", "promote", targetOf(*primary_));
  ASSERT_TRUE(answer.ok()) << answer.dump();
  EXPECT_EQ(answer.output("already_primary"), true);
  EXPECT_EQ(answer.output("timeline"), 1);
}

TEST(PostgresCanaryWriterTest, UsageErrorsExitTwoAndHelpExitsZero) {
  const std::string writer = (test_support::binaryDir() / "bin/lifeboat-pg-canary").string();
  auto missing = test_support::runProcess({writer, "--state", "/tmp/x"});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_THAT(missing.err, HasSubstr("--dsn is required"));
  auto unknown =
      test_support::runProcess({writer, "--dsn", "host=x", "--state", "s", "--bogus", "1"});
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown option '--bogus'"));
  auto interval =
      test_support::runProcess({writer, "--dsn", "host=x", "--state", "s", "--interval", "soon"});
  EXPECT_EQ(interval.exitCode, 2);
  auto help = test_support::runProcess({writer, "--help"});
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: lifeboat-pg-canary"));
}

}  // namespace
}  // namespace lifeboat::test_servers
