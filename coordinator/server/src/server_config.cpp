#include "lifeboat/coordinator/server_config.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <set>
#include <sstream>
#include <system_error>

#include "lifeboat/common/text.hpp"
#include "lifeboat/config/document.hpp"
#include "lifeboat/config/input_guard.hpp"
#include "lifeboat/config/table_reader.hpp"

namespace lifeboat::coordinator {
namespace {

namespace fs = std::filesystem;
using config::Node;
using config::TableReader;

fs::path resolveAgainst(const fs::path& base, const std::string& value) {
  const fs::path given(value);
  return given.is_absolute() ? given : (base / given).lexically_normal();
}

// "HOST:PORT" with HOST an IP address ("[::1]:7443" for IPv6).
std::optional<ListenAddress> parseListen(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int number = std::stoi(port);
  boost::system::error_code invalid;
  boost::asio::ip::make_address(host, invalid);
  if (number > 65535 || invalid) {
    return std::nullopt;
  }
  return ListenAddress{host, static_cast<std::uint16_t>(number)};
}

void readListener(const Node& table, const fs::path& base, std::string_view name, bool agents,
                  ListenAddress& listen, net::TlsServerOptions& tls, DiagnosticSink& sink) {
  const std::string context = "[" + std::string(name) + "]";
  TableReader reader =
      agents
          ? TableReader(table, context, {"listen", "cert_file", "key_file", "client_ca_file"}, sink)
          : TableReader(table, context, {"listen", "cert_file", "key_file"}, sink);
  if (auto text = reader.string("listen", true)) {
    if (auto parsed = parseListen(*text)) {
      listen = *parsed;
    } else {
      sink.error(reader.where("listen"), context + " listen " + inQuotes(*text) + " is not IP:PORT",
                 agents ? "e.g. \"0.0.0.0:7443\" or \"[::1]:7443\" (port 0: any free port)"
                        : "e.g. \"127.0.0.1:8443\" or \"[::1]:8443\" (port 0: any free port)");
    }
  }
  if (auto file = reader.string("cert_file", true)) {
    tls.certificate = resolveAgainst(base, *file);
  }
  if (auto file = reader.string("key_file", true)) {
    tls.privateKey = resolveAgainst(base, *file);
  }
  if (agents) {
    if (auto file = reader.string("client_ca_file", true)) {
      tls.clientCa = resolveAgainst(base, *file);
    }
    tls.requireClientCertificate = true;
  }
}

void readToken(const Node& table, std::size_t index, ServerConfig& config, DiagnosticSink& sink) {
  const std::string context = "[[token]] #" + std::to_string(index + 1);
  TableReader reader(table, context, {"name", "role", "sha256"}, sink);
  TokenGrant grant;
  bool complete = true;
  if (auto name = reader.string("name", true)) {
    if (name->empty() || name->size() > 64 || std::any_of(name->begin(), name->end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      sink.error(reader.where("name"),
                 context + " name must be 1-64 characters, no control characters",
                 "a person's or a service's name, e.g. \"alice\"");
      complete = false;
    }
    grant.name = *name;
  } else {
    complete = false;
  }
  if (auto role = reader.choice("role", {"viewer", "operator", "approver"})) {
    grant.role = *parseRole(*role);
  } else {
    if (!reader.has("role")) {
      reader.requireKey("role");
    }
    complete = false;
  }
  if (auto digest = reader.string("sha256", true)) {
    std::string lower;
    for (char c : *digest) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower.size() != 64 || lower.find_first_not_of("0123456789abcdef") != std::string::npos) {
      sink.error(reader.where("sha256"), context + " sha256 is not 64 hex digits",
                 "`lifeboat-coordinator token ROLE NAME` prints a token and its sha256 line");
      complete = false;
    }
    grant.sha256 = lower;
  } else {
    complete = false;
  }
  if (!complete) {
    return;
  }
  for (const TokenGrant& earlier : config.tokens) {
    if (earlier.sha256 == grant.sha256) {
      sink.error(reader.where("sha256"),
                 context + " has the same sha256 as the token of " + inQuotes(earlier.name),
                 "make a new token for each person (`lifeboat-coordinator token ROLE NAME`)");
      return;
    }
  }
  config.tokens.push_back(std::move(grant));
}

void readComms(const Node& table, const fs::path& base, ServerConfig& config,
               DiagnosticSink& sink) {
  TableReader reader(table, "[comms]", {"plan", "database", "public_url"}, sink);
  CommsConfig comms;
  if (auto plan = reader.string("plan", true)) {
    if (plan->empty()) {
      sink.error(reader.where("plan"), "[comms] plan is empty",
                 "the communication plan's file, e.g. \"comms.toml\" (docs/communications.md)");
    }
    comms.plan = resolveAgainst(base, *plan);
  }
  if (auto database = reader.string("database")) {
    comms.database = resolveAgainst(base, *database);
  } else if (!config.database.empty()) {
    comms.database = config.database.parent_path() / "comms.db";
  }
  if (auto url = reader.string("public_url")) {
    if (!url->starts_with("https://") && !url->starts_with("http://")) {
      sink.error(reader.where("public_url"), "[comms] public_url must start with https://",
                 "the address people open the status page at, e.g. "
                 "\"https://status.example.com/status\"");
    }
    comms.publicUrl = *url;
  }
  if (!comms.database.empty() && comms.database == config.database) {
    sink.error(reader.where("database"), "[comms] database is the events database",
               "the comms engine keeps its outbox in its own file, e.g. \"comms.db\"");
  }
  config.comms = std::move(comms);
}

}  // namespace

std::string_view roleName(Role role) {
  switch (role) {
    case Role::viewer:
      return "viewer";
    case Role::operator_:
      return "operator";
    case Role::approver:
      return "approver";
  }
  return "viewer";
}

std::optional<Role> parseRole(std::string_view text) {
  if (text == "viewer")
    return Role::viewer;
  if (text == "operator")
    return Role::operator_;
  if (text == "approver")
    return Role::approver;
  return std::nullopt;
}

bool roleAllows(Role have, Role need) {
  return static_cast<int>(have) >= static_cast<int>(need);
}

std::optional<ServerConfig> parseServerConfig(std::string_view text, const fs::path& path,
                                              DiagnosticSink& sink) {
  config::InputLimits limits;
  limits.maxBytes = 1024 * 1024;
  if (!config::checkInput(text, limits, sink)) {
    return std::nullopt;
  }
  std::unique_ptr<Node> document = config::parseDocument(text, sink);
  if (document == nullptr) {
    return std::nullopt;
  }
  const fs::path base = path.has_parent_path() ? path.parent_path() : fs::path(".");
  ServerConfig config;
  config.path = path;
  TableReader reader(*document, "the coordinator config",
                     {"database", "threads", "agents", "api", "token", "comms"}, sink);
  if (auto database = reader.string("database", true)) {
    if (database->empty()) {
      sink.error(reader.where("database"), "database is empty",
                 "the SQLite file, e.g. \"/var/lib/lifeboat-coordinator/events.db\"");
    }
    config.database = resolveAgainst(base, *database);
  }
  if (auto threads = reader.integer("threads", 1, 64)) {
    config.threads = static_cast<int>(*threads);
  }
  if (const Node* agents = reader.table("agents", true)) {
    readListener(*agents, base, "agents", true, config.agentsListen, config.agentsTls, sink);
  }
  if (const Node* api = reader.table("api", true)) {
    readListener(*api, base, "api", false, config.apiListen, config.apiTls, sink);
  }
  if (const Node* tokens = reader.node("token")) {
    if (!tokens->isArray()) {
      sink.error(tokens->where, "token must be written as [[token]] tables",
                 "[[token]] with name, role and sha256 (docs/coordinator.md)");
    } else {
      for (std::size_t i = 0; i < tokens->items.size(); ++i) {
        const Node& item = tokens->items[i];
        if (!item.isTable()) {
          sink.error(item.where, "token must be written as [[token]] tables",
                     "[[token]] with name, role and sha256 (docs/coordinator.md)");
          continue;
        }
        readToken(item, i, config, sink);
      }
    }
  }
  if (const Node* comms = reader.table("comms")) {
    readComms(*comms, base, config, sink);
  }
  if (config.tokens.empty() && !sink.hasErrors()) {
    sink.warning({}, "no [[token]]: the API and the dashboard refuse everyone",
                 "grant access with `lifeboat-coordinator token ROLE NAME`");
  }
  if (sink.hasErrors()) {
    return std::nullopt;
  }
  return config;
}

Result<ServerConfig> loadServerConfig(const fs::path& path, std::vector<std::string>* warnings) {
  config::InputLimits limits;
  limits.maxBytes = 1024 * 1024;
  std::error_code code;
  if (!fs::exists(path, code)) {
    return Error{"coordinator config " + path.string() + " does not exist",
                 "pass the config with --config (default " + std::string(kDefaultConfigPath) + ")"};
  }
  Result<std::string> text = config::readInputFile(path, limits);
  if (!text) {
    std::string message = text.error().message;
    if (const std::string word = "runbook"; message.find(word) != std::string::npos) {
      message.replace(message.find(word), word.size(), "coordinator config");
    }
    return Error{message, text.error().hint};
  }
  DiagnosticSink sink;
  std::optional<ServerConfig> config = parseServerConfig(*text, path, sink);
  std::ostringstream lines;
  bool first = true;
  for (const Diagnostic& diagnostic : sink.sorted()) {
    if (diagnostic.severity == Severity::warning) {
      if (warnings != nullptr) {
        warnings->push_back(formatDiagnostic(path.string(), diagnostic));
      }
      continue;
    }
    lines << (first ? "" : "\n") << formatDiagnostic(path.string(), diagnostic);
    first = false;
  }
  if (!config) {
    return Error{lines.str(), "fix the coordinator config (docs/coordinator.md)"};
  }
  return std::move(*config);
}

}  // namespace lifeboat::coordinator
