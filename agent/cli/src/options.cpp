#include "options.hpp"

#include <algorithm>
#include <iostream>

namespace lifeboat::cli {

void addCommonOptions(CLI::App& command, CommonOptions& options) {
  command.add_option("--plugins-dir", options.pluginDirectories,
                     "Directory to search for plugins first (repeatable)");
  command.add_option("--var", options.variables,
                     "Set a runbook variable, NAME=VALUE (repeatable; overrides [vars])");
  command.add_option("--output", options.output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_str("text");
}

std::optional<std::vector<std::pair<std::string, std::string>>> parseVariables(
    const std::vector<std::string>& raw) {
  std::vector<std::pair<std::string, std::string>> variables;
  for (const std::string& entry : raw) {
    const std::size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::cerr << "lifeboat: error: --var " << entry.substr(0, entry.find('='))
                << " must look like NAME=VALUE\n";
      return std::nullopt;
    }
    const std::string name = entry.substr(0, equals);
    const bool valid =
        !(name[0] >= '0' && name[0] <= '9') && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        });
    if (!valid) {
      std::cerr << "lifeboat: error: --var name '" << name
                << "' is not valid: use letters, digits and '_', not starting with a digit\n";
      return std::nullopt;
    }
    variables.emplace_back(name, entry.substr(equals + 1));
  }
  return variables;
}

plugin_host::SearchPath searchPath(const CommonOptions& options) {
  std::vector<std::filesystem::path> directories(options.pluginDirectories.begin(),
                                                 options.pluginDirectories.end());
  return plugin_host::defaultSearchPath(directories);
}

void printError(const Error& error) {
  std::cerr << "lifeboat: error: " << error.message << '\n';
  if (!error.hint.empty()) {
    std::cerr << "  hint: " << error.hint << '\n';
  }
}

}  // namespace lifeboat::cli
