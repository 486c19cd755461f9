#pragma once
// Plugin protocol v1 (docs/plugins.md): the types both the agent and the
// plugin SDK use to speak it. A plugin is an executable; the agent writes one
// JSON request object to its stdin and reads JSON lines from its stdout:
// any number of {"progress": "..."} lines, then exactly one final
// {"ok": true, ...} or {"ok": false, "error": "...", "hint": "..."} line.

#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::plugin {

inline constexpr int kProtocolVersion = 1;

enum class Operation { describe, run, check };
std::string_view operationName(Operation operation);
std::optional<Operation> parseOperation(std::string_view name);

// Types a parameter (of an action, or of a target) can have. `duration` is a
// string in Lifeboat's duration syntax; `string_array` an array of strings;
// `table` any JSON object.
enum class ParamType { string, integer, number, boolean, duration, string_array, table };
std::string_view paramTypeName(ParamType type);
std::optional<ParamType> parseParamType(std::string_view name);

// Every member has a default member initializer, so a plugin can declare its
// schema with designated initializers under -Wextra.
struct ParamSchema {
  std::string name{};
  ParamType type = ParamType::string;
  bool required = false;
  // A secret parameter's value is redacted wherever the agent shows it.
  bool secret = false;
  std::string description{};
  std::string defaultValue{};          // as JSON text; empty when none
  std::vector<std::string> allowed{};  // for strings: the only accepted values (empty = any)
};

struct OutputSchema {
  std::string name{};
  std::string description{};
};

struct ActionSchema {
  std::string name{};
  std::string description{};
  std::vector<ParamSchema> params{};
  std::vector<OutputSchema> outputs{};
  // A probe only reads state: it may run under op "check" (wait modifiers,
  // plugin triggers).
  bool probe = false;
  // The action that undoes this one, if the plugin offers one (a hint for
  // runbook authors and for `rollback` validation).
  std::string undoneBy{};
  // The action reports measurements.rpo_seconds.
  bool measuresRpo = false;
};

struct PluginDescription {
  std::string name{};
  std::string version{};
  std::string description{};
  std::vector<ParamSchema> targetParams{};  // fields a [targets.X] using this plugin may set
  std::vector<ActionSchema> actions{};

  const ActionSchema* findAction(std::string_view action) const;
};

// The "describe" answer, as a plugin writes it: the final line's object
// {"ok":true,"plugin":{...}} carries a `plugin` member in the layout of
// toJson(). Unknown members are ignored (forward compatible); missing or
// mistyped required members are an Error naming the member.
Result<PluginDescription> parseDescription(const boost::json::value& plugin);
boost::json::value toJson(const PluginDescription& description);

// A JSON value's kind in words, for messages: "a string", "an integer",
// "a number" (a float), "a boolean", "an array", "a table", "null".
std::string_view jsonKindName(const boost::json::value& value);

// What `param` expects, in words: "an integer", "an array of strings", ...
std::string_view paramTypeExpectation(ParamType type);

// Empty when `value` fits `param` (type, duration syntax, allowed values);
// otherwise what is wrong, phrased to follow the parameter's name:
// "must be an integer, not a string", "is not one of the allowed values (...)".
// A secret parameter's value is never quoted in the answer.
std::string paramMismatch(const ParamSchema& param, const boost::json::value& value);

// One parsed stdout line of a plugin.
struct ProgressLine {
  std::string message;
};
struct FinalLine {
  bool ok = false;
  std::string error;  // when !ok
  std::string hint;   // when !ok, may be empty
  // The whole object (outputs, measurements, plugin...) for the caller to read.
  std::string json;
};

// Classifies one line of plugin output. An Error says why the line breaks the
// protocol (not JSON, not an object, neither progress nor a final answer).
Result<std::variant<ProgressLine, FinalLine>> parseOutputLine(std::string_view line);

}  // namespace lifeboat::plugin
