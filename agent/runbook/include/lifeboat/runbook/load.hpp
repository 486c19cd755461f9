#pragma once
// Runbook loading: input guard -> toml++ -> typed model -> validation.
// Every problem is reported to the sink at once, compiler style; a runbook is
// returned only when there are no errors (warnings allowed).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/runbook/input_guard.hpp"
#include "lifeboat/runbook/model.hpp"

namespace lifeboat::runbook {

// Answers a plugin's `describe`, or says why it cannot (missing, broken).
using PluginDescriber =
    std::function<Result<const plugin::PluginDescription*>(std::string_view pluginName)>;

struct LoadOptions {
  InputLimits limits;
  // Empty: plugin parameters are not checked (the fuzzer, unit tests of the
  // parser). `lifeboat validate` always sets it.
  PluginDescriber describePlugin;
  // --var NAME=VALUE, overriding [vars].
  std::vector<std::pair<std::string, std::string>> variables;
};

// `path` is used only for the runbook's `path` field; diagnostics carry
// line:col and the caller prints the path.
std::optional<Runbook> loadRunbook(std::string_view text, std::string_view path,
                                   const LoadOptions& options, DiagnosticSink& sink);

}  // namespace lifeboat::runbook
