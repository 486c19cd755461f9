#include "lifeboat/journal/sequence_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <limits>
#include <string>

#include "file_io.hpp"

namespace lifeboat::journal {

namespace {

// Replaces <directory>/seq with `value` so that a crash leaves either the old
// or the new number, never a partial file.
Result<std::uint64_t> persist(const std::filesystem::path& directory, std::uint64_t value) {
  const std::filesystem::path file = directory / kSequenceFileName;
  const std::filesystem::path temporary = directory / (std::string(kSequenceFileName) + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return detail::systemError("cannot create", temporary,
                               "check that the state directory is writable");
  }
  const std::string text = std::to_string(value) + "\n";
  if (!detail::writeAll(fd, text) || ::fsync(fd) != 0) {
    Error error = detail::systemError("cannot write", temporary,
                                      "check free space on the state directory's file system");
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) {
    return detail::systemError("cannot close", temporary);
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    return detail::systemError("cannot rename " + temporary.string() + " to", file);
  }
  std::string failure = detail::fsyncDirectory(directory);
  if (!failure.empty()) {
    return Error{failure, "check the state directory's file system"};
  }
  return value;
}

// The number stored in <directory>/seq: 1 when there is no file yet.
Result<std::uint64_t> readStored(const std::filesystem::path& directory) {
  const std::filesystem::path file = directory / kSequenceFileName;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::uint64_t{1};
  }
  Result<std::string> text = detail::readWholeFile(file);
  if (!text) {
    return text.error();
  }
  std::string_view digits = *text;
  if (!digits.empty() && digits.back() == '\n') {
    digits.remove_suffix(1);
  }
  std::uint64_t next = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), next);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || next == 0) {
    return Error{"sequence file " + file.string() + " does not hold a positive decimal number",
                 "restore it, or write a number above the highest seq this agent ever sent; "
                 "starting over would reuse sequence numbers"};
  }
  return next;
}

// Holds an exclusive flock on <directory>/seq.lock, so that two agent
// processes sharing a state directory (two runs at once) never reserve the
// same block.
class ReservationLock {
 public:
  explicit ReservationLock(const std::filesystem::path& directory)
      : fd_(::open((directory / "seq.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) {
      int result;
      do {
        result = ::flock(fd_, LOCK_EX);
      } while (result != 0 && errno == EINTR);
      locked_ = result == 0;
    }
  }
  ReservationLock(const ReservationLock&) = delete;
  ReservationLock& operator=(const ReservationLock&) = delete;
  ~ReservationLock() {
    if (fd_ >= 0) {
      ::close(fd_);  // releases the lock
    }
  }
  bool locked() const { return locked_; }

 private:
  int fd_;
  bool locked_ = false;
};

}  // namespace

SequenceStore::SequenceStore(std::filesystem::path directory, std::uint64_t blockSize,
                             std::uint64_t next)
    : directory_(std::move(directory)), blockSize_(blockSize), next_(next), limit_(next) {}

Result<SequenceStore> SequenceStore::open(const std::filesystem::path& stateDirectory,
                                          std::uint64_t blockSize) {
  if (blockSize == 0) {
    return Error{"sequence block size must be at least 1", ""};
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(stateDirectory, ec)) {
    return Error{"state directory " + stateDirectory.string() + " does not exist",
                 "create it, or pass --state-dir"};
  }
  Result<std::uint64_t> next = readStored(stateDirectory);
  if (!next) {
    return next.error();
  }
  return SequenceStore(stateDirectory, blockSize, *next);
}

Result<std::uint64_t> SequenceStore::next() {
  if (next_ == limit_) {
    if (limit_ > std::numeric_limits<std::uint64_t>::max() - blockSize_) {
      return Error{"event sequence numbers are exhausted in " + directory_.string(), ""};
    }
    ReservationLock lock(directory_);
    if (!lock.locked()) {
      return detail::systemError("cannot lock", directory_ / "seq.lock",
                                 "check that the state directory is writable");
    }
    // Another process may have reserved blocks since we last looked.
    Result<std::uint64_t> stored = readStored(directory_);
    if (!stored) {
      return stored.error();
    }
    next_ = std::max(next_, *stored);
    if (next_ > std::numeric_limits<std::uint64_t>::max() - blockSize_) {
      return Error{"event sequence numbers are exhausted in " + directory_.string(), ""};
    }
    Result<std::uint64_t> reserved = persist(directory_, next_ + blockSize_);
    if (!reserved) {
      return reserved.error();
    }
    limit_ = *reserved;
  }
  return next_++;
}

}  // namespace lifeboat::journal
