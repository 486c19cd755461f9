#pragma once
// Runs a plugin executable the way the agent does (own stdin/stdout/stderr
// pipes, no shell), for tests.

#include <string>
#include <string_view>
#include <vector>

namespace lifeboat::testing {

struct ProcessResult {
  int exitCode = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;

  // stdout split into lines (without the newlines).
  std::vector<std::string> lines() const;
  // The last stdout line, parsed as JSON text by the caller.
  std::string lastLine() const;
};

// Spawns argv[0] with posix_spawn, writes `input` to its stdin, closes it,
// and collects stdout and stderr until it exits.
ProcessResult runProcess(const std::vector<std::string>& argv, std::string_view input);

// $LIFEBOAT_BINARY_DIR / $LIFEBOAT_SOURCE_DIR (set by ctest), else the
// directories this test was configured with.
std::string binaryDir();
std::string sourceDir();

}  // namespace lifeboat::testing
