#include "runbook_files.hpp"

namespace lifeboat::cli {

LoadedFile loadFile(const std::string& path, plugin_host::Catalog& catalog,
                    const std::vector<std::pair<std::string, std::string>>& variables) {
  LoadedFile file;
  file.path = path;
  runbook::LoadOptions options;
  options.variables = variables;
  options.describePlugin = [&catalog](std::string_view name) { return catalog.describe(name); };
  Result<std::string> text = runbook::readInputFile(path, options.limits);
  if (!text) {
    file.diagnostics.error(SourceLocation{}, text.error().message, text.error().hint);
    return file;
  }
  file.runbook = runbook::loadRunbook(*text, path, options, file.diagnostics);
  return file;
}

void printDiagnostics(const LoadedFile& file, std::ostream& out) {
  for (const Diagnostic& diagnostic : file.diagnostics.sorted()) {
    out << formatDiagnostic(file.path, diagnostic) << '\n';
  }
  const std::size_t errors = file.diagnostics.errorCount();
  const std::size_t warnings = file.diagnostics.warningCount();
  if (errors > 0) {
    out << file.path << ": " << errors << (errors == 1 ? " error" : " errors");
    if (warnings > 0) {
      out << ", " << warnings << (warnings == 1 ? " warning" : " warnings");
    }
    out << '\n';
  }
}

}  // namespace lifeboat::cli
