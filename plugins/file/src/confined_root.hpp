#pragma once
// A directory that relative paths may not leave. Paths are checked lexically
// (not empty, not absolute, no `..`), then the directories above the final
// name are resolved through symlinks and must still lie inside the root. The
// final name itself is not followed unless asked: writing, moving or removing
// a symlink acts on the link, never on what it points to.
//
// This guards against mistakes in runbooks, not against another process that
// swaps directories for symlinks while the plugin runs.

#include <filesystem>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::file_plugin {

// Where a relative path lands: an existing or creatable directory inside the
// root, and one name in it.
struct Location {
  std::string relative;          // as the runbook wrote it, for messages
  std::filesystem::path parent;  // absolute, symlink-free, inside the root
  std::string name;              // never empty, ".", ".." or containing '/'

  std::filesystem::path full() const { return parent / name; }
};

class ConfinedRoot {
 public:
  // `root` must be an absolute path of an existing directory.
  static Result<ConfinedRoot> open(std::string_view root);

  // Resolves `relative` (the value of param `param`, named in errors). With
  // `createParents`, missing directories above the name are created.
  Result<Location> locate(std::string_view param, std::string_view relative,
                          bool createParents) const;

  // The location with its final name followed when it is a symlink: the
  // absolute path it ends at, which must lie inside the root.
  Result<std::filesystem::path> follow(const Location& location) const;

  const std::filesystem::path& path() const { return root_; }

 private:
  explicit ConfinedRoot(std::filesystem::path root) : root_(std::move(root)) {}
  bool contains(const std::filesystem::path& candidate) const;

  std::filesystem::path root_;  // canonical
};

}  // namespace lifeboat::file_plugin
