#pragma once
// The one bounded file reader: never reads more than maxBytes + 1 bytes, so
// a huge or endless file (a pipe, /dev/zero) costs at most that much memory.
// Callers turn the failure into their own message (runbook, secret, journal).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat {

struct FileRead {
  enum class Status {
    ok,
    systemError,  // open/fstat/read failed: see `error` (an errno value)
    directory,
    notRegular,  // only with requireRegularFile: a FIFO, socket or device
    tooLarge,    // over maxBytes; `size` is set when known up front
  };
  Status status = Status::ok;
  int error = 0;
  mode_t mode = 0;
  std::optional<std::uintmax_t> size;
  std::string contents;
};

struct ReadFileOptions {
  std::size_t maxBytes = 0;
  // Refuse anything but a regular file (opened without blocking, so a FIFO
  // without a writer is refused rather than waited for).
  bool requireRegularFile = false;
};

FileRead readFile(const std::filesystem::path& path, const ReadFileOptions& options);

// A `${secret:file:PATH}`: the regular file's contents, without one trailing
// newline (LF or CRLF). Errors name the path, never the contents; `reader`
// names who must be able to read it ("the agent's user").
Result<std::string> readSecretFile(const std::string& path, std::size_t maxBytes,
                                   std::string_view reader);

}  // namespace lifeboat
