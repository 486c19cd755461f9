#pragma once
// Compiler-style diagnostics: `path:line:col: error: message`, optionally
// followed by `path:line:col: hint: ...`. Every component that checks user
// input reports through a DiagnosticSink so that all problems are reported at
// once, not just the first.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lifeboat {

// 1-based line and column; line 0 means "the whole file".
struct SourceLocation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const SourceLocation&, const SourceLocation&) = default;
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation where;
  std::string message;
  std::string hint;  // empty when none
};

class DiagnosticSink {
 public:
  void error(SourceLocation where, std::string message, std::string hint = {});
  void warning(SourceLocation where, std::string message, std::string hint = {});
  void add(Diagnostic diagnostic);

  bool hasErrors() const { return errors_ > 0; }
  std::size_t errorCount() const { return errors_; }
  std::size_t warningCount() const { return diagnostics_.size() - errors_; }

  // Diagnostics in source order (stable for equal locations).
  std::vector<Diagnostic> sorted() const;
  const std::vector<Diagnostic>& all() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
  std::size_t errors_ = 0;
};

// `path:line:col: error: message` (+ a hint line). A location with line 0
// prints as `path: error: message`.
std::string formatDiagnostic(std::string_view path, const Diagnostic& diagnostic);

}  // namespace lifeboat
