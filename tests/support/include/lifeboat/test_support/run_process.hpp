#pragma once
// Runs built programs from tests through agent/process (the project's one
// way to start children), and finds the source and build trees.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeboat::test_support {

// $LIFEBOAT_SOURCE_DIR / $LIFEBOAT_BINARY_DIR (set by ctest), else the
// directories the tests were configured with.
std::filesystem::path sourceDir();
std::filesystem::path binaryDir();

struct ProcessResult {
  int exitCode = -1;  // 128 + the signal number when a signal ended it
  int signal = 0;
  std::string out;
  std::string err;

  std::vector<std::string> lines() const;  // stdout, without the newlines
  std::string lastLine() const;
};

// Runs `argv` with `input` on stdin. Fails the current test (and returns
// exitCode -1) when the program cannot start or runs longer than a minute.
ProcessResult runProcess(const std::vector<std::string>& argv, std::string_view input = {},
                         const std::filesystem::path& workingDirectory = {},
                         std::vector<std::pair<std::string, std::string>> environment = {});

// `build/bin/lifeboat ARGUMENTS...`
ProcessResult runLifeboat(const std::vector<std::string>& arguments,
                          const std::filesystem::path& workingDirectory = {},
                          std::vector<std::pair<std::string, std::string>> environment = {});

// Where a background child's standard stream goes: a descriptor of ours
// (duplicated onto it), or one of these.
inline constexpr int kDevNull = -1;
inline constexpr int kInherit = -2;
struct ChildStreams {
  int input = kDevNull;
  int output = kDevNull;
  int error = kDevNull;
};

// Starts `argv` (argv[0] a path) in the background with posix_spawn and the
// test's environment. Returns its pid, or minus the errno when it could not
// start. The caller reaps it.
pid_t startBackground(const std::vector<std::string>& argv, const ChildStreams& streams = {});

// Starts the built `lifeboat` in the background (stdin, stdout and stderr on
// /dev/null) and returns its pid, for tests that signal or kill it; the
// caller waits for it with waitpid.
pid_t startLifeboat(const std::vector<std::string>& arguments);

}  // namespace lifeboat::test_support
