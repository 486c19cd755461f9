#pragma once
// Finds plugin executables and asks them to describe themselves (protocol v1,
// docs/plugins.md). Owned by one thread; not thread-safe.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/process/runner.hpp"

namespace lifeboat::plugin_host {

// Directories searched in order for an executable named exactly like the
// plugin (`postgres`, `file`). Plugin names are [a-z0-9_-]+, so a name can
// never reach outside these directories.
struct SearchPath {
  std::vector<std::filesystem::path> directories;
};

// --plugins-dir values first, then LIFEBOAT_PLUGINS_PATH (colon-separated),
// then <directory of the running executable>/../lib/lifeboat/plugins, then
// /usr/lib/lifeboat/plugins.
SearchPath defaultSearchPath(const std::vector<std::filesystem::path>& explicitDirectories);

bool isValidPluginName(std::string_view name);

class Catalog {
 public:
  Catalog(SearchPath searchPath, process::Runner& runner,
          std::chrono::milliseconds describeTimeout = std::chrono::seconds(10));

  // The executable for `name`, if one is found and executable.
  std::optional<std::filesystem::path> locate(std::string_view name) const;

  // Runs `<plugin>` with {"v":1,"op":"describe"} once per name and caches the
  // answer (errors too). Errors say which plugin, where it was looked for or
  // what it did wrong (timed out, exited non-zero, broke the protocol,
  // answered ok:false with its own error and hint).
  Result<const plugin::PluginDescription*> describe(std::string_view name);

  const SearchPath& searchPath() const { return searchPath_; }

 private:
  SearchPath searchPath_;
  process::Runner& runner_;
  std::chrono::milliseconds describeTimeout_;
  std::map<std::string, Result<std::shared_ptr<plugin::PluginDescription>>, std::less<>> cache_;
};

}  // namespace lifeboat::plugin_host
