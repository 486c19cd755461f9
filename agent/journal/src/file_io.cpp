#include "file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lifeboat/common/read_file.hpp"

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
  FileRead loaded = readFile(path, {.maxBytes = SIZE_MAX});
  switch (loaded.status) {
    case FileRead::Status::ok:
      return std::move(loaded.contents);
    case FileRead::Status::directory:
      errno = EISDIR;
      break;
    case FileRead::Status::systemError:
    case FileRead::Status::notRegular:
    case FileRead::Status::tooLarge:
      errno = loaded.error;
      break;
  }
  return systemError("cannot read", path);
}

}  // namespace lifeboat::journal::detail
