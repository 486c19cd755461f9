#include "orphans.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string_view>
#include <thread>

#include "lifeboat/common/read_file.hpp"

namespace lifeboat::engine {
namespace {

bool isNumber(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// From /proc/PID/stat: the state letter and the process group. The command
// name (2nd field) may hold spaces and parentheses: parse after the last ')'.
bool readStat(pid_t pid, char& state, pid_t& group) {
  FileRead read = readFile("/proc/" + std::to_string(pid) + "/stat", {.maxBytes = 4096});
  if (read.status != FileRead::Status::ok) {
    return false;
  }
  const std::size_t close = read.contents.rfind(')');
  if (close == std::string::npos || close + 4 >= read.contents.size()) {
    return false;
  }
  // ") S PPID PGRP ..."
  std::string_view rest = std::string_view(read.contents).substr(close + 2);
  state = rest.front();
  rest.remove_prefix(2);
  rest.remove_prefix(std::min(rest.size(), rest.find(' ') + 1));  // ppid
  group = static_cast<pid_t>(std::atol(std::string(rest.substr(0, rest.find(' '))).c_str()));
  return group > 0;
}

bool carriesMarker(pid_t pid, const std::string& marker) {
  FileRead read = readFile("/proc/" + std::to_string(pid) + "/environ", {.maxBytes = 1024 * 1024});
  if (read.status != FileRead::Status::ok) {
    return false;
  }
  std::string_view environment = read.contents;
  while (!environment.empty()) {
    const std::size_t end = environment.find('\0');
    const std::string_view entry = environment.substr(0, end);
    if (entry == marker) {
      return true;
    }
    if (end == std::string_view::npos) {
      break;
    }
    environment.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace

std::vector<std::pair<pid_t, pid_t>> findRunProcesses(const std::string& runId) {
  const std::string marker = "LIFEBOAT_RUN_ID=" + runId;
  const pid_t self = ::getpid();
  std::vector<std::pair<pid_t, pid_t>> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (!isNumber(name)) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    char state = 0;
    pid_t group = 0;
    if (pid == self || !readStat(pid, state, group) || state == 'Z' || state == 'X') {
      continue;
    }
    if (carriesMarker(pid, marker)) {
      found.emplace_back(pid, group);
    }
  }
  return found;
}

std::vector<pid_t> stopRunProcesses(const std::string& runId, std::chrono::milliseconds grace) {
  std::set<pid_t> groups;
  for (const auto& [pid, group] : findRunProcesses(runId)) {
    groups.insert(group);
    ::kill(-group, SIGTERM);
    ::kill(pid, SIGTERM);  // also when it left its group
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!groups.empty() && std::chrono::steady_clock::now() < deadline) {
    if (findRunProcesses(runId).empty()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, group] : findRunProcesses(runId)) {
    groups.insert(group);
    ::kill(-group, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  return {groups.begin(), groups.end()};
}

}  // namespace lifeboat::engine
