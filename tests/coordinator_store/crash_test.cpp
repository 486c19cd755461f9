// The durability promise: what append() returned for was committed, and a
// writer killed at any moment leaves a consistent database behind.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "store_fixture.hpp"

namespace lifeboat::store {
namespace {

using testing::sqlValue;

// Reads what the child printed until it has acknowledged `wanted` batches
// (or EOF, or 30 s without output); returns the highest seq acknowledged and
// keeps any partial line in `pending`.
std::uint64_t readAcks(int fd, int wanted, std::string& pending, int& acks) {
  std::uint64_t highest = 0;
  char buffer[4096];
  while (acks < wanted) {
    pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&ready, 1, 30000) <= 0) {
      ADD_FAILURE() << "the writer printed nothing for 30 s";
      break;
    }
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) {
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(got));
    for (std::size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      highest = std::stoull(pending.substr(0, end));
      ++acks;
      pending.erase(0, end + 1);
    }
  }
  return highest;
}

// Starts the writer (with `extra` arguments), kills it after 40 acknowledged
// batches, and checks the database it left.
void killAndCheck(const std::vector<std::string>& extra) {
  test_support::TempDir dir;
  const auto file = dir.path() / "events.db";
  int pipeFds[2];
  ASSERT_EQ(pipe2(pipeFds, O_CLOEXEC), 0);
  std::vector<std::string> command{LIFEBOAT_STORE_WRITER, file.string()};
  command.insert(command.end(), extra.begin(), extra.end());
  const pid_t child = test_support::startBackground(
      command,
      {.input = test_support::kDevNull, .output = pipeFds[1], .error = test_support::kInherit});
  close(pipeFds[1]);
  ASSERT_GT(child, 0) << "cannot start " << LIFEBOAT_STORE_WRITER;

  std::string pending;
  int acks = 0;
  std::uint64_t acknowledged = readAcks(pipeFds[0], 40, pending, acks);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  // Acknowledgements printed before the kill but not read yet count too.
  const std::uint64_t late = readAcks(pipeFds[0], acks + 1000000, pending, acks);
  acknowledged = std::max(acknowledged, late);
  close(pipeFds[0]);
  ASSERT_GE(acks, 40);
  ASSERT_GE(acknowledged, 4000u);

  auto store = Store::open(file);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(sqlValue(file, "PRAGMA integrity_check"), "ok");
  const std::uint64_t stored = std::stoull(sqlValue(file, "SELECT count(*) FROM events"));
  EXPECT_GE(stored, acknowledged) << "an acknowledged batch was lost";
  EXPECT_EQ(stored % 100, 0u) << "a batch was stored in part";
  EXPECT_EQ(sqlValue(file, "SELECT max(seq) FROM events"), std::to_string(stored))
      << "seq 1..N without a hole";
  // The summaries were written in the same transactions as the events.
  auto agent = (*store)->agent("crash");
  ASSERT_TRUE(agent.ok() && agent->has_value());
  EXPECT_EQ((**agent).at("events").as_int64(), static_cast<std::int64_t>(stored));
  EXPECT_EQ((**agent).at("last_seq").as_uint64(), stored);
  EXPECT_EQ(sqlValue(file, "SELECT sum(events) FROM runs"), std::to_string(stored));
}

TEST(StoreCrash, AKilledWriterLosesNothingItAcknowledged) {
  killAndCheck({});
}

// The coordinator's way: checkpoints (PASSIVE, and RESTART of the WAL) on
// another thread of the same process, killed with it at any moment.
TEST(StoreCrash, AKilledWriterWithACheckpointerThreadLosesNothingItAcknowledged) {
  killAndCheck({"checkpointer"});
}

// The committer's way since the WAL syncer: commits without their own
// fsync, a batch acknowledged only from the syncer's callback, WAL restarts
// finished by the writer. (A kill leaves the page cache: what this shows is
// that acknowledgements follow commits and restarts lose nothing; the fsync
// itself is what wal_syncer_test checks the order of.)
TEST(StoreCrash, AKilledWriterWithDeferredSyncLosesNothingItAcknowledged) {
  killAndCheck({"syncer"});
}

}  // namespace
}  // namespace lifeboat::store
