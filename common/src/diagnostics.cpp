#include "lifeboat/common/diagnostics.hpp"

#include <algorithm>

namespace lifeboat {

void DiagnosticSink::error(SourceLocation where, std::string message, std::string hint) {
  add({Severity::error, where, std::move(message), std::move(hint)});
}

void DiagnosticSink::warning(SourceLocation where, std::string message, std::string hint) {
  add({Severity::warning, where, std::move(message), std::move(hint)});
}

void DiagnosticSink::add(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::error) {
    ++errors_;
  }
  diagnostics_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> DiagnosticSink::sorted() const {
  std::vector<Diagnostic> result = diagnostics_;
  std::stable_sort(result.begin(), result.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.where < b.where; });
  return result;
}

namespace {
std::string prefix(std::string_view path, SourceLocation where) {
  std::string text(path);
  if (where.line > 0) {
    text += ':' + std::to_string(where.line) + ':' + std::to_string(where.column);
  }
  return text;
}
}  // namespace

std::string formatDiagnostic(std::string_view path, const Diagnostic& diagnostic) {
  const std::string head = prefix(path, diagnostic.where);
  std::string text = head;
  text += diagnostic.severity == Severity::error ? ": error: " : ": warning: ";
  text += diagnostic.message;
  if (!diagnostic.hint.empty()) {
    text += '\n' + head + ": hint: " + diagnostic.hint;
  }
  return text;
}

}  // namespace lifeboat
