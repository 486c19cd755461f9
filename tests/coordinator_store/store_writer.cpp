// Child for the crash test: appends batches of 100 step.output events of
// agent "crash" to the store at argv[1], forever, and after each commit
// prints the batch's last seq on its own line. Every seq it printed was
// committed; the test kills it with SIGKILL at some moment and checks that.
// With "checkpointer" as argv[2] it writes the way the coordinator's
// committer does: SQLite's automatic checkpoint off, a WalCheckpointer on
// its own thread told after each commit (RESTART from 64 pages on, so that
// the kill also meets WAL restarts). With "syncer" it writes as the
// committer does now: commits without their own fsync (CommitSync::Deferred),
// a WalSyncer whose callback prints the seq once the WAL is synced, and the
// checkpointer handing each WAL restart to the writer (writerRestarts).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/store/checkpointer.hpp"
#include "lifeboat/store/store.hpp"
#include "lifeboat/store/wal_syncer.hpp"

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[2] : "";
  const bool withSyncer = mode == "syncer";
  const bool withCheckpointer = mode == "checkpointer" || withSyncer;
  if (argc != 2 && !withCheckpointer) {
    std::fprintf(stderr, "usage: store_writer DATABASE [checkpointer|syncer]\n");
    return 2;
  }
  auto store = lifeboat::store::Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "store_writer: %s\n", store.error().message.c_str());
    return 1;
  }
  std::unique_ptr<lifeboat::store::WalCheckpointer> checkpointer;
  if (withCheckpointer) {
    auto started = lifeboat::store::WalCheckpointer::start(
        argv[1],
        [](const lifeboat::Error& error) {
          std::fprintf(stderr, "store_writer: checkpoint: %s\n", error.message.c_str());
        },
        {.pause = std::chrono::milliseconds(1),
         .restartFrames = 64,
         .writerRestarts = withSyncer,
         .restartLag = 64});
    auto off = (*store)->setWalAutoCheckpoint(0);
    if (!started || !off) {
      std::fprintf(stderr, "store_writer: %s\n",
                   (!started ? started.error() : off.error()).message.c_str());
      return 1;
    }
    checkpointer = std::move(*started);
  }
  std::unique_ptr<lifeboat::store::WalSyncer> syncer;
  if (withSyncer) {
    auto started = lifeboat::store::WalSyncer::start((*store)->walFile());
    if (!started) {
      std::fprintf(stderr, "store_writer: %s\n", started.error().message.c_str());
      return 1;
    }
    syncer = std::move(*started);
    if (auto deferred = (*store)->setCommitSync(lifeboat::store::CommitSync::Deferred); !deferred) {
      std::fprintf(stderr, "store_writer: %s\n", deferred.error().message.c_str());
      return 1;
    }
  }
  // Prints `seq` on its own line; false when stdout is gone.
  const auto print = [](std::uint64_t last) {
    const std::string line = std::to_string(last) + "\n";
    return write(STDOUT_FILENO, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  };
  const std::string text(200, 'x');
  std::uint64_t seq = 1;
  // Bounded so that a test that never kills it still ends (about a minute).
  for (int batch = 0; batch < 100000; ++batch) {
    std::vector<lifeboat::Event> events(100);
    for (lifeboat::Event& event : events) {
      event.agent = "crash";
      event.run = "run-" + std::to_string(batch / 50);
      event.seq = seq++;
      event.type = "step.output";
      event.step = "copy";
      event.data = {{"stream", "stdout"}, {"text", text}};
    }
    auto stored = (*store)->append(events);
    if (!stored || *stored != events.size()) {
      std::fprintf(stderr, "store_writer: %s\n", stored ? "short" : stored.error().message.c_str());
      return 1;
    }
    if (checkpointer) {
      checkpointer->committed();
      if (checkpointer->restartWanted()) {
        if (auto copied = (*store)->checkpoint(); !copied) {
          std::fprintf(stderr, "store_writer: %s\n", copied.error().message.c_str());
          return 1;
        }
        checkpointer->writerCheckpointed();
      }
    }
    if (syncer) {
      // Printed once the WAL is on disk: only then is the batch acknowledged.
      syncer->after([last = seq - 1, print](const std::optional<lifeboat::Error>& error) {
        if (error) {
          std::fprintf(stderr, "store_writer: %s\n", error->message.c_str());
          std::_Exit(1);
        }
        if (!print(last)) {
          std::_Exit(1);
        }
      });
    } else if (!print(seq - 1)) {
      return 1;
    }
  }
  return 0;
}
