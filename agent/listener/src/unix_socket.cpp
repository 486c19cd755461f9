#include "unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lifeboat::listener::detail {
namespace {

std::string describeErrno(int number) {
  return std::strerror(number);
}

// True when a process accepts connections on `address` (or its backlog is
// full, which also means somebody listens).
bool someoneListens(const sockaddr_un& address) {
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) {
    return false;
  }
  const int connected =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = errno;
  ::close(probe);
  return connected == 0 || error == EAGAIN || error == EINPROGRESS;
}

Error socketError(const std::string& path, const std::string& what, int number) {
  return Error{"cannot create the unix socket " + path + ": " + what + describeErrno(number),
               "check that its directory exists and that the agent may write to it"};
}

}  // namespace

Result<UnixListening> listenUnix(const std::filesystem::path& path) {
  const std::string text = path.string();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (text.empty() || text.size() >= sizeof(address.sun_path)) {
    return Error{"cannot create the unix socket \"" + text + "\": a socket path must have 1 to " +
                     std::to_string(sizeof(address.sun_path) - 1) + " bytes",
                 "choose a shorter path for the socket"};
  }
  std::memcpy(address.sun_path, text.data(), text.size());

  struct stat existing {};
  if (::lstat(text.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return Error{
          "cannot create the unix socket " + text + ": a file that is not a socket is there",
          "remove that file or choose another socket path"};
    }
    if (someoneListens(address)) {
      return Error{"cannot create the unix socket " + text + ": another process listens on it",
                   "stop the other lifeboat watch, or give this one another socket path"};
    }
    // Left behind by a process that ended without removing it.
    if (::unlink(text.c_str()) != 0 && errno != ENOENT) {
      return Error{"cannot replace the stale unix socket " + text + ": " + describeErrno(errno),
                   "check that the agent may write to its directory"};
    }
  }

  const int descriptor = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (descriptor < 0) {
    return socketError(text, "socket: ", errno);
  }
  if (::bind(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(descriptor);
    return socketError(text, "", error);
  }
  // The mode is set before listen(): until then every connect() is refused,
  // so there is no moment when the umask's looser mode would let anyone in.
  struct stat created {};
  const char* stage = "chmod: ";
  bool ok = ::chmod(text.c_str(), 0660) == 0;
  if (ok) {
    stage = "listen: ";
    ok = ::listen(descriptor, SOMAXCONN) == 0;
  }
  if (ok) {
    stage = "stat: ";
    ok = ::stat(text.c_str(), &created) == 0;
  }
  if (!ok) {
    const int error = errno;
    ::close(descriptor);
    ::unlink(text.c_str());
    return socketError(text, stage, error);
  }
  return UnixListening{descriptor, UnixSocketFile{path, created.st_dev, created.st_ino}};
}

void removeUnixSocket(const UnixSocketFile& file) {
  struct stat current {};
  if (::lstat(file.path.c_str(), &current) == 0 && current.st_dev == file.device &&
      current.st_ino == file.inode) {
    ::unlink(file.path.c_str());
  }
}

}  // namespace lifeboat::listener::detail
