// Child for the crash test: appends batches of 100 step.output events of
// agent "crash" to the store at argv[1], forever, and after each commit
// prints the batch's last seq on its own line. Every seq it printed was
// committed; the test kills it with SIGKILL at some moment and checks that.
// With "checkpointer" as argv[2] it writes the way the coordinator's
// committer does: SQLite's automatic checkpoint off, a WalCheckpointer on
// its own thread told after each commit (RESTART from 64 pages on, so that
// the kill also meets WAL restarts).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lifeboat/store/checkpointer.hpp"
#include "lifeboat/store/store.hpp"

int main(int argc, char** argv) {
  const bool withCheckpointer = argc == 3 && std::string(argv[2]) == "checkpointer";
  if (argc != 2 && !withCheckpointer) {
    std::fprintf(stderr, "usage: store_writer DATABASE [checkpointer]\n");
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
        {.pause = std::chrono::milliseconds(1), .restartFrames = 64});
    auto off = (*store)->setWalAutoCheckpoint(0);
    if (!started || !off) {
      std::fprintf(stderr, "store_writer: %s\n",
                   (!started ? started.error() : off.error()).message.c_str());
      return 1;
    }
    checkpointer = std::move(*started);
  }
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
    }
    const std::string line = std::to_string(seq - 1) + "\n";
    if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return 1;
    }
  }
  return 0;
}
