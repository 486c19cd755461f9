#include "lifeboat/plugin_host/catalog.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <system_error>
#include <variant>

#include "lifeboat/common/duration.hpp"

namespace lifeboat::plugin_host {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDescribeRequest = "{\"v\":1,\"op\":\"describe\"}\n";
// docs/plugins.md: the agent keeps 1 MiB of each stream, and no line may be longer.
constexpr std::size_t kMaxDescribeOutput = 1024 * 1024;
// A plugin that ignores SIGTERM during describe gets SIGKILL this much later.
constexpr std::chrono::milliseconds kDescribeKillGrace{2'000};
constexpr std::size_t kStderrTailLines = 20;
constexpr std::size_t kStderrTailBytes = 2'000;

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// The last lines of a plugin's stderr, indented under a message, or nothing.
std::string stderrTail(const std::string& standardError) {
  std::string_view text(standardError);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return {};
  }
  std::size_t start = 0;
  std::size_t searchEnd = text.size();
  for (std::size_t lines = 0; lines < kStderrTailLines; ++lines) {
    const std::size_t newline =
        searchEnd == 0 ? std::string_view::npos : text.rfind('\n', searchEnd - 1);
    if (newline == std::string_view::npos) {
      start = 0;
      break;
    }
    start = newline + 1;
    searchEnd = newline;
  }
  std::string_view tail = text.substr(start);
  std::string result = "\n  its stderr ended with:";
  if (tail.size() > kStderrTailBytes) {
    tail = tail.substr(tail.size() - kStderrTailBytes);
    result += "\n    [...]";
  }
  std::size_t position = 0;
  while (position <= tail.size()) {
    const std::size_t newline = tail.find('\n', position);
    const std::size_t end = newline == std::string_view::npos ? tail.size() : newline;
    result += "\n    ";
    result.append(tail.substr(position, end - position));
    if (newline == std::string_view::npos) {
      break;
    }
    position = newline + 1;
  }
  return result;
}

std::string exitDescription(const process::Outcome& outcome) {
  if (outcome.signal != 0) {
    return "was killed by signal " + std::to_string(outcome.signal);
  }
  return "exited with status " + std::to_string(outcome.exitCode);
}

std::string directoryList(const SearchPath& searchPath) {
  if (searchPath.directories.empty()) {
    return "(no plugin directories are configured)";
  }
  std::string list;
  for (const fs::path& directory : searchPath.directories) {
    list += list.empty() ? "" : ", ";
    list += directory.string();
  }
  return list;
}

bool isExecutableFile(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0 && (info.st_mode & 0111) != 0;
}

void addDirectory(std::vector<fs::path>& directories, fs::path directory) {
  if (directory.empty()) {
    return;
  }
  directory = directory.lexically_normal();
  if (std::find(directories.begin(), directories.end(), directory) == directories.end()) {
    directories.push_back(std::move(directory));
  }
}

}  // namespace

SearchPath defaultSearchPath(const std::vector<fs::path>& explicitDirectories) {
  SearchPath searchPath;
  for (const fs::path& directory : explicitDirectories) {
    addDirectory(searchPath.directories, directory);
  }
  if (const char* variable = std::getenv("LIFEBOAT_PLUGINS_PATH"); variable != nullptr) {
    std::string_view rest(variable);
    while (true) {
      const std::size_t colon = rest.find(':');
      addDirectory(searchPath.directories, fs::path(rest.substr(0, colon)));
      if (colon == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(colon + 1);
    }
  }
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error && executable.has_parent_path()) {
    addDirectory(searchPath.directories,
                 executable.parent_path() / ".." / "lib" / "lifeboat" / "plugins");
  }
  addDirectory(searchPath.directories, "/usr/lib/lifeboat/plugins");
  return searchPath;
}

bool isValidPluginName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Catalog::Catalog(SearchPath searchPath, process::Runner& runner,
                 std::chrono::milliseconds describeTimeout)
    : searchPath_(std::move(searchPath)), runner_(runner), describeTimeout_(describeTimeout) {}

std::optional<fs::path> Catalog::locate(std::string_view name) const {
  if (!isValidPluginName(name)) {
    return std::nullopt;
  }
  for (const fs::path& directory : searchPath_.directories) {
    fs::path candidate = directory / std::string(name);
    if (isExecutableFile(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

namespace {

// Runs one describe and turns whatever the plugin did into a description or
// an Error naming the plugin and its path.
Result<std::shared_ptr<plugin::PluginDescription>> describeAt(std::string_view name,
                                                              const fs::path& path,
                                                              process::Runner& runner,
                                                              std::chrono::milliseconds timeout) {
  const std::string who = "plugin " + quote(name) + " (" + path.string() + ")";
  const std::string byHand = "run it by hand to see what it does: echo '" +
                             std::string(kDescribeRequest.substr(0, kDescribeRequest.size() - 1)) +
                             "' | " + path.string();

  process::Command command;
  command.argv = {path.string()};
  command.standardInput = std::string(kDescribeRequest);
  command.timeout = timeout;
  command.killGrace = kDescribeKillGrace;
  command.maxCapturedBytes = kMaxDescribeOutput;
  auto ran = runner.run(command);
  if (!ran) {
    return Error{"cannot run " + who + ": " + ran.error().message, ran.error().hint};
  }
  const process::Outcome& outcome = *ran;
  const std::string tail = stderrTail(outcome.standardError);

  if (outcome.timedOut) {
    return Error{who + " did not answer describe within " + formatDuration(timeout) + tail,
                 "describe must answer at once, without touching any target; " + byHand};
  }
  if (outcome.outputTruncated && outcome.standardOutput.size() >= kMaxDescribeOutput) {
    return Error{who + " wrote more than 1 MiB to stdout during describe" + tail,
                 "stdout is for protocol lines only; logs belong on stderr"};
  }

  // Split stdout into lines; every line is protocol, and the final answer is last.
  std::optional<plugin::FinalLine> final;
  std::string_view rest(outcome.standardOutput);
  std::size_t lineNumber = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    ++lineNumber;
    if (final) {
      return Error{who + " broke the protocol: stdout line " + std::to_string(lineNumber) +
                       " comes after the final answer" + tail,
                   "the {\"ok\":...} line must be the plugin's last line on stdout"};
    }
    auto parsed = plugin::parseOutputLine(line);
    if (!parsed) {
      return Error{who + " broke the protocol on stdout line " + std::to_string(lineNumber) + ": " +
                       parsed.error().message + tail,
                   parsed.error().hint.empty() ? byHand : parsed.error().hint};
    }
    if (auto* answer = std::get_if<plugin::FinalLine>(&*parsed)) {
      final = std::move(*answer);
    }
  }

  if (!final) {
    if (!outcome.succeeded()) {
      return Error{
          who + " " + exitDescription(outcome) + " during describe, without an answer" + tail,
          byHand};
    }
    return Error{who + " ended without a final {\"ok\":...} line on stdout" + tail,
                 "a plugin must end with {\"ok\":true,\"plugin\":{...}} for describe; " + byHand};
  }
  if (!final->ok) {
    std::string message = who + " refused describe: " + final->error;
    if (outcome.signal != 0 || outcome.exitCode == 0) {
      message += " (and it " + exitDescription(outcome) + ")";
    }
    return Error{message + tail, final->hint};
  }
  if (!outcome.succeeded()) {
    return Error{who + " answered ok:true but " + exitDescription(outcome) + tail,
                 "a plugin exits with status 0 after {\"ok\":true,...}; see docs/plugins.md"};
  }

  boost::system::error_code jsonError;
  const boost::json::value answer = boost::json::parse(final->json, jsonError);
  const boost::json::value* member =
      !jsonError && answer.is_object() ? answer.get_object().if_contains("plugin") : nullptr;
  if (member == nullptr) {
    return Error{who + " answered describe without a 'plugin' member",
                 "the describe answer is {\"ok\":true,\"plugin\":{...}}; see docs/plugins.md"};
  }
  auto description = plugin::parseDescription(*member);
  if (!description) {
    return Error{who + ": " + description.error().message, description.error().hint};
  }
  if (description->name != name) {
    return Error{who + " describes itself as " + quote(description->name) +
                     ", but its file is named " + quote(name),
                 "a plugin's executable is named exactly like the 'name' in its description; "
                 "rename the file or fix the plugin"};
  }
  return std::make_shared<plugin::PluginDescription>(std::move(description).value());
}

}  // namespace

Result<const plugin::PluginDescription*> Catalog::describe(std::string_view name) {
  if (!isValidPluginName(name)) {
    return Error{"invalid plugin name " + quote(name),
                 "plugin names use only lower-case letters, digits, '_' and '-'"};
  }
  auto cached = cache_.find(name);
  if (cached == cache_.end()) {
    Result<std::shared_ptr<plugin::PluginDescription>> described =
        [&]() -> Result<std::shared_ptr<plugin::PluginDescription>> {
      if (const auto path = locate(name)) {
        return describeAt(name, *path, runner_, describeTimeout_);
      }
      // Say why: nothing there at all, or a file that is not executable.
      for (const fs::path& directory : searchPath_.directories) {
        const fs::path candidate = directory / std::string(name);
        std::error_code error;
        if (fs::is_regular_file(candidate, error)) {
          return Error{"plugin " + quote(name) + " at " + candidate.string() +
                           " is not executable by the agent",
                       "make it executable: chmod +x " + candidate.string()};
        }
      }
      return Error{"plugin " + quote(name) + " not found; looked in " + directoryList(searchPath_),
                   "install the plugin as an executable named " + quote(name) +
                       " in one of these directories, or name its directory with "
                       "--plugins-dir (or LIFEBOAT_PLUGINS_PATH)"};
    }();
    cached = cache_.emplace(std::string(name), std::move(described)).first;
  }
  if (!cached->second) {
    return cached->second.error();
  }
  return static_cast<const plugin::PluginDescription*>(cached->second->get());
}

}  // namespace lifeboat::plugin_host
