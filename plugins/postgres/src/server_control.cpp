#include "server_control.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lifeboat/process/runner.hpp"

namespace lifeboat::postgres {
namespace {

namespace fs = std::filesystem;

std::string lastLines(const std::string& text, std::size_t count) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  std::string joined;
  const std::size_t from = lines.size() > count ? lines.size() - count : 0;
  for (std::size_t i = from; i < lines.size(); ++i) {
    joined += (joined.empty() ? "" : " | ") + lines[i];
  }
  return joined;
}

std::optional<Error> chownLike(const fs::path& path, const fs::path& ownerOf) {
  struct stat status {};
  if (::geteuid() != 0 || ::stat(ownerOf.c_str(), &status) != 0) {
    return std::nullopt;
  }
  if (::chown(path.c_str(), status.st_uid, status.st_gid) != 0) {
    return Error{"cannot give " + path.string() + " to the owner of " + ownerOf.string() + ": " +
                     std::strerror(errno),
                 ""};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> readText(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

PostmasterState postmasterOf(const fs::path& dataDir) {
  PostmasterState state;
  const auto text = readText(dataDir / "postmaster.pid");
  if (!text) {
    return state;
  }
  state.pidFile = true;
  try {
    state.pid = static_cast<pid_t>(std::stol(text->substr(0, text->find('\n'))));
  } catch (const std::exception&) {
    return state;
  }
  if (state.pid <= 0) {
    return state;
  }
  const bool exists = ::kill(state.pid, 0) == 0 || errno == EPERM;
  if (exists) {
    // A pid reused by an unrelated process after a crash is not our server,
    // and a killed postmaster nobody reaped yet (a zombie) is gone.
    const std::string proc = "/proc/" + std::to_string(state.pid);
    const auto command = readText(proc + "/comm");
    const auto stat = readText(proc + "/stat");
    const std::size_t afterName = stat ? stat->rfind(')') : std::string::npos;
    const bool zombie = afterName != std::string::npos && afterName + 2 < stat->size() &&
                        (*stat)[afterName + 2] == 'Z';
    state.alive = !zombie && (!command || command->find("postgres") != std::string::npos ||
                              command->find("postmaster") != std::string::npos);
  }
  return state;
}

Result<std::string> ServerControl::runAsUserFor(const fs::path& path) {
  if (::geteuid() != 0) {
    return std::string();
  }
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return Error{"cannot look at " + path.string() + ": " + std::strerror(errno),
                 "check that the path exists on this host"};
  }
  if (status.st_uid == 0) {
    return Error{path.string() + " belongs to root, and PostgreSQL refuses to run as root",
                 "give it to the PostgreSQL OS user (e.g. chown postgres:postgres)"};
  }
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(status.st_uid, &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return Error{"the owner (uid " + std::to_string(status.st_uid) + ") of " + path.string() +
                     " has no user name",
                 "runuser needs a user in /etc/passwd"};
  }
  return std::string(entry.pw_name);
}

std::optional<Error> ServerControl::runTool(const std::string& tool,
                                            const std::vector<std::string>& arguments,
                                            const fs::path& ownerOf, Milliseconds timeout,
                                            bool withPassword, const std::string& what) {
  auto user = runAsUserFor(ownerOf);
  if (!user) {
    return Error{"cannot " + what + " (" + target_.label + "): " + user.error().message,
                 user.error().hint};
  }
  process::Command command;
  if (!user->empty()) {
    command.argv = {"runuser", "-u", *user, "--"};
  }
  command.argv.push_back(target_.tool(tool));
  command.argv.insert(command.argv.end(), arguments.begin(), arguments.end());
  if (withPassword && !target_.password.empty()) {
    command.environment.emplace_back("PGPASSWORD", target_.password);
  }
  // runuser keeps our working directory, which the server's user may not be
  // able to enter (/root).
  command.workingDirectory = "/";
  command.timeout = timeout;
  command.onLine = [this, &tool](process::Stream, std::string_view line) {
    reporter_.log(tool + ": " + std::string(line));
  };
  reporter_.log("running " + tool + (user->empty() ? "" : " as " + *user));
  process::PosixRunner runner;
  auto outcome = runner.run(command);
  if (!outcome) {
    return Error{"cannot " + what + " (" + target_.label + "): cannot start " + target_.tool(tool) +
                     ": " + outcome.error().message,
                 "check the target's bin_dir"};
  }
  if (outcome->succeeded()) {
    return std::nullopt;
  }
  std::string how = outcome->timedOut ? "timed out after " + std::to_string(timeout.count()) + " ms"
                    : outcome->signal != 0
                        ? "was killed by signal " + std::to_string(outcome->signal)
                        : "exited with status " + std::to_string(outcome->exitCode);
  const std::string detail = lastLines(outcome->standardError + outcome->standardOutput, 3);
  return Error{"cannot " + what + " (" + target_.label + "): " + tool + " " + how +
                   (detail.empty() ? "" : ": " + detail),
               ""};
}

std::optional<Error> removeStalePidFile(const fs::path& dataDir, Reporter& reporter) {
  const PostmasterState state = postmasterOf(dataDir);
  if (!state.pidFile || state.alive) {
    return std::nullopt;
  }
  // PostgreSQL removes a stale postmaster.pid itself, except when the dead
  // postmaster's pid still exists as a zombie nobody reaped (PID 1 of some
  // containers): then every start and pg_rewind's recovery would refuse.
  // The socket's lock file (postmaster.pid lines 4 and 5: port and first
  // socket directory) is just as stale and just as much in the way.
  if (const auto text = readText(dataDir / "postmaster.pid")) {
    std::vector<std::string> lines;
    std::stringstream stream(*text);
    for (std::string line; std::getline(stream, line);) {
      lines.push_back(line);
    }
    if (lines.size() >= 5 && !lines[3].empty() && !lines[4].empty()) {
      const fs::path socketLock = fs::path(lines[4]) / (".s.PGSQL." + lines[3] + ".lock");
      const auto lockText = readText(socketLock);
      if (lockText && lockText->substr(0, lockText->find('\n')) == std::to_string(state.pid)) {
        std::error_code ignored;
        fs::remove(socketLock, ignored);
      }
    }
  }
  std::error_code code;
  fs::remove(dataDir / "postmaster.pid", code);
  if (code) {
    return Error{
        "cannot remove the stale " + (dataDir / "postmaster.pid").string() + ": " + code.message(),
        "check permissions of the data directory"};
  }
  reporter.log("removed the stale postmaster.pid of dead process " + std::to_string(state.pid));
  return std::nullopt;
}

Result<bool> ServerControl::stop(const fs::path& dataDir) {
  if (!postmasterOf(dataDir).alive) {
    if (auto error = removeStalePidFile(dataDir, reporter_)) {
      return *error;
    }
    return false;
  }
  reporter_.progress("stopping the server in " + dataDir.string() + " (fast)");
  auto fast = runTool("pg_ctl", {"stop", "-D", dataDir.string(), "-m", "fast", "-w", "-t", "30"},
                      dataDir, std::chrono::seconds(40), false, "stop the server");
  if (!fast) {
    return true;
  }
  reporter_.log(fast->message);
  if (!postmasterOf(dataDir).alive) {
    return true;
  }
  reporter_.progress("fast stop failed; stopping the server in " + dataDir.string() +
                     " (immediate)");
  if (auto error = stopImmediately(dataDir)) {
    error->hint = "stop the server by hand (pg_ctl stop -m immediate) or kill its postmaster";
    return *error;
  }
  return true;
}

std::optional<Error> ServerControl::stopImmediately(const fs::path& dataDir) {
  if (!postmasterOf(dataDir).alive) {
    return std::nullopt;
  }
  return runTool("pg_ctl", {"stop", "-D", dataDir.string(), "-m", "immediate", "-w", "-t", "30"},
                 dataDir, std::chrono::seconds(40), false, "stop the server");
}

std::optional<Error> ServerControl::start(const fs::path& dataDir, const fs::path& logFile) {
  if (auto error = removeStalePidFile(dataDir, reporter_)) {
    return error;
  }
  reporter_.progress("starting the server in " + dataDir.string());
  auto error =
      runTool("pg_ctl", {"start", "-D", dataDir.string(), "-w", "-t", "60", "-l", logFile.string()},
              dataDir, std::chrono::seconds(70), false, "start the server");
  if (error) {
    error->hint = "see the server's log " + logFile.string();
  }
  return error;
}

std::optional<Error> writeOwnedFile(const fs::path& path, const std::string& content,
                                    const fs::path& ownerOf) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out.flush()) {
      return Error{"cannot write " + path.string(), "check permissions and free space"};
    }
  }
  ::chmod(path.c_str(), 0600);
  return chownLike(path, ownerOf);
}

std::optional<Error> createOwnedDirectory(const fs::path& path, const fs::path& ownerOf) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    return Error{"cannot create " + path.string() + ": " + std::strerror(errno),
                 errno == EEXIST ? "it already exists; remove it or choose another place"
                                 : "check the parent directory"};
  }
  return chownLike(path, ownerOf);
}

}  // namespace lifeboat::postgres
