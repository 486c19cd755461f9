// The agent config (docs/agent-config.md): every key read, defaults, and
// problems reported compiler style without half a config coming back.

#include "lifeboat/daemon/agent_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "lifeboat/daemon/systemd_notify.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::daemon {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::optional<AgentConfig> parse(const std::string& text, DiagnosticSink& sink) {
  return parseAgentConfig(text, "/etc/lifeboat/agent.toml", sink);
}

std::string errors(const DiagnosticSink& sink) {
  std::string out;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    out += formatDiagnostic("agent.toml", diagnostic) + "\n";
  }
  return out;
}

TEST(AgentConfigTest, ReadsEveryKey) {
  DiagnosticSink sink;
  std::optional<AgentConfig> config = parse(R"(
name = "db-east-1"
state_dir = "/var/lib/lifeboat"
runbooks = ["runbooks", "/srv/extra.toml"]
plugin_dirs = ["/opt/plugins"]
control_socket = "/run/lifeboat/control.sock"
approval_timeout = "20m"

[coordinator]
url = "wss://coordinator.example:8443/v1/stream"
ca_file = "tls/ca.pem"
cert_file = "tls/agent.pem"
key_file = "tls/agent-key.pem"
pin_sha256 = "AA:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"
spool_max = "64MiB"
flush_timeout = "2s"

[lock]
backend = "etcd"
endpoints = ["https://etcd-1.example:2379", "https://etcd-2.example:2379"]
ca_file = "tls/etcd-ca.pem"
cert_file = "tls/agent.pem"
key_file = "tls/agent-key.pem"
ttl = "6s"

[listen]
address = "0.0.0.0:9095"
cert_file = "tls/listen.pem"
key_file = "tls/listen-key.pem"
client_ca_file = "tls/clients.pem"
token_env = "LIFEBOAT_WEBHOOK_TOKEN"

[confirm]
peers = ["https://db-west-1.example:9095"]
timeout = "1500ms"
when_unreachable = "proceed"

[failover_budget]
max_failovers = 2
window = "30m"

[detector]
flap_window = "2m"
flap_limit = 4
flap_stable = "1m"
ewma_alpha = 0.5
baseline_alpha = 0.1
warmup_checks = 3
latency_factor = 4
latency_clear_factor = 2
latency_min_increase = "50ms"
error_rate_high = 0.6
error_rate_low = 0.3
)",
                                            sink);
  ASSERT_TRUE(config) << errors(sink);
  EXPECT_EQ(config->name, "db-east-1");
  EXPECT_EQ(config->stateDirectory, "/var/lib/lifeboat");
  EXPECT_EQ(config->runbooks, (std::vector<fs::path>{"/etc/lifeboat/runbooks", "/srv/extra.toml"}));
  EXPECT_EQ(config->pluginDirectories, std::vector<fs::path>{"/opt/plugins"});
  EXPECT_EQ(config->coordinator.url, "wss://coordinator.example:8443/v1/stream");
  EXPECT_EQ(config->coordinator.caFile, "/etc/lifeboat/tls/ca.pem");
  EXPECT_EQ(config->coordinator.certificate, "/etc/lifeboat/tls/agent.pem");
  EXPECT_EQ(config->coordinator.privateKey, "/etc/lifeboat/tls/agent-key.pem");
  EXPECT_EQ(config->coordinator.pinSha256,
            "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");
  EXPECT_EQ(config->coordinator.spoolMax, 64u * 1024 * 1024);
  EXPECT_EQ(config->coordinator.flushTimeout, milliseconds(2'000));
  EXPECT_EQ(config->controlSocket, "/run/lifeboat/control.sock");
  EXPECT_EQ(config->approvalTimeout, milliseconds(20 * 60'000));
  EXPECT_EQ(config->lock.backend, LockBackend::etcd);
  EXPECT_EQ(config->lock.etcd.endpoints.size(), 2u);
  EXPECT_EQ(config->lock.etcd.caFile, "/etc/lifeboat/tls/etcd-ca.pem");
  EXPECT_EQ(config->lock.etcd.clientCertificate, "/etc/lifeboat/tls/agent.pem");
  EXPECT_EQ(config->lock.etcd.clientKey, "/etc/lifeboat/tls/agent-key.pem");
  EXPECT_EQ(config->lock.etcd.leaseTtl, milliseconds(6'000));
  EXPECT_EQ(config->lock.etcd.holder, "db-east-1");
  ASSERT_TRUE(config->listen);
  EXPECT_EQ(config->listen->host, "0.0.0.0");
  EXPECT_EQ(config->listen->port, 9095);
  EXPECT_TRUE(config->listen->tls);
  EXPECT_EQ(config->listen->clientCa, "/etc/lifeboat/tls/clients.pem");
  EXPECT_EQ(config->listen->tokenEnvironment, "LIFEBOAT_WEBHOOK_TOKEN");
  EXPECT_EQ(config->confirm.peers.size(), 1u);
  EXPECT_EQ(config->confirm.timeout, milliseconds(1'500));
  EXPECT_TRUE(config->confirm.proceedWhenUnreachable);
  EXPECT_EQ(config->budget.maxFailovers, 2);
  EXPECT_EQ(config->budget.window, milliseconds(30 * 60'000));
  EXPECT_EQ(config->detector.flapWindow, milliseconds(120'000));
  EXPECT_EQ(config->detector.flapLimit, 4);
  EXPECT_DOUBLE_EQ(config->detector.ewmaAlpha, 0.5);
  EXPECT_DOUBLE_EQ(config->detector.latencyFactor, 4.0);
  EXPECT_EQ(config->detector.latencyMinIncrease, milliseconds(50));
  EXPECT_DOUBLE_EQ(config->detector.errorRateLow, 0.3);
}

TEST(AgentConfigTest, DefaultsAreSafe) {
  DiagnosticSink sink;
  std::optional<AgentConfig> config =
      parse("state_dir = \"/tmp/state\"\nrunbooks = [\"a.toml\"]\n", sink);
  ASSERT_TRUE(config) << errors(sink);
  EXPECT_FALSE(config->name.empty());  // the host name
  EXPECT_EQ(config->controlSocket, "/tmp/state/control.sock");
  EXPECT_EQ(config->lock.backend, LockBackend::file);
  EXPECT_FALSE(config->listen);
  EXPECT_TRUE(config->confirm.peers.empty());
  EXPECT_FALSE(config->confirm.proceedWhenUnreachable);
  EXPECT_EQ(config->budget.maxFailovers, 1);
  EXPECT_EQ(config->budget.window, milliseconds(3'600'000));
  EXPECT_EQ(config->detector.flapLimit, 6);
}

TEST(AgentConfigTest, ReportsEveryProblemWithItsPlace) {
  DiagnosticSink sink;
  std::optional<AgentConfig> config = parse(R"(runbooks = ["a.toml"]
statedir = "/x"
[lock]
backend = "zookeeper"
[listen]
address = "127.0.0.1"
[detector]
ewma_alpha = 2
)",
                                            sink);
  EXPECT_FALSE(config);
  const std::string text = errors(sink);
  EXPECT_NE(text.find("agent.toml:2:12: error: unknown key 'statedir'"), std::string::npos) << text;
  EXPECT_NE(text.find("state_dir"), std::string::npos) << "a did-you-mean: " << text;
  EXPECT_NE(text.find("agent.toml:4:"), std::string::npos) << text;
  EXPECT_NE(text.find("zookeeper"), std::string::npos) << text;
  EXPECT_NE(text.find("is not HOST:PORT"), std::string::npos) << text;
  EXPECT_NE(text.find("[listen] needs cert_file and key_file"), std::string::npos) << text;
  EXPECT_NE(text.find("[detector]"), std::string::npos) << text;
}

TEST(AgentConfigTest, CoordinatorTableIsCheckedWithPlaces) {
  DiagnosticSink sink;
  std::optional<AgentConfig> config = parse(R"(runbooks = ["a.toml"]
[coordinator]
url = "ws://coordinator.example:7443/v1/stream"
ca_file = "ca.pem"
cert_file = "agent.pem"
spool_max = "lots"
pin_sha256 = "abc"
)",
                                            sink);
  EXPECT_FALSE(config);
  const std::string text = errors(sink);
  EXPECT_NE(text.find("agent.toml:3:7: error: [coordinator] url must be a wss:// URL"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("key_file"), std::string::npos) << "missing key_file: " << text;
  EXPECT_NE(text.find("agent.toml:6:13: error: [coordinator] spool_max"), std::string::npos)
      << text;
  EXPECT_NE(text.find("agent.toml:7:14: error: [coordinator] pin_sha256"), std::string::npos)
      << text;

  DiagnosticSink oldForm;
  EXPECT_FALSE(parse("runbooks = []\ncoordinator = \"wss://c.example:7443\"\n", oldForm));
  EXPECT_NE(errors(oldForm).find("coordinator must be a [coordinator] table"), std::string::npos)
      << errors(oldForm);
  EXPECT_EQ(parseSize("256MiB"), std::optional<std::uint64_t>(256u * 1024 * 1024));
  EXPECT_EQ(parseSize("1GiB"), std::optional<std::uint64_t>(1024u * 1024 * 1024));
  EXPECT_EQ(parseSize("4096"), std::optional<std::uint64_t>(4096));
  EXPECT_FALSE(parseSize("MiB"));
  EXPECT_FALSE(parseSize("12 parsecs"));
}

// The host's values for the watched runbooks' [vars], kept as text like a
// runbook's own; plain values only.
TEST(AgentConfigTest, VarsAreThisHostsRunbookValues) {
  DiagnosticSink sink;
  std::optional<AgentConfig> config = parse(R"(runbooks = ["a.toml"]
[vars]
primary_dsn = "host=db-1.example port=5432"
dns_port = 53
automatic_ok = true
)",
                                            sink);
  ASSERT_TRUE(config) << errors(sink);
  EXPECT_EQ(config->variables, (std::vector<std::pair<std::string, std::string>>{
                                   {"primary_dsn", "host=db-1.example port=5432"},
                                   {"dns_port", "53"},
                                   {"automatic_ok", "true"}}));

  DiagnosticSink bad;
  EXPECT_FALSE(parse(R"(runbooks = ["a.toml"]
[vars]
key = "${secret:env:KEY}"
2nd = "x"
list = ["a"]
)",
                     bad));
  const std::string text = errors(bad);
  EXPECT_NE(text.find("agent.toml:3:7: error: [vars] key holds a reference"), std::string::npos)
      << text;
  EXPECT_NE(text.find("[vars] name '2nd' is not valid"), std::string::npos) << text;
  EXPECT_NE(text.find("[vars] list must be a string, integer or boolean"), std::string::npos)
      << text;
}

TEST(AgentConfigTest, RefusesPlaintextOffLoopbackAndEtcdWithoutEndpoints) {
  DiagnosticSink sink;
  EXPECT_FALSE(
      parse("runbooks = []\n[listen]\naddress = \"0.0.0.0:9095\"\ntls = false\n"
            "[lock]\nbackend = \"etcd\"\n",
            sink));
  const std::string text = errors(sink);
  EXPECT_NE(text.find("plaintext is only allowed on a loopback address"), std::string::npos)
      << text;
  EXPECT_NE(text.find("backend = \"etcd\" needs endpoints"), std::string::npos) << text;
}

TEST(AgentConfigTest, LoadNamesTheFileAndRunbookFilesExpandsFolders) {
  test_support::TempDir temp;
  const fs::path config = temp.path() / "agent.toml";
  std::ofstream(config) << "runbooks = [\"books\"]\nstate_dir = \"s\"\nbogus = 1\n";
  Result<AgentConfig> bad = loadAgentConfig(config);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(config.string() + ":3:9: error: unknown key 'bogus'"),
            std::string::npos)
      << bad.error().message;

  std::ofstream(config) << "runbooks = [\"books\"]\nstate_dir = \"s\"\n";
  Result<AgentConfig> good = loadAgentConfig(config);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->stateDirectory, temp.path() / "s");
  EXPECT_FALSE(runbookFiles(*good)) << "a missing folder is an error";
  fs::create_directories(temp.path() / "books");
  std::ofstream(temp.path() / "books" / "b.toml") << "";
  std::ofstream(temp.path() / "books" / "a.toml") << "";
  std::ofstream(temp.path() / "books" / "notes.txt") << "";
  Result<std::vector<fs::path>> files = runbookFiles(*good);
  ASSERT_TRUE(files);
  EXPECT_EQ(*files, (std::vector<fs::path>{temp.path() / "books" / "a.toml",
                                           temp.path() / "books" / "b.toml"}));
  Result<AgentConfig> missing = loadAgentConfig(temp.path() / "nope.toml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.toml"), std::string::npos);
}

TEST(SystemdNotifierTest, DoesNothingWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  ::unsetenv("WATCHDOG_PID");
  SystemdNotifier notifier = SystemdNotifier::fromEnvironment();
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1"));
  ASSERT_TRUE(notifier.watchdogInterval());
  EXPECT_EQ(*notifier.watchdogInterval(), std::chrono::microseconds(2'000'000));
  ::setenv("WATCHDOG_PID", "1", 1);  // the watchdog is someone else's
  EXPECT_FALSE(SystemdNotifier::fromEnvironment().watchdogInterval());
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

}  // namespace
}  // namespace lifeboat::daemon
