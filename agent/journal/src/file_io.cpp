#include "file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lifeboat::journal::detail {

Error systemError(std::string_view what, const std::filesystem::path& path, std::string hint) {
  const int error = errno;
  return Error{std::string(what) + " " + path.string() + ": " + std::strerror(error),
               std::move(hint)};
}

std::string fsyncDirectory(const std::filesystem::path& directory) {
  const std::filesystem::path target = directory.empty() ? "." : directory;
  const int fd = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return systemError("cannot open directory", target).message;
  }
  std::string message;
  if (::fsync(fd) != 0) {
    message = systemError("cannot fsync directory", target).message;
  }
  ::close(fd);
  return message;
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

Result<std::string> readWholeFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return systemError("cannot open", path);
  }
  std::string contents;
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      Error error = systemError("cannot read", path);
      ::close(fd);
      return error;
    }
    if (got == 0) {
      break;
    }
    contents.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return contents;
}

}  // namespace lifeboat::journal::detail
