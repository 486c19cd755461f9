#pragma once
// The agent's event sequence numbers: per agent, strictly increasing, never
// reused, persisted across restarts in <state dir>/seq (DESIGN.md). The
// coordinator drops duplicates by (agent, seq), so reusing a number after a
// restart would silently lose events.
//
// Numbers are reserved in blocks: the file holds the first number not yet
// reserved, and is rewritten (temp file + fsync + rename + fsync of the
// directory) only when a block runs out. The trade-off: one durable write per
// block instead of per event, and a restart skips the unused rest of the last
// block (at most blockSize - 1 numbers). Gaps are allowed; reuse is not.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::journal {

inline constexpr std::string_view kSequenceFileName = "seq";
inline constexpr std::uint64_t kDefaultSequenceBlock = 1000;

// Not thread-safe; one instance per agent process. Two processes sharing a
// state directory would hand out the same numbers: the agent's state
// directory must belong to one agent.
class SequenceStore {
 public:
  // Reads <stateDirectory>/seq, or starts at 1 if it does not exist. A file
  // that is not a decimal number is an Error (starting over would reuse
  // numbers). The directory must exist.
  static Result<SequenceStore> open(const std::filesystem::path& stateDirectory,
                                    std::uint64_t blockSize = kDefaultSequenceBlock);

  // The next number, reserving (durably) a new block first when needed.
  // On error nothing is handed out and a later call may try again.
  Result<std::uint64_t> next();

 private:
  SequenceStore(std::filesystem::path directory, std::uint64_t blockSize, std::uint64_t next);

  std::filesystem::path directory_;
  std::uint64_t blockSize_;
  std::uint64_t next_;   // the number next() hands out next
  std::uint64_t limit_;  // first number not covered by the file's reservation
};

// One SequenceStore shared by every writer of an agent process (the watch
// daemon and the runs it starts), so that the agent's numbers rise in the
// order events are written and a new run reserves no block of its own.
// next() may be called from any thread.
class SharedSequence {
 public:
  explicit SharedSequence(SequenceStore store) : store_(std::move(store)) {}
  Result<std::uint64_t> next() {
    std::lock_guard guard(mutex_);
    return store_.next();
  }

 private:
  std::mutex mutex_;
  SequenceStore store_;
};

}  // namespace lifeboat::journal
