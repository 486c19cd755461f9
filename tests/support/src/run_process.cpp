#include "lifeboat/test_support/run_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>

#include "lifeboat/process/runner.hpp"

extern char** environ;

namespace lifeboat::test_support {

std::filesystem::path sourceDir() {
  const char* value = std::getenv("LIFEBOAT_SOURCE_DIR");
  return value != nullptr ? value : LIFEBOAT_TEST_SOURCE_DIR;
}

std::filesystem::path binaryDir() {
  const char* value = std::getenv("LIFEBOAT_BINARY_DIR");
  return value != nullptr ? value : LIFEBOAT_TEST_BINARY_DIR;
}

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

ProcessResult runProcess(const std::vector<std::string>& argv, std::string_view input,
                         const std::filesystem::path& workingDirectory,
                         std::vector<std::pair<std::string, std::string>> environment) {
  process::Command command;
  command.argv = argv;
  command.standardInput = std::string(input);
  command.workingDirectory = workingDirectory.string();
  command.environment = std::move(environment);
  command.timeout = std::chrono::seconds(60);
  command.maxCapturedBytes = 8 * 1024 * 1024;
  process::PosixRunner runner;
  Result<process::Outcome> outcome = runner.run(command);
  if (!outcome) {
    ADD_FAILURE() << outcome.error().message;
    return {};
  }
  EXPECT_FALSE(outcome->timedOut) << argv.front() << " timed out";
  ProcessResult result;
  result.signal = outcome->signal;
  result.exitCode = outcome->signal != 0 ? 128 + outcome->signal : outcome->exitCode;
  result.out = std::move(outcome->standardOutput);
  result.err = std::move(outcome->standardError);
  return result;
}

ProcessResult runLifeboat(const std::vector<std::string>& arguments,
                          const std::filesystem::path& workingDirectory,
                          std::vector<std::pair<std::string, std::string>> environment) {
  std::vector<std::string> argv{(binaryDir() / "bin" / "lifeboat").string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return runProcess(argv, {}, workingDirectory, std::move(environment));
}

pid_t startBackground(const std::vector<std::string>& argv, const ChildStreams& streams) {
  std::vector<std::string> copy = argv;
  std::vector<char*> pointers;
  for (std::string& argument : copy) {
    pointers.push_back(argument.data());
  }
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const auto route = [&actions](int from, int to, int flags) {
    if (from == kDevNull) {
      posix_spawn_file_actions_addopen(&actions, to, "/dev/null", flags, 0);
    } else if (from != kInherit) {
      posix_spawn_file_actions_adddup2(&actions, from, to);
    }
  };
  route(streams.input, STDIN_FILENO, O_RDONLY);
  route(streams.output, STDOUT_FILENO, O_WRONLY);
  route(streams.error, STDERR_FILENO, O_WRONLY);
  pid_t pid = 0;
  const int result = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return result == 0 ? pid : -result;
}

pid_t startLifeboat(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{(binaryDir() / "bin" / "lifeboat").string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const pid_t pid = startBackground(argv);
  EXPECT_GT(pid, 0) << "cannot start " << argv[0];
  return pid > 0 ? pid : -1;
}

}  // namespace lifeboat::test_support
