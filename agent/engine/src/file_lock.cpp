#include "lifeboat/engine/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "lifeboat/common/read_file.hpp"

namespace lifeboat::engine {
namespace {

std::string readSmall(const std::filesystem::path& file) {
  FileRead read = readFile(file, {.maxBytes = 4096, .requireRegularFile = true});
  if (read.status != FileRead::Status::ok) {
    return {};
  }
  std::string text = std::move(read.contents);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

bool writeReplacing(int fd, std::string_view text) {
  if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
    return false;
  }
  return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// Reads, increments and durably stores the token next to the lock file; the
// caller holds the lock, so no one else writes it meanwhile.
std::uint64_t nextToken(const std::filesystem::path& lockFile) {
  const std::filesystem::path tokenFile = lockFile.string() + ".token";
  const std::string text = readSmall(tokenFile);
  std::uint64_t token = 0;
  std::from_chars(text.data(), text.data() + text.size(), token);
  ++token;
  const int fd = ::open(tokenFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string line = std::to_string(token) + "\n";
    if (writeReplacing(fd, line)) {
      ::fsync(fd);
    }
    ::close(fd);
  }
  return token;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::filesystem::path& file, std::string_view what,
                                   std::string_view holder) {
  std::error_code ignored;
  std::filesystem::create_directories(file.parent_path(), ignored);
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"cannot open lock file " + file.string() + ": " + std::strerror(errno),
                 "check that the state directory is writable"};
  }
  int result;
  do {
    result = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    const int saved = errno;
    ::close(fd);
    if (saved == EWOULDBLOCK) {
      const std::string current = readSmall(file);
      return Error{
          std::string(what) + " is locked" + (current.empty() ? std::string() : " by " + current),
          "wait for that run to finish, or stop it with `lifeboat cancel`"};
    }
    return Error{"cannot lock " + file.string() + ": " + std::strerror(saved), ""};
  }
  const std::string line = std::string(holder) + "\n";
  if (!writeReplacing(fd, line)) {
    ::close(fd);
    return Error{"cannot write lock file " + file.string() + ": " + std::strerror(errno),
                 "check free space on the state directory's file system"};
  }
  return FileLock(fd, nextToken(file));
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_), token_(other.token_) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.fd_;
    token_ = other.token_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the lock
  }
}

std::optional<std::string> lockHolder(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (!held) {
    return std::nullopt;
  }
  return readSmall(file);
}

}  // namespace lifeboat::engine
