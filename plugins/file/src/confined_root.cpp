#include "confined_root.hpp"

#include <system_error>
#include <vector>

#include "lifeboat/common/text.hpp"

namespace lifeboat::file_plugin {

namespace fs = std::filesystem;

namespace {

const std::string kPathHint =
    "path params are relative to the target's root, e.g. \"state/primary.txt\"; they may not "
    "start with '/' or contain '..'";

}  // namespace

Result<ConfinedRoot> ConfinedRoot::open(std::string_view root) {
  if (root.empty() || root.front() != '/') {
    return Error{"target root " + inQuotes(root) + " is not an absolute path",
                 "set root to an absolute directory, e.g. \"/var/tmp/lifeboat-drill\""};
  }
  if (root.find('\0') != std::string_view::npos) {
    return Error{"target root contains a NUL character", ""};
  }
  std::error_code error;
  fs::path canonical = fs::canonical(fs::path(root), error);
  if (error) {
    return Error{"target root " + inQuotes(root) + " cannot be opened: " + error.message(),
                 "create the directory before the run, or fix root in the target"};
  }
  if (!fs::is_directory(canonical, error)) {
    return Error{"target root " + inQuotes(root) + " is not a directory",
                 "root must name a directory; the paths of the actions are inside it"};
  }
  return ConfinedRoot(std::move(canonical));
}

bool ConfinedRoot::contains(const fs::path& candidate) const {
  const fs::path relative = candidate.lexically_relative(root_);
  return !relative.empty() && *relative.begin() != "..";
}

Result<Location> ConfinedRoot::locate(std::string_view param, std::string_view relative,
                                      bool createParents) const {
  const std::string what = "param " + inQuotes(param) + " (" + inQuotes(relative) + ")";
  if (relative.empty()) {
    return Error{"param " + inQuotes(param) + " is empty", kPathHint};
  }
  if (relative.find('\0') != std::string_view::npos) {
    return Error{"param " + inQuotes(param) + " contains a NUL character", kPathHint};
  }
  if (relative.front() == '/') {
    return Error{what + " is an absolute path; it must be relative to root " + root_.string(),
                 kPathHint};
  }
  std::vector<std::string> components;
  std::size_t start = 0;
  while (start <= relative.size()) {
    std::size_t end = relative.find('/', start);
    if (end == std::string_view::npos) {
      end = relative.size();
    }
    const std::string_view component = relative.substr(start, end - start);
    if (component == "..") {
      return Error{what + " contains '..'; paths may not leave root " + root_.string(), kPathHint};
    }
    if (!component.empty() && component != ".") {
      components.emplace_back(component);
    }
    start = end + 1;
  }
  if (components.empty()) {
    return Error{what + " names root itself, not something inside it", kPathHint};
  }

  fs::path parent = root_;
  for (std::size_t i = 0; i + 1 < components.size(); ++i) {
    parent /= components[i];
  }
  std::error_code error;
  // Resolves symlinks in the part that exists; the rest is appended as is
  // (it contains no `..`, so it cannot climb out of the resolved part).
  fs::path resolved = fs::weakly_canonical(parent, error);
  if (error) {
    return Error{what + ": cannot resolve " + parent.string() + ": " + error.message(), ""};
  }
  if (!contains(resolved)) {
    return Error{what + " leads through a symbolic link to " + resolved.string() +
                     ", outside root " + root_.string(),
                 "symbolic links inside root must point inside root"};
  }
  if (createParents) {
    fs::create_directories(resolved, error);
    if (error) {
      return Error{what + ": cannot create directory " + resolved.string() + ": " + error.message(),
                   "check that the directories above the path are directories and writable"};
    }
    // Check again: what was created is what the resolution promised.
    fs::path created = fs::canonical(resolved, error);
    if (error || created != resolved) {
      return Error{what + ": directory " + resolved.string() + " changed while it was created", ""};
    }
  }
  return Location{std::string(relative), std::move(resolved), components.back()};
}

Result<fs::path> ConfinedRoot::follow(const Location& location) const {
  std::error_code error;
  fs::path resolved = fs::weakly_canonical(location.full(), error);
  if (error) {
    return Error{"path " + inQuotes(location.relative) + ": cannot resolve " +
                     location.full().string() + ": " + error.message(),
                 ""};
  }
  if (!contains(resolved)) {
    return Error{"path " + inQuotes(location.relative) + " is a symbolic link to " +
                     resolved.string() + ", outside root " + root_.string(),
                 "symbolic links inside root must point inside root"};
  }
  return resolved;
}

}  // namespace lifeboat::file_plugin
