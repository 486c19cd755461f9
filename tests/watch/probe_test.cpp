// Probes against real servers and programs on 127.0.0.1: the HTTP test
// server (tests/http/test_server.py), sockets opened here, /bin programs and
// the built `file` plugin.

#include "lifeboat/watch/probe.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "lifeboat/common/unique_fd.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "test_server.hpp"

namespace lifeboat::watch {
namespace {

using http::fixtures::ClosedPort;
using http::fixtures::TestServer;
using runbook::Trigger;
using runbook::TriggerKind;
using std::chrono::milliseconds;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kSecret = "s3cret-probe-token";

// Time a check may take beyond its timeout: process start-up, poll
// granularity, a loaded 2-core machine.
constexpr milliseconds kSlack{1'500};

Trigger httpTrigger(std::string url, milliseconds timeout = milliseconds(2'000)) {
  Trigger trigger;
  trigger.kind = TriggerKind::http;
  trigger.url = std::move(url);
  trigger.timeout = timeout;
  trigger.interval = std::max(timeout, trigger.interval);
  return trigger;
}

Trigger tcpTrigger(int port, std::string host = "127.0.0.1",
                   milliseconds timeout = milliseconds(2'000)) {
  Trigger trigger;
  trigger.kind = TriggerKind::tcp;
  trigger.host = std::move(host);
  trigger.port = port;
  trigger.timeout = timeout;
  return trigger;
}

Trigger execTrigger(std::vector<std::string> command, milliseconds timeout = milliseconds(5'000)) {
  Trigger trigger;
  trigger.kind = TriggerKind::exec;
  trigger.command = std::move(command);
  trigger.timeout = timeout;
  return trigger;
}

// A TCP socket listening on 127.0.0.1 (port 0, read back); never accepts, so
// it serves the probe's connect through the kernel's backlog.
class Listener {
 public:
  explicit Listener(int backlog = 16) {
    socket_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (!socket_.valid() ||
        ::bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(socket_.get(), backlog) != 0 ||
        ::getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1: errno " << errno;
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  int port() const { return port_; }

  // Connects clients until one is not accepted by the kernel within
  // `patience`: from then on SYNs to this socket are dropped (the accept
  // queue is full and nobody accepts), so a connect can only time out.
  // False when the queue never filled up.
  bool fillBacklog(milliseconds patience) {
    for (int i = 0; i < 64; ++i) {
      UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<std::uint16_t>(port_));
      const int result =
          ::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
      if (result != 0 && errno != EINPROGRESS) {
        return false;
      }
      bool connected = result == 0;
      if (!connected) {
        pollfd descriptor{client.get(), POLLOUT, 0};
        connected = ::poll(&descriptor, 1, static_cast<int>(patience.count())) == 1;
      }
      clients_.push_back(std::move(client));
      if (!connected) {
        return true;
      }
    }
    return false;
  }

 private:
  UniqueFd socket_;
  int port_ = 0;
  std::vector<UniqueFd> clients_;
};

class ProbeTest : public ::testing::Test {
 protected:
  ProbeTest() {
    redactor_.add(kSecret);
    context_.runner = &runner_;
    context_.redactor = &redactor_;
  }

  process::PosixRunner runner_;
  Redactor redactor_;
  ProbeContext context_;
};

// --- http ---------------------------------------------------------------------------------------

TEST_F(ProbeTest, HttpExpectedStatusIsHealthy) {
  TestServer server;
  const auto before = std::chrono::system_clock::now();
  const CheckResult result = runProbe(httpTrigger(server.url("/status/200")), context_);
  EXPECT_TRUE(result.healthy) << result.detail;
  EXPECT_EQ(result.detail, "HTTP 200");
  EXPECT_GE(result.wallAt, std::chrono::time_point_cast<milliseconds>(before));
  EXPECT_LE(result.wallAt, std::chrono::system_clock::now());
  EXPECT_LE(result.at, Clock::now());
}

TEST_F(ProbeTest, HttpOtherStatusIsUnhealthyWithTheStatus) {
  TestServer server;
  const CheckResult result = runProbe(httpTrigger(server.url("/status/503")), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "HTTP 503 (expected 200)");
}

TEST_F(ProbeTest, HttpExpectStatusIsTheOnlyHealthyStatus) {
  TestServer server;
  Trigger trigger = httpTrigger(server.url("/status/204"));
  trigger.expectStatus = 204;
  EXPECT_TRUE(runProbe(trigger, context_).healthy);
  trigger.url = server.url("/status/200");
  const CheckResult result = runProbe(trigger, context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "HTTP 200 (expected 204)");
}

TEST_F(ProbeTest, HttpHeadMethodIsUsed) {
  TestServer server;
  Trigger trigger = httpTrigger(server.url("/status/200"));
  trigger.method = "HEAD";
  const CheckResult result = runProbe(trigger, context_);
  EXPECT_TRUE(result.healthy) << result.detail;
}

TEST_F(ProbeTest, HttpLatencyCoversTheServersDelay) {
  TestServer server;
  const CheckResult result = runProbe(httpTrigger(server.url("/slow?ms=300")), context_);
  EXPECT_TRUE(result.healthy) << result.detail;
  EXPECT_GE(result.latency, milliseconds(300));
  EXPECT_LT(result.latency, milliseconds(300) + kSlack);
}

TEST_F(ProbeTest, HttpSlowerThanTimeoutTimesOutInTime) {
  TestServer server;
  const auto start = Clock::now();
  const CheckResult result =
      runProbe(httpTrigger(server.url("/slow?ms=5000"), milliseconds(300)), context_);
  const auto took = Clock::now() - start;
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "timed out after 300ms");
  EXPECT_GE(result.latency, milliseconds(300));
  EXPECT_LT(took, milliseconds(300) + kSlack);
}

TEST_F(ProbeTest, HttpClosedPortCannotConnectAndNeverShowsTheUrl) {
  ClosedPort closed;
  // No Redactor: the URL must stay out of the detail on its own.
  ProbeContext bare;
  const std::string url =
      "http://127.0.0.1:" + std::to_string(closed.port()) + "/health?token=" + std::string(kSecret);
  const CheckResult result = runProbe(httpTrigger(url), bare);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.detail, StartsWith("cannot connect"));
  EXPECT_THAT(result.detail, Not(HasSubstr(kSecret)));
  EXPECT_THAT(result.detail, Not(HasSubstr("/health")));
}

TEST_F(ProbeTest, HttpInvalidUrlIsUnhealthyWithoutTheUrl) {
  const CheckResult result =
      runProbe(httpTrigger("ftp://user:" + std::string(kSecret) + "@127.0.0.1/x"), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_FALSE(result.detail.empty());
  EXPECT_THAT(result.detail, Not(HasSubstr(kSecret)));
}

// --- tcp ----------------------------------------------------------------------------------------

TEST_F(ProbeTest, TcpListeningPortIsHealthy) {
  Listener listener;
  const CheckResult result = runProbe(tcpTrigger(listener.port()), context_);
  EXPECT_TRUE(result.healthy) << result.detail;
  EXPECT_EQ(result.detail, "connected");
}

TEST_F(ProbeTest, TcpResolvesNames) {
  // localhost may resolve to ::1 first, where nothing listens: the probe
  // goes on to 127.0.0.1.
  Listener listener;
  const CheckResult result = runProbe(tcpTrigger(listener.port(), "localhost"), context_);
  EXPECT_TRUE(result.healthy) << result.detail;
}

TEST_F(ProbeTest, TcpClosedPortIsRefused) {
  ClosedPort closed;
  const CheckResult result = runProbe(tcpTrigger(closed.port()), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "connection refused");
}

TEST_F(ProbeTest, TcpUnansweredConnectTimesOutInTime) {
  Listener listener(0);
  if (!listener.fillBacklog(milliseconds(200))) {
    // A test that cannot set up its hanging connect fails: a skip would hide
    // that the timeout went untested.
    FAIL() << "the kernel kept accepting connections; cannot make a connect hang on loopback";
  }
  const auto start = Clock::now();
  const CheckResult result =
      runProbe(tcpTrigger(listener.port(), "127.0.0.1", milliseconds(300)), context_);
  const auto took = Clock::now() - start;
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "timed out after 300ms");
  EXPECT_GE(result.latency, milliseconds(300));
  EXPECT_LT(took, milliseconds(300) + kSlack);
}

TEST_F(ProbeTest, TcpCancelledCheckEndsAtOnce) {
  Listener listener(0);
  if (!listener.fillBacklog(milliseconds(200))) {
    // A test that cannot set up its hanging connect fails: a skip would hide
    // that the timeout went untested.
    FAIL() << "the kernel kept accepting connections; cannot make a connect hang on loopback";
  }
  process::CancelSignal cancel;
  context_.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(milliseconds(100));  // let the connect start waiting
    cancel.trigger();
  });
  const auto start = Clock::now();
  const CheckResult result =
      runProbe(tcpTrigger(listener.port(), "127.0.0.1", milliseconds(10'000)), context_);
  const auto took = Clock::now() - start;
  canceller.join();
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "cancelled");
  EXPECT_LT(took, kSlack);
}

TEST_F(ProbeTest, TcpPortOutOfRangeIsUnhealthy) {
  const CheckResult result = runProbe(tcpTrigger(0), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.detail, HasSubstr("port 0"));
}

// --- exec ---------------------------------------------------------------------------------------

TEST_F(ProbeTest, ExecExitZeroIsHealthy) {
  const CheckResult result = runProbe(execTrigger({"/bin/true"}), context_);
  EXPECT_TRUE(result.healthy) << result.detail;
  EXPECT_FALSE(result.broken);
  EXPECT_EQ(result.detail, "exit 0");
}

TEST_F(ProbeTest, ExecNonZeroExitIsUnhealthyWithTheStatus) {
  const CheckResult result = runProbe(execTrigger({"/bin/false"}), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "exit 1");
}

TEST_F(ProbeTest, ExecQuotesTheLastStderrLineRedacted) {
  const CheckResult result =
      runProbe(execTrigger({"/bin/sh", "-c",
                            "echo first >&2; echo \"login failed for $1\" >&2; echo >&2; exit 3",
                            "sh", kSecret}),
               context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "exit 3: login failed for [redacted]");
}

TEST_F(ProbeTest, ExecQuotesStdoutWhenStderrIsSilent) {
  const CheckResult result =
      runProbe(execTrigger({"/bin/sh", "-c", "echo no response; exit 2"}), context_);
  EXPECT_EQ(result.detail, "exit 2: no response");
}

TEST_F(ProbeTest, ExecQuotedLineIsCutAndASecretAtTheCutStaysHidden) {
  // The secret straddles byte 200 of the line: cut first, its start would show.
  const std::string line = std::string(195, 'x') + kSecret + std::string(300, 'y');
  const CheckResult result =
      runProbe(execTrigger({"/bin/sh", "-c", "echo \"$1\" >&2; exit 1", "sh", line}), context_);
  EXPECT_FALSE(result.healthy);
  ASSERT_THAT(result.detail, StartsWith("exit 1: "));
  const std::string quoted = result.detail.substr(8);
  EXPECT_LE(quoted.size(), kMaxQuotedBytes);
  EXPECT_THAT(quoted, EndsWith("..."));
  EXPECT_THAT(quoted, Not(HasSubstr(std::string(kSecret).substr(0, 4))));
}

TEST_F(ProbeTest, ExecSlowerThanTimeoutIsKilledInTime) {
  const auto start = Clock::now();
  const CheckResult result = runProbe(execTrigger({"sleep", "5"}, milliseconds(200)), context_);
  const auto took = Clock::now() - start;
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "timed out after 200ms");
  EXPECT_GE(result.latency, milliseconds(200));
  EXPECT_LT(took, milliseconds(200) + kSlack);
}

TEST_F(ProbeTest, ExecMissingProgramIsABrokenCheck) {
  const CheckResult result =
      runProbe(execTrigger({"/nonexistent/lifeboat-health-check"}), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(result.broken);
  EXPECT_FALSE(result.detail.empty());
}

TEST_F(ProbeTest, ExecWithoutRunnerIsUnhealthy) {
  ProbeContext bare;
  const CheckResult result = runProbe(execTrigger({"/bin/true"}), bare);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.detail, HasSubstr("no process runner"));
}

TEST_F(ProbeTest, CancelledBeforeStartDoesNotRun) {
  test_support::TempDir directory;
  const std::filesystem::path marker = directory.path() / "ran";
  process::CancelSignal cancel;
  cancel.trigger();
  context_.cancel = &cancel;
  const CheckResult result = runProbe(execTrigger({"/usr/bin/touch", marker.string()}), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.detail, "cancelled");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

// --- plugin -------------------------------------------------------------------------------------

class PluginProbeTest : public ProbeTest {
 protected:
  PluginProbeTest() {
    target_.name = "files";
    target_.plugin = "file";
    target_.fields["root"] = directory_.path().string();
    context_.findTarget = [this](std::string_view name) -> const runbook::Target* {
      return name == target_.name ? &target_ : nullptr;
    };
    context_.locatePlugin = [](std::string_view plugin) -> std::optional<std::filesystem::path> {
      std::filesystem::path path =
          test_support::binaryDir() / "lib/lifeboat/plugins" / std::string(plugin);
      if (!std::filesystem::exists(path)) {
        return std::nullopt;
      }
      return path;
    };
  }

  Trigger checkFile(std::string path) const {
    Trigger trigger;
    trigger.kind = TriggerKind::plugin;
    trigger.target = "files";
    trigger.action = "check";
    trigger.with["path"] = std::move(path);
    trigger.timeout = milliseconds(10'000);
    return trigger;
  }

  test_support::TempDir directory_;
  runbook::Target target_;
};

TEST_F(PluginProbeTest, HealthyWhenThePluginAnswersOk) {
  directory_.write("health", "up\n");
  const CheckResult result = runProbe(checkFile("health"), context_, "trigger #1");
  EXPECT_TRUE(result.healthy) << result.detail;
  EXPECT_EQ(result.detail, "ok");
}

TEST_F(PluginProbeTest, UnhealthyWithThePluginsError) {
  const CheckResult result = runProbe(checkFile("health"), context_, "trigger #1");
  EXPECT_FALSE(result.healthy);
  EXPECT_FALSE(result.broken) << "the plugin ran the check: the service is down";
  EXPECT_THAT(result.detail, HasSubstr("does not"));
  EXPECT_THAT(result.detail, HasSubstr("health"));
}

TEST_F(PluginProbeTest, ParamsComeFromWith) {
  directory_.write("health", "status: degraded\n");
  Trigger trigger = checkFile("health");
  trigger.with["contains"] = "status: up";
  EXPECT_FALSE(runProbe(trigger, context_).healthy);
  directory_.write("health", "status: up\n");
  EXPECT_TRUE(runProbe(trigger, context_).healthy);
}

// A request the plugin refuses (exit status 2: a value that is not of its
// type once the references are expanded) says nothing about the service.
TEST_F(PluginProbeTest, ARefusedRequestIsABrokenCheck) {
  directory_.write("health", "up\n");
  Trigger trigger = checkFile("health");
  trigger.with["exists"] = "perhaps";
  const CheckResult result = runProbe(trigger, context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(result.broken);
  EXPECT_THAT(result.detail, HasSubstr("'exists' must be a boolean"));
}

TEST_F(PluginProbeTest, UnknownTargetIsABrokenCheck) {
  Trigger trigger = checkFile("health");
  trigger.target = "elsewhere";
  const CheckResult result = runProbe(trigger, context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(result.broken);
  EXPECT_THAT(result.detail, HasSubstr("'elsewhere'"));
}

TEST_F(PluginProbeTest, MissingPluginIsABrokenCheck) {
  target_.plugin = "no-such-plugin";
  const CheckResult result = runProbe(checkFile("health"), context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(result.broken);
  EXPECT_THAT(result.detail, HasSubstr("'no-such-plugin'"));
}

// --- the rest -----------------------------------------------------------------------------------

TEST_F(ProbeTest, AlertmanagerIsNotPolled) {
  Trigger trigger;
  trigger.kind = TriggerKind::alertmanager;
  trigger.alertname = "OrdersDown";
  EXPECT_FALSE(isPolled(trigger.kind));
  EXPECT_TRUE(isPolled(TriggerKind::http));
  const CheckResult result = runProbe(trigger, context_);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.detail, HasSubstr("not polled"));
}

TEST_F(ProbeTest, ProbesOfDifferentTriggersRunConcurrently) {
  TestServer server;
  Listener listener;
  const std::vector<Trigger> triggers{httpTrigger(server.url("/status/200")),
                                      tcpTrigger(listener.port()), execTrigger({"/bin/true"})};
  std::vector<CheckResult> results(triggers.size() * 3);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = runProbe(triggers[i % triggers.size()], context_); });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const CheckResult& result : results) {
    EXPECT_TRUE(result.healthy) << result.detail;
  }
}

}  // namespace
}  // namespace lifeboat::watch
