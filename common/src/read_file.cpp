#include "lifeboat/common/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "lifeboat/common/unique_fd.hpp"

namespace lifeboat {

FileRead readFile(const std::filesystem::path& path, const ReadFileOptions& options) {
  FileRead result;
  auto fail = [&result](FileRead::Status status, int error) {
    result.status = status;
    result.error = error;
    result.contents.clear();
    return std::move(result);
  };
  const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (options.requireRegularFile ? O_NONBLOCK : 0);
  const UniqueFd file(::open(path.c_str(), flags));
  if (!file.valid()) {
    return fail(FileRead::Status::systemError, errno);
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    return fail(FileRead::Status::systemError, errno);
  }
  result.mode = status.st_mode;
  if (S_ISDIR(status.st_mode)) {
    return fail(FileRead::Status::directory, 0);
  }
  const bool regular = S_ISREG(status.st_mode);
  if (!regular && options.requireRegularFile) {
    return fail(FileRead::Status::notRegular, 0);
  }
  if (regular) {
    result.size = static_cast<std::uintmax_t>(status.st_size);
    if (*result.size > options.maxBytes) {
      return fail(FileRead::Status::tooLarge, 0);
    }
  }
  // Read one byte past the limit: enough to know it was exceeded, also for
  // special files without a size and files that grew since fstat.
  const std::size_t cap = options.maxBytes == SIZE_MAX ? SIZE_MAX : options.maxBytes + 1;
  std::string& text = result.contents;
  text.resize(regular ? std::min<std::size_t>(cap, static_cast<std::size_t>(status.st_size) + 1)
                      : std::min<std::size_t>(cap, 64 * 1024));
  std::size_t total = 0;
  while (total < cap) {
    if (total == text.size()) {
      text.resize(text.size() > cap / 2 ? cap : std::max<std::size_t>(text.size() * 2, 4096));
    }
    const ssize_t got = ::read(file.get(), text.data() + total, text.size() - total);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(FileRead::Status::systemError, errno);
    }
    if (got == 0) {
      break;
    }
    total += static_cast<std::size_t>(got);
  }
  if (total > options.maxBytes) {
    result.size.reset();
    return fail(FileRead::Status::tooLarge, 0);
  }
  text.resize(total);
  return result;
}

namespace {

std::string describeError(int error) {
  return std::system_category().message(error);
}

std::string_view fileTypeName(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  return "not a regular file";
}

}  // namespace

Result<std::string> readSecretFile(const std::string& path, std::size_t maxBytes,
                                   std::string_view reader) {
  const std::string what = "secret file:" + path;
  FileRead loaded = readFile(path, {.maxBytes = maxBytes, .requireRegularFile = true});
  switch (loaded.status) {
    case FileRead::Status::ok:
      break;
    case FileRead::Status::systemError:
      return Error{what + ": " + describeError(loaded.error),
                   "check the path and that " + std::string(reader) + " may read the file"};
    case FileRead::Status::directory:
    case FileRead::Status::notRegular:
      return Error{what + " is " + std::string(fileTypeName(loaded.mode)) + ", not a regular file",
                   "a secret file holds the secret itself"};
    case FileRead::Status::tooLarge:
      return Error{what + " is larger than " + std::to_string(maxBytes) + " bytes",
                   "a secret file holds only the secret itself"};
  }
  std::string& contents = loaded.contents;
  if (contents.ends_with("\r\n")) {
    contents.resize(contents.size() - 2);
  } else if (contents.ends_with('\n')) {
    contents.pop_back();
  }
  return std::move(contents);
}

}  // namespace lifeboat
