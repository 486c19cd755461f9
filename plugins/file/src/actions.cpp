#include "actions.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

#include "confined_root.hpp"
#include "lifeboat/common/sha256.hpp"
#include "lifeboat/common/text.hpp"
#include "lifeboat/common/unique_fd.hpp"

namespace lifeboat::file_plugin {

namespace {

// Largest file `check` reads to hash it or look for `contains`.
constexpr off_t kMaxCheckedFileBytes = 64 * 1024 * 1024;

std::string errnoText(int error) {
  return std::strerror(error);
}

Result<std::unique_ptr<UniqueFd>> openDirectory(const std::filesystem::path& directory) {
  auto fd = std::make_unique<UniqueFd>(
      ::open(directory.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd->valid()) {
    return Error{"cannot open directory " + directory.string() + ": " + errnoText(errno), ""};
  }
  return fd;
}

// Makes a rename or unlink in `directory` durable.
std::optional<Error> syncDirectory(const UniqueFd& directory, const std::filesystem::path& path) {
  if (::fsync(directory.get()) != 0) {
    return Error{"cannot fsync directory " + path.string() + ": " + errnoText(errno), ""};
  }
  return std::nullopt;
}

Result<mode_t> parseMode(std::string_view text) {
  const Error invalid{
      "param 'mode' is " + inQuotes(text) + ", not an octal permission such as 0644",
      "write mode as three or four octal digits in a string: \"0600\""};
  if (text.size() < 3 || text.size() > 4) {
    return invalid;
  }
  mode_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return invalid;
    }
    mode = mode * 8 + static_cast<mode_t>(c - '0');
  }
  return mode;
}

Result<ConfinedRoot> rootOf(const Request& request) {
  return ConfinedRoot::open(request.targetString("root").value_or(""));
}

std::string temporaryName() {
  std::random_device device;
  return ".lifeboat-write-" + std::to_string(::getpid()) + "-" + std::to_string(device());
}

// rename(2) that fails with EEXIST instead of replacing `to`. Falls back to
// link+unlink (files) or a check before rename (directories) on file systems
// without RENAME_NOREPLACE.
int renameNoReplace(int fromDirectory, const char* from, int toDirectory, const char* to) {
  if (::renameat2(fromDirectory, from, toDirectory, to, RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    return -1;
  }
  struct stat status {};
  if (::fstatat(toDirectory, to, &status, AT_SYMLINK_NOFOLLOW) == 0) {
    errno = EEXIST;
    return -1;
  }
  if (::fstatat(fromDirectory, from, &status, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISDIR(status.st_mode)) {
    if (::linkat(fromDirectory, from, toDirectory, to, 0) != 0) {
      return -1;
    }
    return ::unlinkat(fromDirectory, from, 0);
  }
  return ::renameat(fromDirectory, from, toDirectory, to);
}

std::optional<Error> writeAll(int fd, std::string_view data, const std::string& where) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error{"cannot write " + where + ": " + errnoText(errno),
                   "check free space and permissions under root"};
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return std::nullopt;
}

Error pathError(const Location& location, std::string_view doing, int error,
                std::string hint = {}) {
  return Error{"cannot " + std::string(doing) + " " + inQuotes(location.relative) + " (" +
                   location.full().string() + "): " + errnoText(error),
               std::move(hint)};
}

}  // namespace

Result<ActionResult> writeFile(const Request& request, Reporter& reporter) {
  auto root = rootOf(request);
  if (!root) {
    return root.error();
  }
  const std::string content = request.stringParam("content").value_or("");
  const bool overwrite = request.boolParam("overwrite").value_or(true);
  auto mode = parseMode(request.stringParam("mode").value_or("0644"));
  if (!mode) {
    return mode.error();
  }
  auto location = root->locate("path", request.stringParam("path").value_or(""), true);
  if (!location) {
    return location.error();
  }
  auto directory = openDirectory(location->parent);
  if (!directory) {
    return directory.error();
  }
  const int dir = (*directory)->get();

  const std::string temporary = temporaryName();
  const std::string where = (location->parent / temporary).string();
  UniqueFd file(
      ::openat(dir, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file.valid()) {
    return Error{"cannot create " + where + ": " + errnoText(errno),
                 "check that root is writable by the agent's user"};
  }
  auto fail = [&](Error error) -> Result<ActionResult> {
    ::unlinkat(dir, temporary.c_str(), 0);
    return error;
  };
  if (::fchmod(file.get(), *mode) != 0) {
    return fail(Error{"cannot set mode of " + where + ": " + errnoText(errno), ""});
  }
  if (auto error = writeAll(file.get(), content, where)) {
    return fail(*error);
  }
  if (::fsync(file.get()) != 0 || file.close() != 0) {
    return fail(Error{"cannot flush " + where + ": " + errnoText(errno), ""});
  }
  const int renamed = overwrite
                          ? ::renameat(dir, temporary.c_str(), dir, location->name.c_str())
                          : renameNoReplace(dir, temporary.c_str(), dir, location->name.c_str());
  if (renamed != 0) {
    const int error = errno;
    if (error == EEXIST) {
      return fail(Error{inQuotes(location->relative) + " already exists and overwrite is false",
                        "set overwrite = true to replace it, or remove it first"});
    }
    return fail(pathError(*location, "replace", error));
  }
  if (auto error = syncDirectory(**directory, location->parent)) {
    return *error;
  }
  auto digest = lifeboat::sha256Hex(content);
  if (!digest) {
    return digest.error();
  }
  reporter.progress("wrote " + std::to_string(content.size()) + " bytes to " +
                    location->full().string());
  ActionResult result;
  result.outputs["path"] = location->full().string();
  result.outputs["bytes"] = static_cast<std::int64_t>(content.size());
  result.outputs["sha256"] = *digest;
  return result;
}

Result<ActionResult> moveFile(const Request& request, Reporter& reporter) {
  auto root = rootOf(request);
  if (!root) {
    return root.error();
  }
  const bool overwrite = request.boolParam("overwrite").value_or(false);
  auto from = root->locate("from", request.stringParam("from").value_or(""), false);
  if (!from) {
    return from.error();
  }
  auto to = root->locate("to", request.stringParam("to").value_or(""), true);
  if (!to) {
    return to.error();
  }
  if (from->full() == to->full()) {
    return Error{"from and to both name " + to->full().string(),
                 "a move needs two different paths"};
  }
  struct stat status {};
  if (::stat(from->parent.c_str(), &status) != 0 || ::lstat(from->full().c_str(), &status) != 0) {
    return Error{"expected " + inQuotes(from->relative) + " to exist in " + root->path().string() +
                     ", but it does not",
                 "check the path, and whether the step that creates it ran"};
  }
  auto fromDirectory = openDirectory(from->parent);
  if (!fromDirectory) {
    return fromDirectory.error();
  }
  auto toDirectory = openDirectory(to->parent);
  if (!toDirectory) {
    return toDirectory.error();
  }
  const int fromDir = (*fromDirectory)->get();
  const int toDir = (*toDirectory)->get();
  const int renamed = overwrite
                          ? ::renameat(fromDir, from->name.c_str(), toDir, to->name.c_str())
                          : renameNoReplace(fromDir, from->name.c_str(), toDir, to->name.c_str());
  if (renamed != 0) {
    const int error = errno;
    if (error == EEXIST) {
      return Error{inQuotes(to->relative) + " already exists and overwrite is false",
                   "set overwrite = true to replace it, or remove it first"};
    }
    return pathError(*from, "move", error, "check that " + to->full().string() + " is writable");
  }
  if (auto error = syncDirectory(**toDirectory, to->parent)) {
    return *error;
  }
  if (from->parent != to->parent) {
    if (auto error = syncDirectory(**fromDirectory, from->parent)) {
      return *error;
    }
  }
  reporter.progress("moved " + from->full().string() + " to " + to->full().string());
  ActionResult result;
  result.outputs["path"] = to->full().string();
  return result;
}

Result<ActionResult> checkFile(const Request& request, Reporter& /*reporter*/) {
  auto root = rootOf(request);
  if (!root) {
    return root.error();
  }
  const bool expectExists = request.boolParam("exists").value_or(true);
  const std::optional<std::string> contains = request.stringParam("contains");
  if (contains && !expectExists) {
    return Error{"param 'contains' needs exists = true",
                 "drop contains, or expect the path to exist"};
  }
  auto location = root->locate("path", request.stringParam("path").value_or(""), false);
  if (!location) {
    return location.error();
  }
  auto resolved = root->follow(*location);
  if (!resolved) {
    return resolved.error();
  }
  const std::string shown = inQuotes(location->relative) + " in " + root->path().string();

  UniqueFd file(::open(resolved->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  struct stat status {};
  bool exists = file.valid();
  if (!exists && errno != ENOENT && errno != ENOTDIR) {
    // Present but unreadable still counts as present when only existence matters.
    if (::stat(resolved->c_str(), &status) != 0) {
      return pathError(*location, "look at", errno);
    }
    if (contains) {
      return pathError(*location, "read", EACCES, "check the file's permissions");
    }
    exists = true;
  }
  if (exists != expectExists) {
    return Error{expectExists ? "expected " + shown + " to exist, but it does not"
                              : "expected " + shown + " not to exist, but it does",
                 expectExists ? "check the path, and whether the step that creates it ran"
                              : "check whether the step that removes it ran"};
  }
  ActionResult result;
  result.outputs["path"] = resolved->string();
  result.outputs["exists"] = exists;
  if (!file.valid()) {
    return result;
  }
  if (::fstat(file.get(), &status) != 0) {
    return pathError(*location, "look at", errno);
  }
  if (!S_ISREG(status.st_mode)) {
    if (contains) {
      return Error{"expected " + shown + " to be a file containing " + inQuotes(*contains) +
                       ", but it is not a regular file",
                   "contains checks the text of a regular file"};
    }
    return result;
  }
  if (status.st_size > kMaxCheckedFileBytes) {
    return Error{shown + " is larger than 64 MiB, too large to check",
                 "the file plugin checks small state files"};
  }
  std::string data;
  data.resize(static_cast<std::size_t>(status.st_size));
  std::size_t filled = 0;
  while (filled < data.size()) {
    const ssize_t count = ::read(file.get(), data.data() + filled, data.size() - filled);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      return pathError(*location, "read", errno);
    }
    if (count == 0) {
      data.resize(filled);  // the file shrank while it was read
      break;
    }
    filled += static_cast<std::size_t>(count);
  }
  auto digest = lifeboat::sha256Hex(data);
  if (!digest) {
    return digest.error();
  }
  result.outputs["bytes"] = static_cast<std::int64_t>(data.size());
  result.outputs["sha256"] = *digest;
  if (contains && data.find(*contains) == std::string::npos) {
    return Error{"expected " + shown + " to contain " + inQuotes(*contains) + ", but it does not",
                 "the file holds " + std::to_string(data.size()) + " bytes, sha256 " + *digest};
  }
  return result;
}

Result<ActionResult> removeFile(const Request& request, Reporter& reporter) {
  auto root = rootOf(request);
  if (!root) {
    return root.error();
  }
  const bool missingOk = request.boolParam("missing_ok").value_or(true);
  auto location = root->locate("path", request.stringParam("path").value_or(""), false);
  if (!location) {
    return location.error();
  }
  ActionResult result;
  struct stat status {};
  if (::lstat(location->full().c_str(), &status) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) {
      return pathError(*location, "look at", errno);
    }
    if (!missingOk) {
      return Error{"expected " + inQuotes(location->relative) + " to exist in " +
                       root->path().string() + ", but it does not",
                   "set missing_ok = true if a missing path is fine"};
    }
    result.outputs["removed"] = false;
    return result;
  }
  auto directory = openDirectory(location->parent);
  if (!directory) {
    return directory.error();
  }
  const int flags = S_ISDIR(status.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat((*directory)->get(), location->name.c_str(), flags) != 0) {
    const int error = errno;
    if (error == ENOTEMPTY || error == EEXIST) {
      return Error{inQuotes(location->relative) + " is a directory that is not empty",
                   "the file plugin removes files, links and empty directories only"};
    }
    if (error == ENOENT && missingOk) {
      result.outputs["removed"] = false;
      return result;
    }
    return pathError(*location, "remove", error);
  }
  if (auto error = syncDirectory(**directory, location->parent)) {
    return *error;
  }
  reporter.progress("removed " + location->full().string());
  result.outputs["removed"] = true;
  return result;
}

}  // namespace lifeboat::file_plugin
