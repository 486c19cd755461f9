#pragma once
// The one place in the agent that starts child processes (DESIGN.md:
// "Children"). Every child:
//   - is started with posix_spawn (never a plain fork() of the agent),
//   - leads its own process group (POSIX_SPAWN_SETPGROUP), so a timeout or a
//     cancel kills everything it started: SIGTERM to the group, then SIGKILL
//     after `killGrace`,
//   - gets argv without a shell, and no file descriptors of ours but its
//     stdin/stdout/stderr pipes (all others are closed before exec),
//   - has stdout and stderr captured up to a cap each (the rest is read and
//     discarded so the child never blocks on a full pipe).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/process/cancel_signal.hpp"

namespace lifeboat::process {

using Milliseconds = std::chrono::milliseconds;

enum class Stream { standardOutput, standardError };

struct Command {
  // argv[0] is a path, or a name (no '/') looked up in the agent's PATH. A
  // relative path is resolved in `workingDirectory`, as after `cd`.
  std::vector<std::string> argv;
  // Variables set for the child on top of (or instead of) the agent's own.
  std::vector<std::pair<std::string, std::string>> environment;
  bool inheritEnvironment = true;
  std::string workingDirectory;  // empty = the agent's
  std::string standardInput;     // written to the child's stdin, then closed
  Milliseconds timeout{60'000};
  Milliseconds killGrace{5'000};
  std::size_t maxCapturedBytes = 1024 * 1024;  // per stream
  // Called with each complete line (without the newline) as it arrives, on
  // the calling thread. Lines past the capture cap are still delivered; a last
  // line without a newline is delivered at end of file; a line longer than
  // 1 MiB arrives in 1 MiB pieces. If it throws, the child's group is killed
  // and reaped, and the exception propagates to the caller of run().
  std::function<void(Stream, std::string_view line)> onLine;
  // Called once, on the calling thread, right after the child started and
  // before its output is read, with its process group id (the engine
  // journals it so that `resume` can stop what a crashed agent left behind).
  // If it throws, the child's group is killed and reaped, and the exception
  // propagates to the caller of run().
  std::function<void(pid_t processGroup)> onStarted;
  // When set and triggered (before or during the run), the child's group is
  // stopped as on a timeout: SIGTERM, then SIGKILL after killGrace; the
  // Outcome says `cancelled`. Not owned; must outlive run().
  const CancelSignal* cancel = nullptr;
};

struct Outcome {
  int exitCode = -1;  // when the child exited; -1 when a signal ended it
  int signal = 0;     // the signal that ended the child, 0 when it exited
  bool timedOut = false;
  bool cancelled = false;        // stopped because Command::cancel was triggered
  bool outputTruncated = false;  // a stream went past maxCapturedBytes
  pid_t processGroup = 0;
  Milliseconds elapsed{0};
  std::string standardOutput;
  std::string standardError;

  bool succeeded() const { return !timedOut && !cancelled && signal == 0 && exitCode == 0; }
};

// Interface so that tests of higher layers can substitute a fake runner.
class Runner {
 public:
  virtual ~Runner() = default;
  // An Error only when the child could not be started (no such file, not
  // executable, out of resources); a child that fails is an Outcome.
  virtual Result<Outcome> run(const Command& command) = 0;
};

// Runs children with posix_spawn and waits for them on the calling thread.
// Thread-safe: several threads may call run() at once. The agent must not
// reap children it did not start itself (no waitpid(-1), no SIGCHLD = SIG_IGN):
// a child reaped behind our back reports exitCode -1 with signal 0.
// After the child exits, its pipes are read to end of file for at most a
// second (a background process it left running may hold them); on a timeout
// its whole group is killed. A descendant that left the group (setsid) is
// out of reach.
class PosixRunner final : public Runner {
 public:
  Result<Outcome> run(const Command& command) override;
};

}  // namespace lifeboat::process
