#pragma once
// Loading runbook files for the CLI: read with the size cap, load with the
// plugin catalog, print diagnostics compiler style.

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/plugin_host/catalog.hpp"
#include "lifeboat/runbook/load.hpp"

namespace lifeboat::cli {

struct LoadedFile {
  std::string path;
  DiagnosticSink diagnostics;
  std::optional<runbook::Runbook> runbook;
};

LoadedFile loadFile(const std::string& path, plugin_host::Catalog& catalog,
                    const std::vector<std::pair<std::string, std::string>>& variables);

// Every diagnostic, in source order, then a summary line for failures.
void printDiagnostics(const LoadedFile& file, std::ostream& out);

}  // namespace lifeboat::cli
