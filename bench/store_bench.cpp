// How fast the coordinator's store commits events: batches of 1,000 events
// (the most one stream message may carry), each in its own transaction with
// synchronous=FULL, into a fresh database under $TMPDIR (or the folder given
// as the first argument). Prints events/s and the time per batch.
//
//   store_bench [DIR] [BATCHES]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lifeboat/store/store.hpp"

namespace {

std::vector<lifeboat::Event> makeBatch(std::uint64_t firstSeq, lifeboat::Timestamp at) {
  std::vector<lifeboat::Event> batch;
  batch.reserve(1000);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    lifeboat::Event event;
    event.agent = "db-eu-1";
    event.run = "20261124T225610Z-k3f9";
    event.seq = firstSeq + i;
    event.time = at + std::chrono::milliseconds(i);
    event.type = "step.output";
    event.step = "promote";
    event.data = {{"stream", "stdout"},
                  {"text", "pg_ctl: server promoting; waiting for the standby to leave recovery"}};
    batch.push_back(std::move(event));
  }
  return batch;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path base = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path();
  const int batches = argc > 2 ? std::atoi(argv[2]) : 200;
  std::string pattern = (base / "store-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "store_bench: cannot make a folder under %s\n", base.c_str());
    return 1;
  }
  const fs::path dir = pattern;
  int status = 0;
  {
    auto store = lifeboat::store::Store::open(dir / "events.db");
    if (!store) {
      std::fprintf(stderr, "store_bench: %s\n", store.error().message.c_str());
      fs::remove_all(dir);
      return 1;
    }
    // The run's row and the agent's exist before the timing, as in a live run.
    const auto start =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    std::vector<double> millis;
    std::uint64_t seq = 1;
    for (int b = 0; b < batches && status == 0; ++b) {
      const std::vector<lifeboat::Event> batch = makeBatch(seq, start);
      seq += batch.size();
      const auto before = std::chrono::steady_clock::now();
      auto stored = (*store)->append(batch);
      const auto after = std::chrono::steady_clock::now();
      if (!stored || *stored != batch.size()) {
        std::fprintf(stderr, "store_bench: append failed: %s\n",
                     stored ? "not every event stored" : stored.error().message.c_str());
        status = 1;
      }
      millis.push_back(std::chrono::duration<double, std::milli>(after - before).count());
    }
    if (status == 0) {
      double total = 0;
      for (double m : millis) {
        total += m;
      }
      std::sort(millis.begin(), millis.end());
      const double events = static_cast<double>(batches) * 1000.0;
      std::printf("store_bench: %d batches of 1000 events, synchronous=FULL, WAL, %s\n", batches,
                  dir.c_str());
      std::printf(
          "  %.0f events/s; per 1000-event batch: median %.2f ms, p99 %.2f ms, max %.2f ms\n",
          events / (total / 1000.0), millis[millis.size() / 2],
          millis[std::min(millis.size() - 1, millis.size() * 99 / 100)], millis.back());
    }
  }
  fs::remove_all(dir);
  return status;
}
