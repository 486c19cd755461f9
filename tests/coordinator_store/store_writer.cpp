// Child for the crash test: appends batches of 100 step.output events of
// agent "crash" to the store at argv[1], forever, and after each commit
// prints the batch's last seq on its own line. Every seq it printed was
// committed; the test kills it with SIGKILL at some moment and checks that.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lifeboat/store/store.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_writer DATABASE\n");
    return 2;
  }
  auto store = lifeboat::store::Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "store_writer: %s\n", store.error().message.c_str());
    return 1;
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
    const std::string line = std::to_string(seq - 1) + "\n";
    if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return 1;
    }
  }
  return 0;
}
