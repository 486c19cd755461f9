#include "lifeboat/process/runner.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::process {
namespace {

using namespace std::chrono_literals;

Command program(std::vector<std::string> argv) {
  Command command;
  command.argv = std::move(argv);
  return command;
}

Command shell(std::string script) {
  return program({"/bin/sh", "-c", std::move(script)});
}

Command withDirectory(std::vector<std::string> argv, std::string directory) {
  Command command = program(std::move(argv));
  command.workingDirectory = std::move(directory);
  return command;
}

Command withInput(std::vector<std::string> argv, std::string input) {
  Command command = program(std::move(argv));
  command.standardInput = std::move(input);
  return command;
}

Outcome runOk(const Command& command) {
  PosixRunner runner;
  auto result = runner.run(command);
  if (!result) {
    ADD_FAILURE() << "run failed: " << result.error().message;
    return {};
  }
  return std::move(result).value();
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

// A process that is gone or a zombie (its reaper may not be a real init in a
// container) counts as dead. Polls for at most five seconds: the kill is
// asynchronous to the runner's return only for the grandchild's reparenting.
bool processDies(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) {
      return true;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

using test_support::TempDir;

TEST(PosixRunner, ReportsExitCodes) {
  Outcome ok = runOk(program({"/bin/true"}));
  EXPECT_EQ(ok.exitCode, 0);
  EXPECT_EQ(ok.signal, 0);
  EXPECT_TRUE(ok.succeeded());

  Outcome failed = runOk(shell("exit 3"));
  EXPECT_EQ(failed.exitCode, 3);
  EXPECT_EQ(failed.signal, 0);
  EXPECT_FALSE(failed.succeeded());
}

TEST(PosixRunner, FindsProgramsOnPath) {
  Outcome outcome = runOk(program({"echo", "hello", "world"}));
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_EQ(outcome.standardOutput, "hello world\n");
}

TEST(PosixRunner, TellsDeathBySignalFromExitNine) {
  Outcome killed = runOk(shell("kill -KILL $$"));
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.exitCode, -1);
  EXPECT_FALSE(killed.timedOut);
  EXPECT_FALSE(killed.succeeded());

  Outcome exited = runOk(shell("exit 9"));
  EXPECT_EQ(exited.signal, 0);
  EXPECT_EQ(exited.exitCode, 9);
}

TEST(PosixRunner, PassesStandardInputThrough) {
  std::string data(1024 * 1024, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 131 + i / 977) & 0xff);
  }
  Command command = withInput({"/bin/cat"}, data);
  command.maxCapturedBytes = 2 * data.size();
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_FALSE(outcome.outputTruncated);
  EXPECT_TRUE(outcome.standardOutput == data)
      << "round trip changed the data, got " << outcome.standardOutput.size() << " bytes";
}

TEST(PosixRunner, DoesNotDeadlockWhenChildWritesBeforeReading) {
  // The child fills its stdout pipe long before it reads stdin; a runner that
  // wrote all of stdin first would block forever on both sides.
  Command command = shell("head -c 1000000 /dev/zero; cat");
  command.standardInput = std::string(1000000, 'x');
  command.maxCapturedBytes = 4 * 1000000;
  command.timeout = 20s;
  Outcome outcome = runOk(command);
  EXPECT_FALSE(outcome.timedOut);
  EXPECT_EQ(outcome.exitCode, 0);
  ASSERT_EQ(outcome.standardOutput.size(), 2000000u);
  EXPECT_EQ(outcome.standardOutput.substr(1000000), std::string(1000000, 'x'));
}

TEST(PosixRunner, SurvivesChildThatIgnoresItsInput) {
  Command command = shell("exit 0");
  command.standardInput = std::string(10 * 1024 * 1024, 'x');
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.exitCode, 0);
  // The EPIPE's SIGPIPE was consumed, not left pending for this thread.
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(PosixRunner, ClosesStandardInputWhenThereIsNone) {
  Command command = program({"/bin/cat"});
  command.timeout = 10s;
  Outcome outcome = runOk(command);
  EXPECT_FALSE(outcome.timedOut);
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_EQ(outcome.standardOutput, "");
}

TEST(PosixRunner, CapsCapturedOutputAndKeepsDraining) {
  Command command = shell("head -c 10485760 /dev/zero; echo done >&2");
  command.maxCapturedBytes = 1024 * 1024;
  command.timeout = 20s;
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_FALSE(outcome.timedOut);
  EXPECT_TRUE(outcome.outputTruncated);
  EXPECT_EQ(outcome.standardOutput.size(), 1024u * 1024u);
  EXPECT_EQ(outcome.standardError, "done\n");
}

TEST(PosixRunner, OutputAtTheCapIsNotTruncated) {
  Command command = shell("printf 12345");
  command.maxCapturedBytes = 5;
  Outcome outcome = runOk(command);
  EXPECT_FALSE(outcome.outputTruncated);
  EXPECT_EQ(outcome.standardOutput, "12345");
}

TEST(PosixRunner, DeliversLinesIncludingAnUnterminatedLastOne) {
  std::vector<std::pair<Stream, std::string>> lines;
  Command command = shell("printf 'one\\ntwo\\n\\nthree'; printf 'warn\\n' >&2");
  command.maxCapturedBytes = 4;  // lines past the cap are still delivered
  command.onLine = [&](Stream stream, std::string_view line) {
    lines.emplace_back(stream, std::string(line));
  };
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_TRUE(outcome.outputTruncated);
  std::vector<std::string> out;
  std::vector<std::string> err;
  for (const auto& [stream, line] : lines) {
    (stream == Stream::standardOutput ? out : err).push_back(line);
  }
  EXPECT_EQ(out, (std::vector<std::string>{"one", "two", "", "three"}));
  EXPECT_EQ(err, (std::vector<std::string>{"warn"}));
}

TEST(PosixRunner, DeliversLinesSplitAcrossReads) {
  std::vector<std::string> lines;
  Command command =
      shell("printf 'par'; sleep 0.05; printf 'tial\\nnext'; sleep 0.05; printf '\\n'");
  command.onLine = [&](Stream, std::string_view line) { lines.emplace_back(line); };
  runOk(command);
  EXPECT_EQ(lines, (std::vector<std::string>{"partial", "next"}));
}

TEST(PosixRunner, KillsTheChildWhenOnLineThrows) {
  pid_t child = 0;
  Command command = shell("echo $$; exec sleep 100");
  command.onLine = [&](Stream, std::string_view line) {
    child = std::stoi(std::string(line));
    throw std::runtime_error("caller gave up");
  };
  PosixRunner runner;
  EXPECT_THROW((void)runner.run(command), std::runtime_error);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(processDies(child));
}

TEST(PosixRunner, TimeoutKillsTheWholeGroup) {
  Command command = shell("sleep 100 & echo $!; wait");
  command.timeout = 500ms;  // time enough for sh to start its child first
  command.killGrace = 10s;
  Outcome outcome = runOk(command);
  EXPECT_TRUE(outcome.timedOut);
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_EQ(outcome.signal, SIGTERM);
  EXPECT_LT(outcome.elapsed, 5s) << "SIGTERM alone should have ended it";
  const auto lines = splitLines(outcome.standardOutput);
  ASSERT_EQ(lines.size(), 1u) << outcome.standardOutput;
  const pid_t grandchild = std::stoi(lines[0]);
  EXPECT_TRUE(processDies(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST(PosixRunner, KillsAChildThatIgnoresSigtermAfterTheGrace) {
  Command command = shell("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  command.timeout = 500ms;  // time enough for sh to set its trap first
  command.killGrace = 300ms;
  Outcome outcome = runOk(command);
  EXPECT_TRUE(outcome.timedOut);
  EXPECT_EQ(outcome.signal, SIGKILL);
  EXPECT_EQ(outcome.standardOutput, "ready\n");
  EXPECT_GE(outcome.elapsed, 800ms);
  EXPECT_LT(outcome.elapsed, 10s);
}

TEST(PosixRunner, CancelStopsTheWholeGroupPromptly) {
  CancelSignal cancel;
  Command command = shell("sleep 100 & echo $!; wait");
  command.timeout = 60s;
  command.killGrace = 10s;
  command.cancel = &cancel;
  // Cancel once the grandchild is known to run: its pid is the first line.
  command.onLine = [&cancel](Stream, std::string_view) { cancel.trigger(); };
  Outcome outcome = runOk(command);
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_FALSE(outcome.timedOut);
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_EQ(outcome.signal, SIGTERM);
  EXPECT_LT(outcome.elapsed, 5s);
  const auto lines = splitLines(outcome.standardOutput);
  ASSERT_EQ(lines.size(), 1u) << outcome.standardOutput;
  EXPECT_TRUE(processDies(std::stoi(lines[0])));
}

TEST(PosixRunner, CancelFromAnotherThreadWakesTheRunner) {
  CancelSignal cancel;
  Command command = program({"sleep", "100"});
  command.timeout = 60s;
  command.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(100ms);
    cancel.trigger();
  });
  Outcome outcome = runOk(command);
  canceller.join();
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_EQ(outcome.signal, SIGTERM);
  EXPECT_LT(outcome.elapsed, 5s);
}

TEST(PosixRunner, AlreadyCancelledStopsTheChildAtOnce) {
  CancelSignal cancel;
  cancel.trigger();
  Command command = program({"sleep", "100"});
  command.cancel = &cancel;
  Outcome outcome = runOk(command);
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_LT(outcome.elapsed, 5s);
}

TEST(PosixRunner, ReportsTheProcessGroupAsSoonAsTheChildStarts) {
  pid_t reported = 0;
  bool outputSeenFirst = false;
  Command command = shell("echo hello");
  command.onStarted = [&reported](pid_t group) { reported = group; };
  command.onLine = [&](Stream, std::string_view) { outputSeenFirst = reported == 0; };
  Outcome outcome = runOk(command);
  EXPECT_GT(reported, 0);
  EXPECT_EQ(reported, outcome.processGroup);
  EXPECT_FALSE(outputSeenFirst);
}

TEST(CancelSignal, WaitForReturnsWhenTriggeredOrAfterTheDuration) {
  CancelSignal cancel;
  EXPECT_FALSE(cancel.waitFor(20ms));
  std::thread trigger([&cancel] {
    std::this_thread::sleep_for(50ms);
    cancel.trigger();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(cancel.waitFor(30s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  trigger.join();
  EXPECT_TRUE(cancel.triggered());
  cancel.trigger();  // idempotent
  EXPECT_TRUE(cancel.waitFor(0ms));
}

TEST(PosixRunner, DoesNotWaitForeverForABackgroundProcessHoldingThePipes) {
  Command command = shell("sleep 30 & echo $!");
  command.timeout = 20s;
  const auto started = std::chrono::steady_clock::now();
  Outcome outcome = runOk(command);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(outcome.timedOut);
  EXPECT_EQ(outcome.exitCode, 0);
  EXPECT_LT(took, 10s);
  const auto lines = splitLines(outcome.standardOutput);
  ASSERT_EQ(lines.size(), 1u);
  const pid_t background = std::stoi(lines[0]);
  // Not killed: the child finished on time, so what it left running is its business.
  EXPECT_EQ(::kill(background, 0), 0);
  ::kill(background, SIGKILL);
}

TEST(PosixRunner, OverridesAndInheritsEnvironment) {
  ASSERT_EQ(::setenv("LIFEBOAT_RUNNER_TEST_KEPT", "kept", 1), 0);
  ASSERT_EQ(::setenv("LIFEBOAT_RUNNER_TEST_REPLACED", "old", 1), 0);
  Command command = program({"/usr/bin/env"});
  command.environment = {{"LIFEBOAT_RUNNER_TEST_REPLACED", "new"},
                         {"LIFEBOAT_RUNNER_TEST_ADDED", "a=b"}};
  Outcome outcome = runOk(command);
  ::unsetenv("LIFEBOAT_RUNNER_TEST_KEPT");
  ::unsetenv("LIFEBOAT_RUNNER_TEST_REPLACED");
  const auto lines = splitLines(outcome.standardOutput);
  const std::multiset<std::string> entries(lines.begin(), lines.end());
  EXPECT_EQ(entries.count("LIFEBOAT_RUNNER_TEST_KEPT=kept"), 1u);
  EXPECT_EQ(entries.count("LIFEBOAT_RUNNER_TEST_REPLACED=new"), 1u);
  EXPECT_EQ(entries.count("LIFEBOAT_RUNNER_TEST_REPLACED=old"), 0u);
  EXPECT_EQ(entries.count("LIFEBOAT_RUNNER_TEST_ADDED=a=b"), 1u);
}

TEST(PosixRunner, StartsWithOnlyTheGivenEnvironment) {
  Command command = program({"/usr/bin/env"});
  command.environment = {{"ONLY", "1"}, {"TWICE", "first"}, {"TWICE", "second"}};
  command.inheritEnvironment = false;
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.standardOutput, "ONLY=1\nTWICE=second\n");
}

TEST(PosixRunner, RunsInTheWorkingDirectory) {
  TempDir dir;
  Command command = withDirectory({"/bin/pwd"}, dir.path().string());
  Outcome outcome = runOk(command);
  EXPECT_EQ(outcome.standardOutput, std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(PosixRunner, MissingWorkingDirectoryIsAnError) {
  TempDir dir;
  const std::string missing = (dir.path() / "absent").string();
  PosixRunner runner;
  auto result = runner.run(withDirectory({"/bin/true"}, missing));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(missing), std::string::npos) << result.error().message;
}

TEST(PosixRunner, MissingExecutableIsAnError) {
  PosixRunner runner;
  auto byPath = runner.run(program({"/nonexistent/lifeboat-foo"}));
  ASSERT_FALSE(byPath);
  EXPECT_EQ(byPath.error().message,
            "cannot start '/nonexistent/lifeboat-foo': No such file or directory");
  EXPECT_FALSE(byPath.error().hint.empty());

  auto byName = runner.run(program({"lifeboat-no-such-program"}));
  ASSERT_FALSE(byName);
  EXPECT_EQ(byName.error().message,
            "cannot start 'lifeboat-no-such-program': No such file or directory");
  EXPECT_NE(byName.error().hint.find("PATH"), std::string::npos);

  auto empty = runner.run(Command());
  EXPECT_FALSE(empty);
}

TEST(PosixRunner, NonExecutableFileIsAnError) {
  TempDir dir;
  const auto file = dir.path() / "script";
  std::ofstream(file) << "#!/bin/sh\nexit 0\n";
  std::filesystem::permissions(file, std::filesystem::perms::owner_read);
  PosixRunner runner;
  auto result = runner.run(program({file.string()}));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("Permission denied"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().hint.find("chmod"), std::string::npos);
}

TEST(PosixRunner, ChildSeesNoDescriptorsButItsOwnThree) {
  int cloexec[2];
  ASSERT_EQ(::pipe2(cloexec, O_CLOEXEC), 0);
  int inheritable[2];
  ASSERT_EQ(::pipe(inheritable), 0);  // even one somebody forgot to mark
  Outcome outcome = runOk(shell("ls /proc/$$/fd"));
  for (int fd : {cloexec[0], cloexec[1], inheritable[0], inheritable[1]}) {
    ::close(fd);
  }
  const auto lines = splitLines(outcome.standardOutput);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()),
            (std::set<std::string>{"0", "1", "2"}))
      << outcome.standardOutput;
}

TEST(PosixRunner, ChildLeadsItsOwnProcessGroup) {
  Outcome outcome =
      runOk(shell("read -r pid comm state ppid pgrp rest < /proc/$$/stat; echo \"$pid $pgrp\""));
  std::istringstream text(outcome.standardOutput);
  pid_t pid = 0;
  pid_t group = 0;
  text >> pid >> group;
  EXPECT_GT(pid, 0);
  EXPECT_EQ(pid, group);
  EXPECT_EQ(outcome.processGroup, pid);
  EXPECT_NE(group, ::getpgrp());
}

TEST(PosixRunner, ChildStartsWithDefaultSignalHandling) {
  // What the calling thread blocks or the agent ignores must not reach the child.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t previousMask;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &previousMask), 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previousAction {};
  ASSERT_EQ(::sigaction(SIGUSR2, &ignore, &previousAction), 0);

  Outcome outcome = runOk(program({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));

  ::sigaction(SIGUSR2, &previousAction, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
  const auto lines = splitLines(outcome.standardOutput);
  ASSERT_EQ(lines.size(), 2u) << outcome.standardOutput;
  EXPECT_EQ(lines[0], "SigBlk:\t0000000000000000");
  // glibc's posix_spawn leaves its two internal real-time signals (32, 33)
  // ignored (bits 31 and 32); every standard signal (1-31) must be default.
  ASSERT_EQ(lines[1].rfind("SigIgn:\t", 0), 0u) << lines[1];
  const unsigned long long ignored = std::stoull(lines[1].substr(8), nullptr, 16);
  EXPECT_EQ(ignored & 0x7fffffffULL, 0u) << lines[1];
}

TEST(PosixRunner, ReportsElapsedTime) {
  Outcome outcome = runOk(shell("sleep 0.2"));
  EXPECT_GE(outcome.elapsed, 200ms);
  EXPECT_LT(outcome.elapsed, 10s);
}

TEST(PosixRunner, RunsFromSeveralThreadsAtOnce) {
  PosixRunner runner;
  std::vector<std::thread> threads;
  std::vector<int> matches(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string data(200000 + static_cast<std::size_t>(i), static_cast<char>('a' + i));
      auto result = runner.run(withInput({"/bin/cat"}, data));
      matches[static_cast<std::size_t>(i)] = result && result->standardOutput == data ? 1 : 0;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(matches, (std::vector<int>{1, 1, 1, 1}));
}

}  // namespace
}  // namespace lifeboat::process
