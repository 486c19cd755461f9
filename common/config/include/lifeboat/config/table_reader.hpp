#pragma once
// Reads one TOML table against the keys it may hold: unknown keys, wrong
// types and missing required keys are reported to the sink with the table's
// context ("step 'promote'") and a did-you-mean where one is close.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/config/document.hpp"

namespace lifeboat::config {

class TableReader {
 public:
  // Reports unknown keys at once. `context` names the table in messages.
  TableReader(const Node& table, std::string context,
              std::initializer_list<std::string_view> allowed, DiagnosticSink& sink);

  const Node* node(std::string_view key) const { return table_.find(key); }
  bool has(std::string_view key) const { return table_.find(key) != nullptr; }
  SourceLocation where(std::string_view key) const;

  std::optional<std::string> string(std::string_view key, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  // A float or an integer; ranges are the caller's to check.
  std::optional<double> number(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<Milliseconds> duration(std::string_view key, bool required = false);
  std::optional<std::vector<std::string>> strings(std::string_view key, bool required = false);
  const Node* table(std::string_view key, bool required = false);
  // A string that must be one of `choices`.
  std::optional<std::string> choice(std::string_view key,
                                    std::initializer_list<std::string_view> choices);

  void requireKey(std::string_view key);
  void wrongType(std::string_view key, const Node& value, std::string_view expected,
                 std::string hint = {});

  const std::string& context() const { return context_; }
  DiagnosticSink& sink() { return sink_; }

 private:
  const Node& table_;
  std::string context_;
  DiagnosticSink& sink_;
};

// "'key' in <context>" for messages.
std::string keyIn(std::string_view key, std::string_view context);

// A variable's name ([vars] of a runbook or of the agent config): letters,
// digits and '_', not starting with a digit.
bool isVariableName(std::string_view name);
// A variable's value as text: a string as it is, an integer in decimal, a
// boolean as true/false; nullopt for any other kind.
std::optional<std::string> variableText(const Node& value);

}  // namespace lifeboat::config
