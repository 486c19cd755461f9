#pragma once
// An exclusive flock(2) on a file, held until destruction or the process
// dies (the kernel drops it even on SIGKILL, so a crashed agent never leaves
// a stale lock). The file holds a line saying who holds it, for messages.
//
// Used for the run's failover lock (one run per service on this host; the
// etcd backend replaces it for several hosts) and for the run directory (an
// agent is executing this run: `resume` refuses, `cancel` may signal it).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "lifeboat/common/result.hpp"

namespace lifeboat::engine {

class FileLock {
 public:
  // Takes the lock without waiting. An Error when someone holds it; its
  // message includes `what` and the holder's line, e.g. "service orders is
  // locked by run 20261124T225610Z-k3f9 (pid 4242)".
  static Result<FileLock> acquire(const std::filesystem::path& file, std::string_view what,
                                  std::string_view holder);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // A fencing token: a number stored next to the lock file (<file>.token)
  // and increased by one each time the lock is acquired, so a later holder
  // always has a larger token than any earlier one.
  std::uint64_t fencingToken() const { return token_; }

 private:
  FileLock(int fd, std::uint64_t token) : fd_(fd), token_(token) {}
  int fd_ = -1;
  std::uint64_t token_ = 0;
};

// Whether someone holds the lock on `file` right now, and the holder's line.
std::optional<std::string> lockHolder(const std::filesystem::path& file);

}  // namespace lifeboat::engine
