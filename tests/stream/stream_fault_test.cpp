// The fault test (100,000 events or more): 200,000 events streamed
// by the agent's real spool and client (lifeboat-stream-driver) to the real
// coordinator, which is killed with SIGKILL and restarted five times
// meanwhile; the agent itself is killed once and restarted. The store must
// end with every event exactly once, in order (stored order = sequence
// order).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "coordinator_process.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// 100,000 was enough until the coordinator's write path got faster: then the
// driver could finish before the fifth crash on a quiet machine.
constexpr std::uint64_t kEvents = 200'000;
const std::string kAgent = "fault-agent";

class Driver {
 public:
  Driver(const fs::path& directory, const CoordinatorProcess& coordinator)
      : directory_(directory),
        argv_{(binaryDir() / "bin" / "lifeboat-stream-driver").string(),
              "--state-dir",
              (directory / "state").string(),
              "--agent",
              kAgent,
              "--count",
              std::to_string(kEvents),
              "--url",
              coordinator.url(),
              "--ca",
              coordinator.tls("ca.pem").string(),
              "--cert",
              coordinator.tls("agent-" + kAgent + ".pem").string(),
              "--key",
              coordinator.tls("agent-" + kAgent + "-key.pem").string(),
              "--timeout",
              "240"} {}
  ~Driver() { kill(); }

  void start() {
    const int out = ::open((directory_ / "driver.out").c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int err = ::open((directory_ / "driver.err").c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = startBackground(argv_, ChildStreams{kDevNull, out, err});
    ::close(out);
    ::close(err);
    ASSERT_GT(pid_, 0);
  }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // The exit code, or -1 when it was still running at `deadline`.
  int wait(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  bool done() const {
    return readText(directory_ / "driver.out").find("acked " + std::to_string(kEvents) + "\n") !=
           std::string::npos;
  }
  std::string output() const {
    return fileTail(directory_ / "driver.out") + fileTail(directory_ / "driver.err");
  }

 private:
  fs::path directory_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
};

TEST(StreamFault, EveryEventExactlyOnceThroughCoordinatorCrashesAndAnAgentRestart) {
  ASSERT_TRUE(fs::exists(coordinatorBinary())) << coordinatorBinary() << " is not built";
  TempDir temp;
  fs::create_directories(temp.path() / "coordinator");
  CoordinatorProcess coordinator(temp.path() / "coordinator", {kAgent});
  coordinator.start();
  Driver driver(temp.path(), coordinator);
  driver.start();

  // Five coordinator crashes while events flow, the agent's crash between the
  // second and the third. Each crash must land before the driver is done,
  // or the test proves nothing.
  int coordinatorCrashes = 0;
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(round == 0 ? 600ms : 400ms);
    ASSERT_FALSE(driver.done()) << "the driver finished before crash " << round + 1
                                << "; the test needs more events or earlier crashes";
    coordinator.crash();
    ++coordinatorCrashes;
    if (round == 1) {
      driver.kill();
      driver.start();
    }
    std::this_thread::sleep_for(150ms);  // agents find nobody listening for a while
    coordinator.start();
  }
  EXPECT_EQ(coordinatorCrashes, 5);

  const int exitCode = driver.wait(std::chrono::steady_clock::now() + 240s);
  ASSERT_EQ(exitCode, 0) << driver.output() << coordinator.log();
  ASSERT_TRUE(driver.done()) << driver.output();
  coordinator.stop();

  const std::vector<boost::json::object> events = coordinator.storedEvents(kAgent);
  ASSERT_EQ(events.size(), kEvents) << coordinator.log();
  std::vector<int> seen(kEvents, 0);
  std::uint64_t previousSeq = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const boost::json::object& event = events[i];
    ASSERT_EQ(event.at("type").as_string(), "driver.event");
    const std::uint64_t n = event.at("data").as_object().at("n").to_number<std::uint64_t>();
    ASSERT_LT(n, kEvents);
    ++seen[n];
    const std::uint64_t seq = event.at("seq").to_number<std::uint64_t>();
    ASSERT_GT(seq, previousSeq) << "stored out of order at position " << i;
    previousSeq = seq;
  }
  for (std::uint64_t n = 0; n < kEvents; ++n) {
    ASSERT_EQ(seen[n], 1) << "event n=" << n << " stored " << seen[n] << " times";
  }
}

}  // namespace
}  // namespace lifeboat::test_support
