#include "lifeboat/journal/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <utility>

#include "file_io.hpp"

namespace lifeboat::journal {

namespace {

// The length of the file once a final line without its newline is removed.
Result<std::uint64_t> wholeLinesLength(int fd, const std::filesystem::path& path,
                                       std::uint64_t size) {
  std::uint64_t end = size;
  char buffer[65536];
  while (end > 0) {
    const std::uint64_t chunk = std::min<std::uint64_t>(sizeof buffer, end);
    const std::uint64_t start = end - chunk;
    const ssize_t got = ::pread(fd, buffer, chunk, static_cast<off_t>(start));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got != static_cast<ssize_t>(chunk)) {
      return detail::systemError("cannot read the end of journal", path);
    }
    for (std::uint64_t i = chunk; i > 0; --i) {
      if (buffer[i - 1] == '\n') {
        return start + i;
      }
    }
    end = start;
  }
  return std::uint64_t{0};
}

}  // namespace

Journal::Journal(int fd, std::filesystem::path path, std::uint64_t discardedTornBytes)
    : fd_(fd), path_(std::move(path)), discardedTornBytes_(discardedTornBytes) {}

Journal::Journal(Journal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      discardedTornBytes_(other.discardedTornBytes_),
      broken_(other.broken_),
      unsynced_(other.unsynced_) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    discardedTornBytes_ = other.discardedTornBytes_;
    broken_ = other.broken_;
    unsynced_ = other.unsynced_;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<Journal> Journal::open(const std::filesystem::path& file) {
  constexpr int kFlags = O_RDWR | O_APPEND | O_CLOEXEC;
  int fd = ::open(file.c_str(), kFlags | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    // A new file: its directory entry is durable only once the directory is.
    std::string failure = detail::fsyncDirectory(file.parent_path());
    if (!failure.empty()) {
      ::close(fd);
      return Error{failure, "check the run directory's file system"};
    }
    return Journal(fd, file, 0);
  }
  if (errno != EEXIST) {
    return detail::systemError("cannot create journal", file,
                               "check that the run directory exists and is writable");
  }
  fd = ::open(file.c_str(), kFlags);
  if (fd < 0) {
    return detail::systemError("cannot open journal", file, "check the file's permissions");
  }
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    Error error = detail::systemError("cannot stat journal", file);
    ::close(fd);
    return error;
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  Result<std::uint64_t> keep = wholeLinesLength(fd, file, size);
  if (!keep) {
    ::close(fd);
    return keep.error();
  }
  if (*keep != size) {
    // Cut the torn line off: appending after it would glue the next event to
    // the fragment and turn an acceptable torn tail into a corrupt line.
    if (::ftruncate(fd, static_cast<off_t>(*keep)) != 0 || ::fsync(fd) != 0) {
      Error error = detail::systemError("cannot remove the torn last line of journal", file);
      ::close(fd);
      return error;
    }
  }
  return Journal(fd, file, size - *keep);
}

Result<Done> Journal::append(const Event& event, Sync sync) {
  if (broken_ || fd_ < 0) {
    return Error{"journal " + path_.string() + " is unusable after an earlier failed append",
                 "reopen the journal (that removes a partial last line) and retry"};
  }
  std::string line = encodeEvent(event);
  if (line.size() > kMaxEventLineBytes) {
    return Error{"event " + event.type + " (seq " + std::to_string(event.seq) + ") is " +
                     std::to_string(line.size()) + " bytes, over the journal's line limit of " +
                     std::to_string(kMaxEventLineBytes),
                 "put large output in a file in the run directory and refer to it"};
  }
  line.push_back('\n');
  // One write(2): with O_APPEND the line lands whole at the end of the file,
  // or (disk full, I/O error) the journal is marked broken.
  ssize_t written;
  do {
    written = ::write(fd_, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written != static_cast<ssize_t>(line.size())) {
    broken_ = true;
    if (written >= 0) {
      errno = ENOSPC;  // a short write to a regular file: the disk is full
    }
    return detail::systemError("cannot append to journal", path_,
                               "check free space on the state directory's file system");
  }
  if (sync == Sync::later) {
    unsynced_ = true;
    return Done{};
  }
  return this->sync();
}

Result<Done> Journal::sync() {
  if (broken_ || fd_ < 0) {
    return Error{"journal " + path_.string() + " is unusable after an earlier failed append",
                 "reopen the journal (that removes a partial last line) and retry"};
  }
  if (::fsync(fd_) != 0) {
    // After a failed fsync the kernel may have dropped the dirty pages: we no
    // longer know what is on disk, so no further appends.
    broken_ = true;
    return detail::systemError("cannot fsync journal", path_,
                               "check the state directory's disk and file system");
  }
  unsynced_ = false;
  return Done{};
}

Result<bool> scanJournal(const std::filesystem::path& file,
                         const std::function<Result<Done>(Event&&)>& visit) {
  // Line by line, so that a long journal is never in memory whole.
  std::ifstream in(file, std::ios::binary);
  std::error_code ignored;
  if (!in || std::filesystem::is_directory(file, ignored)) {
    return Error{"cannot read journal: " + file.string() + ": " +
                     (std::filesystem::exists(file, ignored) ? "not a readable file"
                                                             : "No such file or directory"),
                 "check the run id and the state directory"};
  }
  std::string line;
  std::size_t lineNumber = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    if (in.eof()) {
      return true;  // the last line has no newline: a torn tail
    }
    Result<Event> event = decodeEvent(line);
    if (!event) {
      return Error{file.string() + ":" + std::to_string(lineNumber) + ": " + event.error().message,
                   "the journal is damaged; restore it from a backup or the coordinator"};
    }
    if (Result<Done> visited = visit(std::move(*event)); !visited) {
      return visited.error();
    }
  }
  if (in.bad()) {
    return Error{"cannot read journal " + file.string() + ": read error",
                 "check the state directory's disk"};
  }
  return false;
}

Result<JournalContents> readJournal(const std::filesystem::path& file) {
  JournalContents contents;
  Result<bool> torn = scanJournal(file, [&contents](Event&& event) -> Result<Done> {
    contents.events.push_back(std::move(event));
    return Done{};
  });
  if (!torn) {
    return torn.error();
  }
  contents.tornTail = *torn;
  return contents;
}

}  // namespace lifeboat::journal
