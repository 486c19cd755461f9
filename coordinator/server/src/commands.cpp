#include "lifeboat/coordinator/commands.hpp"

#include <optional>
#include <vector>

#include "lifeboat/common/text.hpp"
#include "lifeboat/comms/plan.hpp"
#include "lifeboat/coordinator/certs.hpp"
#include "lifeboat/coordinator/server.hpp"
#include "lifeboat/coordinator/tokens.hpp"
#include "lifeboat/store/store.hpp"

namespace lifeboat::coordinator {
namespace {

constexpr std::string_view kUsage =
    "usage: lifeboat-coordinator serve [--config FILE]\n"
    "       lifeboat-coordinator check [--config FILE]\n"
    "       lifeboat-coordinator certs init DIR [--agent NAME]... [--host NAME]...\n"
    "       lifeboat-coordinator token ROLE NAME     (ROLE: viewer, operator, approver)\n"
    "The config defaults to /etc/lifeboat/coordinator.toml (docs/coordinator.md).\n";

void printError(std::ostream& err, const Error& error) {
  err << "lifeboat-coordinator: " << error.message << '\n';
  if (!error.hint.empty()) {
    err << "hint: " << error.hint << '\n';
  }
}

// The config path of `serve`/`check`; nullopt (and a message) on bad usage.
std::optional<std::string> configOption(std::span<const std::string> args, std::ostream& err) {
  std::string path(kDefaultConfigPath);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      err << "lifeboat-coordinator: unexpected argument " << inQuotes(args[i]) << "\n" << kUsage;
      return std::nullopt;
    }
  }
  return path;
}

int loadConfig(const std::string& path, std::ostream& err, std::optional<ServerConfig>& config) {
  std::vector<std::string> warnings;
  Result<ServerConfig> loaded = loadServerConfig(path, &warnings);
  for (const std::string& warning : warnings) {
    err << warning << '\n';
  }
  if (!loaded) {
    err << loaded.error().message << '\n';
    if (!loaded.error().hint.empty()) {
      err << "hint: " << loaded.error().hint << '\n';
    }
    return 2;
  }
  config = std::move(*loaded);
  return 0;
}

int check(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::optional<std::string> path = configOption(args, err);
  if (!path)
    return 2;
  std::optional<ServerConfig> config;
  if (int code = loadConfig(*path, err, config); code != 0)
    return code;
  int problems = 0;
  for (const Error& error : checkTls(*config)) {
    printError(err, error);
    ++problems;
  }
  Result<std::unique_ptr<store::Store>> store = store::Store::open(config->database);
  if (!store) {
    printError(err, store.error());
    ++problems;
  }
  std::string comms;
  if (config->comms) {
    std::vector<std::string> warnings;
    Result<comms::Plan> plan = comms::loadPlan(config->comms->plan, &warnings);
    for (const std::string& warning : warnings) {
      err << warning << '\n';
    }
    if (!plan) {
      printError(err, plan.error());
      ++problems;
    } else {
      comms = ", comms plan " + config->comms->plan.string() + ": " +
              std::to_string(plan->audiences.size()) + " audience(s), " +
              std::to_string(plan->channels.size()) + " channel(s)";
    }
  }
  if (problems > 0) {
    err << *path << ": " << problems << " problem(s)\n";
    return 2;
  }
  out << *path << ": ok (store " << config->database.string() << " at schema version "
      << (*store)->schemaVersion() << ", " << config->tokens.size() << " token(s)" << comms
      << ")\n";
  return 0;
}

int serve(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::optional<std::string> path = configOption(args, err);
  if (!path)
    return 2;
  std::optional<ServerConfig> config;
  if (int code = loadConfig(*path, err, config); code != 0)
    return code;
  if (std::vector<Error> problems = checkTls(*config); !problems.empty()) {
    for (const Error& error : problems)
      printError(err, error);
    return 2;
  }
  Result<std::unique_ptr<Server>> server = Server::start(*config, err);
  if (!server) {
    printError(err, server.error());
    return 1;
  }
  out << (*server)->listeningLine() << std::endl;
  (*server)->run(true);
  return 0;
}

int token(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.size() != 2) {
    err << "lifeboat-coordinator token: give ROLE and NAME\n" << kUsage;
    return 2;
  }
  if (!parseRole(args[0])) {
    err << "lifeboat-coordinator token: unknown role " << inQuotes(args[0])
        << "; use viewer, operator or approver\n";
    return 2;
  }
  const std::string& name = args[1];
  bool printable = !name.empty() && name.size() <= 64;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      printable = false;
    }
  }
  if (!printable) {
    err << "lifeboat-coordinator token: NAME must be 1-64 characters without quotes, "
           "backslashes or control characters\n";
    return 2;
  }
  Result<std::string> made = makeToken();
  if (!made) {
    printError(err, made.error());
    return 1;
  }
  out << *made << "\n\n"
      << "# Give the token above to " << name
      << " (it is shown only now); add these lines to the coordinator's config:\n"
      << "[[token]]\n"
      << "name = \"" << name << "\"\n"
      << "role = \"" << args[0] << "\"\n"
      << "sha256 = \"" << sha256Hex(*made) << "\"\n";
  return 0;
}

}  // namespace

int runCoordinator(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  const std::string& command = args.front();
  const auto rest = args.subspan(1);
  if (command == "serve")
    return serve(rest, out, err);
  if (command == "check")
    return check(rest, out, err);
  if (command == "certs")
    return runCertsCommand(rest, out, err);
  if (command == "token")
    return token(rest, out, err);
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return 0;
  }
  err << "lifeboat-coordinator: unknown command " << inQuotes(command) << "\n" << kUsage;
  return 2;
}

}  // namespace lifeboat::coordinator
