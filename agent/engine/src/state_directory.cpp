#include "lifeboat/engine/state_directory.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "lifeboat/journal/journal.hpp"

namespace lifeboat::engine {

std::filesystem::path resolveStateDirectory(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) {
    return *flag;
  }
  if (const char* fromEnvironment = std::getenv("LIFEBOAT_STATE_DIR");
      fromEnvironment != nullptr && *fromEnvironment != '\0') {
    return fromEnvironment;
  }
  if (::geteuid() == 0) {
    return "/var/lib/lifeboat";
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "lifeboat";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/tmp") / ".local/state/lifeboat";
}

Result<std::filesystem::path> ensureStateDirectory(const std::filesystem::path& directory) {
  std::error_code error;
  if (std::filesystem::is_directory(directory, error)) {
    return directory;
  }
  std::filesystem::create_directories(directory, error);
  if (error) {
    return Error{"cannot create state directory " + directory.string() + ": " + error.message(),
                 "pass --state-dir with a writable directory, or set LIFEBOAT_STATE_DIR"};
  }
  ::chmod(directory.c_str(), 0700);
  return directory;
}

std::string newRunId(Timestamp now, std::mt19937_64& random) {
  std::string stamp = formatTimestamp(now);  // 2026-11-24T22:56:10.123Z
  std::string id;
  for (char c : stamp.substr(0, 19)) {
    if (c != '-' && c != ':') {
      id.push_back(c);
    }
  }
  id += "Z-";
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  for (int i = 0; i < 4; ++i) {
    id.push_back(kAlphabet[pick(random)]);
  }
  return id;
}

bool isValidRunId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && id.front() != '.' &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
         });
}

std::vector<std::string> listRuns(const std::filesystem::path& stateDirectory) {
  std::vector<std::string> runs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(stateDirectory, error)) {
    const std::string name = entry.path().filename().string();
    if (isValidRunId(name) &&
        std::filesystem::is_regular_file(entry.path() / journal::kJournalFileName, error)) {
      runs.push_back(name);
    }
  }
  std::sort(runs.begin(), runs.end());
  return runs;
}

Result<std::string> findRun(const std::filesystem::path& stateDirectory,
                            std::string_view idOrPrefix) {
  const std::vector<std::string> runs = listRuns(stateDirectory);
  if (runs.empty()) {
    return Error{"no runs in " + stateDirectory.string(),
                 "pass the --state-dir the run used, or set LIFEBOAT_STATE_DIR"};
  }
  if (idOrPrefix == "last") {
    return runs.back();
  }
  std::vector<std::string> matches;
  for (const std::string& run : runs) {
    if (run == idOrPrefix) {
      return run;
    }
    if (run.starts_with(idOrPrefix)) {
      matches.push_back(run);
    }
  }
  if (matches.size() == 1) {
    return matches.front();
  }
  if (matches.empty()) {
    return Error{"no run " + std::string(idOrPrefix) + " in " + stateDirectory.string(),
                 "`lifeboat runs` lists the runs there"};
  }
  return Error{"run id prefix " + std::string(idOrPrefix) + " matches " +
                   std::to_string(matches.size()) + " runs",
               "give more of the id; `lifeboat runs` lists them"};
}

}  // namespace lifeboat::engine
