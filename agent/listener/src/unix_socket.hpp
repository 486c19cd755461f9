#pragma once
// The file of a listening unix domain socket: made with mode 0660, replacing
// a stale socket file but never a live one or a file of another kind.

#include <sys/types.h>

#include <filesystem>

#include "lifeboat/common/result.hpp"

namespace lifeboat::listener::detail {

struct UnixSocketFile {
  std::filesystem::path path;
  dev_t device = 0;  // identify the file we made, to remove only that one
  ino_t inode = 0;
};

struct UnixListening {
  int descriptor = -1;  // listening, close-on-exec; the caller owns it
  UnixSocketFile file;
};

Result<UnixListening> listenUnix(const std::filesystem::path& path);

// Removes `file` when the path still names the socket listenUnix made.
void removeUnixSocket(const UnixSocketFile& file);

}  // namespace lifeboat::listener::detail
