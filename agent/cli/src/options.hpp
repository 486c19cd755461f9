#pragma once
// Options shared by the subcommands that load a runbook.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/plugin_host/catalog.hpp"

namespace lifeboat::cli {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 2;

struct CommonOptions {
  std::vector<std::string> pluginDirectories;
  std::vector<std::string> variables;  // NAME=VALUE
  std::string output = "text";
};

void addCommonOptions(CLI::App& command, CommonOptions& options);

// NAME=VALUE pairs, or nullopt after printing what is wrong.
std::optional<std::vector<std::pair<std::string, std::string>>> parseVariables(
    const std::vector<std::string>& raw);

plugin_host::SearchPath searchPath(const CommonOptions& options);

// "lifeboat: error: MESSAGE" and, when there is one, "  hint: HINT".
void printError(const Error& error);

}  // namespace lifeboat::cli
