#pragma once
// The runbooks `lifeboat watch` watches, loaded and ready for checking: the
// runbook itself (for the run), its triggers with their ${...} references
// expanded (secrets included; the Redactor masks them in every detail), and
// one service per runbook.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lifeboat/common/redactor.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/daemon/agent_config.hpp"
#include "lifeboat/plugin_host/catalog.hpp"
#include "lifeboat/runbook/model.hpp"

namespace lifeboat::daemon {

struct WatchedRunbook {
  std::filesystem::path file;
  runbook::Runbook book;
  std::vector<runbook::Trigger> triggers;  // expanded, in file order
  // The targets plugin triggers act on, with ${vars.*} and secrets expanded
  // like the triggers themselves (a run expands `book`'s own at run time).
  std::map<std::string, runbook::Target, std::less<>> probeTargets;
  Redactor redactor;
  // The agent config's [vars], applied to `book` like --var and recorded
  // with each run.
  std::vector<std::pair<std::string, std::string>> variables;
};

// Loads every runbook the config names. All problems at once: one Error whose
// message has the diagnostics of every file (`path:line:col: error: ...`), a
// runbook without [[trigger]] (nothing to watch), or two runbooks for one
// service.
Result<std::vector<std::shared_ptr<const WatchedRunbook>>> loadWatchedRunbooks(
    const AgentConfig& config, plugin_host::Catalog& catalog);

}  // namespace lifeboat::daemon
