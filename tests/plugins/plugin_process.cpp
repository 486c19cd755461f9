#include "plugin_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

extern char** environ;

namespace lifeboat::testing {

std::vector<std::string> ProcessResult::lines() const {
  std::vector<std::string> result;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) {
      end = out.size();
    }
    result.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

std::string ProcessResult::lastLine() const {
  const std::vector<std::string> all = lines();
  return all.empty() ? std::string() : all.back();
}

ProcessResult runProcess(const std::vector<std::string>& argv, std::string_view input) {
  // A plugin may exit without reading all of stdin; that must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2];
  int out[2];
  int err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (spawned != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(spawned));
  }

  ProcessResult result;
  int stdinFd = in[1];
  if (input.empty()) {
    ::close(stdinFd);
    stdinFd = -1;
  } else {
    ::fcntl(stdinFd, F_SETFL, O_NONBLOCK);
  }
  int openOutputs = 2;
  bool outOpen = true;
  bool errOpen = true;
  while (openOutputs > 0 || stdinFd >= 0) {
    pollfd fds[3];
    nfds_t count = 0;
    if (outOpen) {
      fds[count++] = {out[0], POLLIN, 0};
    }
    if (errOpen) {
      fds[count++] = {err[0], POLLIN, 0};
    }
    if (stdinFd >= 0) {
      fds[count++] = {stdinFd, POLLOUT, 0};
    }
    const int ready = ::poll(fds, count, 30000);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      ::kill(pid, SIGKILL);
      break;  // hung for 30 s: give up, the assertions will show it
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (fds[i].fd == stdinFd) {
        const ssize_t written = ::write(stdinFd, input.data(), input.size());
        if (written > 0) {
          input.remove_prefix(static_cast<std::size_t>(written));
        }
        if ((written < 0 && errno != EAGAIN) || input.empty()) {
          ::close(stdinFd);
          stdinFd = -1;
        }
        continue;
      }
      char buffer[65536];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        (fds[i].fd == out[0] ? result.out : result.err)
            .append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        if (fds[i].fd == out[0]) {
          outOpen = false;
        } else {
          errOpen = false;
        }
        --openOutputs;
      }
    }
  }
  if (stdinFd >= 0) {
    ::close(stdinFd);
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string binaryDir() {
  const char* value = std::getenv("LIFEBOAT_BINARY_DIR");
  return value == nullptr || *value == '\0' ? std::string(LIFEBOAT_TEST_BINARY_DIR)
                                            : std::string(value);
}

std::string sourceDir() {
  const char* value = std::getenv("LIFEBOAT_SOURCE_DIR");
  return value == nullptr || *value == '\0' ? std::string(LIFEBOAT_TEST_SOURCE_DIR)
                                            : std::string(value);
}

}  // namespace lifeboat::testing
