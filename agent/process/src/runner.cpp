#include "lifeboat/process/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include "lifeboat/common/unique_fd.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace lifeboat::process {
namespace {

using Clock = std::chrono::steady_clock;

// After the child has exited, its stdout/stderr are read until end of file,
// but only this long: a background process it left behind (`daemon &`) may
// hold the pipes open forever, and a child that finished on time must not be
// reported as timed out because of it.
constexpr Milliseconds kDrainAfterExit{1'000};
// Without a pidfd (kernels before 5.3), how often to ask waitid whether the
// child has exited.
constexpr Milliseconds kExitPollInterval{10};
// onLine gets lines of at most this many bytes; a longer one arrives in pieces
// so that a child printing without newlines cannot make us buffer unboundedly.
constexpr std::size_t kMaxLineBytes = 1024 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;

std::string errnoText(int error) {
  return std::strerror(error);
}

// A close-on-exec pipe whose descriptors are all above 2, so that the dup2
// onto the child's 0/1/2 can never overwrite a descriptor still to be
// duplicated (our own stdin might be closed, making fd 0 free).
Result<std::pair<UniqueFd, UniqueFd>> makePipe() {
  std::array<int, 2> ends{};
  if (::pipe2(ends.data(), O_CLOEXEC) != 0) {
    const int error = errno;
    return Error{"cannot create a pipe for a child process: " + errnoText(error),
                 "check the agent's open file limit (ulimit -n)"};
  }
  std::array<UniqueFd, 2> owned{UniqueFd(ends[0]), UniqueFd(ends[1])};
  for (UniqueFd& end : owned) {
    if (end.get() <= 2) {
      const int moved = ::fcntl(end.get(), F_DUPFD_CLOEXEC, 3);
      if (moved < 0) {
        const int error = errno;
        return Error{"cannot create a pipe for a child process: " + errnoText(error),
                     "check the agent's open file limit (ulimit -n)"};
      }
      end = UniqueFd(moved);
    }
  }
  return std::pair<UniqueFd, UniqueFd>{std::move(owned[0]), std::move(owned[1])};
}

void setNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

// "NAME=value" strings for the child, and the envp array pointing into them.
class Environment {
 public:
  explicit Environment(const Command& command) {
    if (command.inheritEnvironment && environ != nullptr) {
      for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const std::string_view name = text.substr(0, text.find('='));
        const bool overridden =
            std::any_of(command.environment.begin(), command.environment.end(),
                        [&](const auto& variable) { return variable.first == name; });
        if (!overridden) {
          entries_.emplace_back(text);
        }
      }
    }
    for (const auto& variable : command.environment) {
      // Not a structured binding: C++20 lets lambdas capture those, clang 14 not yet.
      const std::string& name = variable.first;
      std::string entry = name + "=" + variable.second;
      // A name given twice: the later value wins, as with repeated `export`.
      auto existing = std::find_if(entries_.begin(), entries_.end(), [&](const std::string& e) {
        return e.size() > name.size() && e.compare(0, name.size(), name) == 0 &&
               e[name.size()] == '=';
      });
      if (existing != entries_.end()) {
        *existing = std::move(entry);
      } else {
        entries_.push_back(std::move(entry));
      }
    }
    pointers_.reserve(entries_.size() + 1);
    for (std::string& entry : entries_) {
      pointers_.push_back(entry.data());
    }
    pointers_.push_back(nullptr);
  }

  char* const* envp() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

std::string spawnHint(int error, const std::string& program, bool searchedPath) {
  switch (error) {
    case ENOENT:
      return searchedPath ? "check that '" + program + "' is installed and on the agent's PATH"
                          : "check the path '" + program + "'";
    case EACCES:
    case EPERM:
      return "check that '" + program +
             "' is executable (chmod +x) and that its directories are searchable";
    case ENOEXEC:
      return "'" + program + "' is not a program this system can run; a script needs a #! line";
    case E2BIG:
      return "the command line or environment is too large";
    case EAGAIN:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return "the agent is out of processes, memory or file descriptors; check its limits";
    default:
      return {};
  }
}

// Writing to a pipe whose reader has gone raises SIGPIPE, whose default action
// kills the whole agent. A library may not change the process-wide disposition,
// so each write runs with SIGPIPE blocked in this thread only (SIGPIPE from a
// write is sent to the writing thread). If the write failed with EPIPE, the
// signal it raised is now pending on this thread and is consumed with a
// zero-timeout sigtimedwait before the old mask comes back, unless a SIGPIPE
// was already pending before we started: that one is not ours to swallow.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    alreadyPending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

  void consumeRaisedSignal() {
    if (alreadyPending_) {
      return;
    }
    const timespec zero{0, 0};
    while (::sigtimedwait(&sigpipe_, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }

 private:
  sigset_t sigpipe_;
  sigset_t previous_;
  bool alreadyPending_ = false;
};

// One captured stream: the bytes kept up to the cap, and the line being
// assembled for onLine.
struct StreamReader {
  Stream stream = Stream::standardOutput;
  UniqueFd fd;
  std::string* captured = nullptr;
  std::string pendingLine;
};

// Keeps deadline arithmetic clear of overflow for "forever" values such as
// Milliseconds::max(); negative values count as zero.
Milliseconds clamped(Milliseconds duration) {
  constexpr Milliseconds kLongest =
      std::chrono::duration_cast<Milliseconds>(std::chrono::hours(24 * 365 * 100));
  return std::clamp(duration, Milliseconds(0), kLongest);
}

int millisecondsUntil(Clock::time_point deadline, Clock::time_point now) {
  if (deadline <= now) {
    return 0;
  }
  // Round up so that poll never wakes just before the deadline and spins.
  const auto remaining = std::chrono::ceil<Milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<std::int64_t>(remaining, 60'000));
}

// The running child and everything needed to supervise it. If run() leaves
// early (an onLine callback threw), the destructor kills the group and reaps
// the child so that no process or zombie outlives the call.
class Supervisor {
 public:
  Supervisor(const Command& command, pid_t pid, UniqueFd input, UniqueFd output, UniqueFd error,
             Clock::time_point started)
      : command_(command), pid_(pid), started_(started), input_(std::move(input)) {
    outcome_.processGroup = pid;
    readers_[0].stream = Stream::standardOutput;
    readers_[0].fd = std::move(output);
    readers_[0].captured = &outcome_.standardOutput;
    readers_[1].stream = Stream::standardError;
    readers_[1].fd = std::move(error);
    readers_[1].captured = &outcome_.standardError;
    for (StreamReader& reader : readers_) {
      setNonBlocking(reader.fd.get());
    }
    if (command_.standardInput.empty()) {
      input_.reset();
    } else {
      setNonBlocking(input_.get());
    }
#ifdef SYS_pidfd_open
    // pidfds are always close-on-exec; ENOSYS on kernels before 5.3.
    const long pidfd = ::syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
      pidfd_ = UniqueFd(static_cast<int>(pidfd));
    }
#endif
  }
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  ~Supervisor() {
    if (!reaped_) {
      ::kill(-pid_, SIGKILL);
      reap();
    }
  }

  Outcome supervise() {
    const Clock::time_point deadline = started_ + clamped(command_.timeout);
    // time_point::max() means "not armed" (std::optional here trips GCC 12's
    // -Wmaybe-uninitialized at -O2).
    Clock::time_point killDeadline = Clock::time_point::max();
    Clock::time_point drainDeadline = Clock::time_point::max();
    while (!reaped_ || readers_[0].fd.valid() || readers_[1].fd.valid()) {
      Clock::time_point now = Clock::now();
      if (!reaped_) {
        const bool stopping = outcome_.timedOut || outcome_.cancelled;
        if (!stopping && now >= deadline) {
          outcome_.timedOut = true;
          ::kill(-pid_, SIGTERM);
          killDeadline = now + clamped(command_.killGrace);
        } else if (!stopping && command_.cancel != nullptr && command_.cancel->triggered()) {
          outcome_.cancelled = true;
          ::kill(-pid_, SIGTERM);
          killDeadline = now + clamped(command_.killGrace);
        }
        if (now >= killDeadline) {
          ::kill(-pid_, SIGKILL);
          killDeadline = Clock::time_point::max();
        }
      } else if (drainDeadline == Clock::time_point::max()) {
        drainDeadline = now + kDrainAfterExit;
      } else if (now >= drainDeadline) {
        break;  // someone left behind holds the pipes; stop listening to them
      }

      Clock::time_point wakeAt = now + Milliseconds(60'000);
      if (!reaped_) {
        const bool stopping = outcome_.timedOut || outcome_.cancelled;
        wakeAt = std::min(wakeAt, stopping ? killDeadline : deadline);
        if (!pidfd_.valid() ||
            (!stopping && command_.cancel != nullptr && command_.cancel->fd() < 0)) {
          wakeAt = std::min(wakeAt, now + kExitPollInterval);
        }
      } else {
        wakeAt = std::min(wakeAt, drainDeadline);
      }
      waitForActivity(millisecondsUntil(wakeAt, now));
      if (!reaped_ && childHasExited()) {
        finishChild();
      }
    }
    for (StreamReader& reader : readers_) {
      flushPendingLine(reader);
      reader.fd.reset();
    }
    return std::move(outcome_);
  }

 private:
  void waitForActivity(int timeoutMs) {
    std::array<pollfd, 5> fds{};
    std::size_t count = 0;
    const auto add = [&](const UniqueFd& fd, short events) {
      if (fd.valid()) {
        fds[count++] = pollfd{fd.get(), events, 0};
      }
    };
    add(readers_[0].fd, POLLIN);
    add(readers_[1].fd, POLLIN);
    add(input_, POLLOUT);
    if (!reaped_) {
      add(pidfd_, POLLIN);
      if (command_.cancel != nullptr && command_.cancel->fd() >= 0 && !outcome_.cancelled &&
          !outcome_.timedOut) {
        fds[count++] = pollfd{command_.cancel->fd(), POLLIN, 0};
      }
    }
    if (::poll(fds.data(), count, timeoutMs) < 0) {
      return;  // EINTR: the loop re-evaluates its deadlines
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (fds[i].fd == input_.get()) {
        writeInput();
      } else if (fds[i].fd == readers_[0].fd.get()) {
        readAvailable(readers_[0]);
      } else if (fds[i].fd == readers_[1].fd.get()) {
        readAvailable(readers_[1]);
      }
    }
  }

  void writeInput() {
    SigpipeBlock block;
    while (inputOffset_ < command_.standardInput.size()) {
      const std::string& data = command_.standardInput;
      const ssize_t written =
          ::write(input_.get(), data.data() + inputOffset_, data.size() - inputOffset_);
      if (written > 0) {
        inputOffset_ += static_cast<std::size_t>(written);
        continue;
      }
      if (written < 0 && errno == EINTR) {
        continue;
      }
      if (written < 0 && errno == EAGAIN) {
        return;  // the pipe is full: poll tells us when the child has read some
      }
      if (written < 0 && errno == EPIPE) {
        block.consumeRaisedSignal();
      }
      break;  // the child closed its stdin (or the pipe broke): the rest is dropped
    }
    input_.reset();  // all written, or no one to read it: the child sees end of file
  }

  void readAvailable(StreamReader& reader) {
    std::array<char, kReadChunk> buffer;
    // Bounded rounds, so that one chatty stream cannot starve the other or the deadlines.
    for (int round = 0; round < 16; ++round) {
      const ssize_t count = ::read(reader.fd.get(), buffer.data(), buffer.size());
      if (count > 0) {
        consume(reader, std::string_view(buffer.data(), static_cast<std::size_t>(count)));
        continue;
      }
      if (count < 0 && errno == EINTR) {
        continue;
      }
      if (count < 0 && errno == EAGAIN) {
        return;
      }
      flushPendingLine(reader);  // end of file (or a read error, treated alike)
      reader.fd.reset();
      return;
    }
  }

  void consume(StreamReader& reader, std::string_view data) {
    const std::size_t room =
        command_.maxCapturedBytes - std::min(command_.maxCapturedBytes, reader.captured->size());
    if (data.size() > room) {
      outcome_.outputTruncated = true;
    }
    reader.captured->append(data.substr(0, room));
    if (!command_.onLine) {
      return;
    }
    while (!data.empty()) {
      const std::size_t newline = data.find('\n');
      const bool complete = newline != std::string_view::npos;
      const std::string_view piece = complete ? data.substr(0, newline) : data;
      data.remove_prefix(complete ? newline + 1 : data.size());
      if (complete && reader.pendingLine.empty() && piece.size() <= kMaxLineBytes) {
        command_.onLine(reader.stream, piece);  // the common case: no copy
        continue;
      }
      reader.pendingLine.append(piece);
      while (reader.pendingLine.size() > kMaxLineBytes) {
        command_.onLine(reader.stream,
                        std::string_view(reader.pendingLine).substr(0, kMaxLineBytes));
        reader.pendingLine.erase(0, kMaxLineBytes);
      }
      if (complete) {
        command_.onLine(reader.stream, reader.pendingLine);
        reader.pendingLine.clear();
      }
    }
  }

  void flushPendingLine(StreamReader& reader) {
    if (command_.onLine && !reader.pendingLine.empty()) {
      std::string line = std::move(reader.pendingLine);
      reader.pendingLine.clear();
      command_.onLine(reader.stream, line);
    }
  }

  // True once the child has terminated. It is not reaped yet, so its pid (and
  // thus its process group id) cannot be reused while we still signal it.
  bool childHasExited() {
    if (pidfd_.valid()) {
      pollfd fd{pidfd_.get(), POLLIN, 0};
      return ::poll(&fd, 1, 0) > 0;
    }
    siginfo_t info{};
    int result;
    do {
      result = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (result < 0 && errno == EINTR);
    return result < 0 || info.si_pid == pid_;  // ECHILD: someone else reaped it
  }

  void finishChild() {
    outcome_.elapsed = std::chrono::duration_cast<Milliseconds>(Clock::now() - started_);
    if (outcome_.timedOut || outcome_.cancelled) {
      // Whatever the child started in its group dies with it. A descendant
      // that left the group (setsid, setpgid) is beyond our reach here; the
      // journaled group id is how `resume` finds what it can.
      ::kill(-pid_, SIGKILL);
    }
    reap();
  }

  void reap() {
    int status = 0;
    pid_t result;
    do {
      result = ::waitpid(pid_, &status, 0);
    } while (result < 0 && errno == EINTR);
    reaped_ = true;
    input_.reset();
    pidfd_.reset();
    if (result != pid_) {
      // ECHILD: the agent ignores SIGCHLD or another thread reaped the child;
      // its status is lost, which must not read as success.
      outcome_.exitCode = -1;
      outcome_.signal = 0;
    } else if (WIFEXITED(status)) {
      outcome_.exitCode = WEXITSTATUS(status);
      outcome_.signal = 0;
    } else if (WIFSIGNALED(status)) {
      outcome_.exitCode = -1;
      outcome_.signal = WTERMSIG(status);
    }
  }

  const Command& command_;
  const pid_t pid_;
  const Clock::time_point started_;
  Outcome outcome_;
  UniqueFd input_;
  std::size_t inputOffset_ = 0;
  std::array<StreamReader, 2> readers_;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

// posix_spawn attributes and file actions, released on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawnattr_init(&attributes_);
    ::posix_spawn_file_actions_init(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }

  // 0 or an errno value.
  int prepare(const Command& command, int input, int output, int error) {
    // Own process group (pgroup 0 = the child's pid); no blocked signals; every
    // signal back to its default action, since an ignored SIGPIPE or SIGINT of
    // ours would otherwise be inherited through exec.
    sigset_t empty;
    sigset_t all;
    sigemptyset(&empty);
    sigfillset(&all);
    int result = ::posix_spawnattr_setflags(
        &attributes_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (result == 0)
      result = ::posix_spawnattr_setpgroup(&attributes_, 0);
    if (result == 0)
      result = ::posix_spawnattr_setsigmask(&attributes_, &empty);
    if (result == 0)
      result = ::posix_spawnattr_setsigdefault(&attributes_, &all);
    // dup2 clears close-on-exec on the copies. Our own descriptors are all
    // close-on-exec, but one a library or our parent left inheritable would
    // still leak, so everything from 3 up is closed explicitly too.
    if (result == 0)
      result = ::posix_spawn_file_actions_adddup2(&actions_, input, STDIN_FILENO);
    if (result == 0)
      result = ::posix_spawn_file_actions_adddup2(&actions_, output, STDOUT_FILENO);
    if (result == 0)
      result = ::posix_spawn_file_actions_adddup2(&actions_, error, STDERR_FILENO);
    if (result == 0)
      result = ::posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
    if (result == 0 && !command.workingDirectory.empty()) {
      result = ::posix_spawn_file_actions_addchdir_np(&actions_, command.workingDirectory.c_str());
    }
    return result;
  }

  const posix_spawnattr_t* attributes() const { return &attributes_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attributes_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace

Result<Outcome> PosixRunner::run(const Command& command) {
  if (command.argv.empty() || command.argv[0].empty()) {
    return Error{"cannot start a child process: the command is empty",
                 "give the program to run as the first element of the command"};
  }
  const std::string& program = command.argv[0];
  if (!command.workingDirectory.empty()) {
    // posix_spawn reports a failed chdir with the same errno as a missing
    // program; look first so the message names the right culprit.
    struct stat info {};
    if (::stat(command.workingDirectory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return Error{"cannot start '" + program + "': working directory '" +
                       command.workingDirectory + "' is not a directory",
                   "check that the directory exists on this machine"};
    }
  }

  auto input = makePipe();
  if (!input)
    return input.error();
  auto output = makePipe();
  if (!output)
    return output.error();
  auto error = makePipe();
  if (!error)
    return error.error();

  SpawnSetup setup;
  if (const int result =
          setup.prepare(command, input->first.get(), output->second.get(), error->second.get());
      result != 0) {
    return Error{"cannot start '" + program + "': " + errnoText(result),
                 spawnHint(result, program, false)};
  }

  std::vector<char*> argv;
  argv.reserve(command.argv.size() + 1);
  for (const std::string& argument : command.argv) {
    argv.push_back(const_cast<char*>(argument.c_str()));  // posix_spawn does not write to them
  }
  argv.push_back(nullptr);
  Environment environment(command);

  // Without a '/', argv[0] is looked up in the agent's PATH (not the child's
  // environment). A relative path with a '/' is resolved in the child's
  // working directory, as after `cd`.
  const bool searchPath = program.find('/') == std::string::npos;
  const Clock::time_point started = Clock::now();
  pid_t pid = 0;
  const int result = searchPath
                         ? ::posix_spawnp(&pid, program.c_str(), setup.actions(),
                                          setup.attributes(), argv.data(), environment.envp())
                         : ::posix_spawn(&pid, program.c_str(), setup.actions(), setup.attributes(),
                                         argv.data(), environment.envp());
  // The child's ends belong to the child now (or to no one).
  input->first.reset();
  output->second.reset();
  error->second.reset();
  if (result != 0) {
    return Error{"cannot start '" + program + "': " + errnoText(result),
                 spawnHint(result, program, searchPath)};
  }

  Supervisor supervisor(command, pid, std::move(input->second), std::move(output->first),
                        std::move(error->first), started);
  if (command.onStarted) {
    command.onStarted(pid);
  }
  return supervisor.supervise();
}

}  // namespace lifeboat::process
