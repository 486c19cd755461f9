#pragma once
// Where runs live (docs/protocol.md, "The journal file"): one folder per run
// under the state directory, named by a sortable run id.

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::engine {

// --state-dir > LIFEBOAT_STATE_DIR > /var/lib/lifeboat (root) or
// $XDG_STATE_HOME/lifeboat (else ~/.local/state/lifeboat). The agent config's
// `state_dir` slots in after the environment once the config exists.
std::filesystem::path resolveStateDirectory(const std::optional<std::string>& flag);

// Creates the state directory (mode 0700) when missing.
Result<std::filesystem::path> ensureStateDirectory(const std::filesystem::path& directory);

// UTC time to the second, then a dash and four random [a-z0-9]:
// 20261124T225610Z-k3f9. Sorting run ids sorts runs by start.
std::string newRunId(Timestamp now, std::mt19937_64& random);

bool isValidRunId(std::string_view id);

// The run folders under `stateDirectory` (those holding a journal), oldest
// first.
std::vector<std::string> listRuns(const std::filesystem::path& stateDirectory);

// The run named `idOrPrefix`: an exact id, or a prefix that only one run has,
// or `last` for the newest run.
Result<std::string> findRun(const std::filesystem::path& stateDirectory,
                            std::string_view idOrPrefix);

}  // namespace lifeboat::engine
