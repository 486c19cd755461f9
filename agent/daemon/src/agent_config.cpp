#include "lifeboat/daemon/agent_config.hpp"

#include <algorithm>
#include <sstream>
#include <system_error>

#include "lifeboat/common/host.hpp"
#include "lifeboat/common/text.hpp"
#include "lifeboat/engine/state_directory.hpp"
#include "lifeboat/runbook/document.hpp"
#include "lifeboat/runbook/input_guard.hpp"
#include "lifeboat/runbook/table_reader.hpp"

namespace lifeboat::daemon {
namespace {

namespace fs = std::filesystem;
using runbook::Node;
using runbook::TableReader;

fs::path resolveAgainst(const fs::path& base, const std::string& value) {
  const fs::path given(value);
  return given.is_absolute() ? given : (base / given).lexically_normal();
}

std::vector<fs::path> paths(const fs::path& base, const std::vector<std::string>& values) {
  std::vector<fs::path> out;
  out.reserve(values.size());
  for (const std::string& value : values) {
    out.push_back(resolveAgainst(base, value));
  }
  return out;
}

// [vars]: NAME = string, integer or boolean (kept as text, like a runbook's
// [vars]). A value may not hold a reference: it is a plain site value.
void readVariables(const Node& table, std::vector<std::pair<std::string, std::string>>& variables,
                   DiagnosticSink& sink) {
  for (const auto& [name, value] : table.members) {
    if (!runbook::isVariableName(name)) {
      sink.error(value.where, "[vars] name " + inQuotes(name) + " is not valid",
                 "use letters, digits and '_', not starting with a digit");
      continue;
    }
    std::optional<std::string> text = runbook::variableText(value);
    if (!text) {
      sink.error(value.where, "[vars] " + name + " must be a string, integer or boolean");
      continue;
    }
    if (text->find("${") != std::string::npos) {
      sink.error(value.where, "[vars] " + name + " holds a reference",
                 "agent variables are plain values; put secrets in the runbook as "
                 "${secret:env:NAME}");
      continue;
    }
    variables.emplace_back(name, std::move(*text));
  }
}

void readCoordinator(const Node& table, const fs::path& base, CoordinatorConfig& coordinator,
                     DiagnosticSink& sink) {
  TableReader reader(
      table, "[coordinator]",
      {"url", "ca_file", "cert_file", "key_file", "pin_sha256", "spool_max", "flush_timeout"},
      sink);
  if (auto url = reader.string("url", true)) {
    if (url->rfind("wss://", 0) != 0) {
      sink.error(reader.where("url"), "[coordinator] url must be a wss:// URL",
                 "agents talk to the coordinator over TLS only, e.g. "
                 "\"wss://coordinator.example:7443/v1/stream\"");
    }
    coordinator.url = *url;
  }
  const auto file = [&](std::string_view key, fs::path& target) {
    if (auto value = reader.string(key, true)) {
      target = resolveAgainst(base, *value);
    }
  };
  file("ca_file", coordinator.caFile);
  file("cert_file", coordinator.certificate);
  file("key_file", coordinator.privateKey);
  if (auto pin = reader.string("pin_sha256")) {
    std::string hex;
    for (char c : *pin) {
      if (c != ':') {
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      sink.error(reader.where("pin_sha256"),
                 "[coordinator] pin_sha256 is not a SHA-256 (64 hex digits, colons allowed)",
                 "e.g. the output of `openssl x509 -in coordinator.pem -outform der | "
                 "sha256sum`");
    }
    coordinator.pinSha256 = hex;
  }
  if (auto size = reader.string("spool_max")) {
    std::optional<std::uint64_t> bytes = parseSize(*size);
    if (!bytes || *bytes < 1024 * 1024) {
      sink.error(reader.where("spool_max"),
                 "[coordinator] spool_max " + inQuotes(*size) + " is not a size of at least 1MiB",
                 "e.g. \"256MiB\" or \"1GiB\"");
    } else {
      coordinator.spoolMax = *bytes;
    }
  }
  if (auto timeout = reader.duration("flush_timeout")) {
    coordinator.flushTimeout = *timeout;
  }
}

void readLock(const Node& table, const fs::path& base, LockConfig& lock, DiagnosticSink& sink) {
  TableReader reader(table, "[lock]",
                     {"backend", "endpoints", "ca_file", "cert_file", "key_file", "ttl", "prefix"},
                     sink);
  if (auto backend = reader.choice("backend", {"file", "etcd"})) {
    lock.backend = *backend == "etcd" ? LockBackend::etcd : LockBackend::file;
  }
  if (auto endpoints = reader.strings("endpoints")) {
    for (const std::string& endpoint : *endpoints) {
      if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
        sink.error(reader.where("endpoints"),
                   "[lock] endpoint " + endpoint + " is not an http:// or https:// URL",
                   "etcd's client URL, e.g. \"https://etcd-1.example:2379\"");
      }
    }
    lock.etcd.endpoints = *endpoints;
  }
  if (auto file = reader.string("ca_file")) {
    lock.etcd.caFile = resolveAgainst(base, *file).string();
  }
  if (auto file = reader.string("cert_file")) {
    lock.etcd.clientCertificate = resolveAgainst(base, *file).string();
  }
  if (auto file = reader.string("key_file")) {
    lock.etcd.clientKey = resolveAgainst(base, *file).string();
  }
  if (auto ttl = reader.duration("ttl")) {
    if (*ttl < std::chrono::seconds(1) || *ttl > std::chrono::minutes(10)) {
      sink.error(reader.where("ttl"), "[lock] ttl must be between 1s and 10m",
                 "the lease dies this long after the agent does; 10s is usual");
    } else {
      lock.etcd.leaseTtl = *ttl;
    }
  }
  if (auto prefix = reader.string("prefix")) {
    lock.etcd.prefix = *prefix;
  }
  if (lock.backend == LockBackend::etcd && lock.etcd.endpoints.empty()) {
    sink.error(table.where, "[lock] backend = \"etcd\" needs endpoints",
               "endpoints = [\"http://127.0.0.1:2379\"]");
  }
}

void readListen(const Node& table, const fs::path& base, ListenConfig& listen,
                DiagnosticSink& sink) {
  TableReader reader(table, "[listen]",
                     {"address", "tls", "cert_file", "key_file", "client_ca_file", "token_env"},
                     sink);
  if (auto address = reader.string("address", true)) {
    const std::size_t colon = address->rfind(':');
    const std::string host = colon == std::string::npos ? "" : address->substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : address->substr(colon + 1);
    int number = -1;
    if (!port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      number = std::stoi(port);
    }
    if (host.empty() || number < 0 || number > 65535) {
      sink.error(reader.where("address"),
                 "[listen] address " + inQuotes(*address) + " is not HOST:PORT",
                 "e.g. \"127.0.0.1:9095\"");
    } else {
      listen.host =
          host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host;
      listen.port = static_cast<std::uint16_t>(number);
    }
  }
  listen.tls = reader.boolean("tls").value_or(true);
  if (auto file = reader.string("cert_file")) {
    listen.certificate = resolveAgainst(base, *file);
  }
  if (auto file = reader.string("key_file")) {
    listen.privateKey = resolveAgainst(base, *file);
  }
  if (auto file = reader.string("client_ca_file")) {
    listen.clientCa = resolveAgainst(base, *file);
  }
  if (auto name = reader.string("token_env")) {
    listen.tokenEnvironment = *name;
  }
  if (listen.tls && (listen.certificate.empty() || listen.privateKey.empty())) {
    sink.error(table.where, "[listen] needs cert_file and key_file",
               "the listener speaks HTTPS (TLS 1.3); `tls = false` is allowed on loopback only");
  }
  if (!listen.tls && listen.host != "127.0.0.1" && listen.host != "::1" &&
      listen.host != "localhost") {
    sink.error(reader.where("tls"), "[listen] tls = false on " + listen.host,
               "plaintext is only allowed on a loopback address (127.0.0.1, ::1)");
  }
}

void readConfirm(const Node& table, const fs::path& base, ConfirmConfig& confirm,
                 DiagnosticSink& sink) {
  TableReader reader(table, "[confirm]",
                     {"peers", "ca_file", "cert_file", "key_file", "timeout", "when_unreachable"},
                     sink);
  if (auto peers = reader.strings("peers")) {
    confirm.peers = *peers;
  }
  if (auto file = reader.string("ca_file")) {
    confirm.caFile = resolveAgainst(base, *file);
  }
  if (auto file = reader.string("cert_file")) {
    confirm.certificate = resolveAgainst(base, *file);
  }
  if (auto file = reader.string("key_file")) {
    confirm.privateKey = resolveAgainst(base, *file);
  }
  if (auto timeout = reader.duration("timeout")) {
    if (timeout->count() <= 0) {
      sink.error(reader.where("timeout"), "[confirm] timeout must be more than 0");
    } else {
      confirm.timeout = *timeout;
    }
  }
  if (auto mode = reader.choice("when_unreachable", {"hold", "proceed"})) {
    confirm.proceedWhenUnreachable = *mode == "proceed";
  }
}

void readBudget(const Node& table, watch::FailoverBudgetOptions& budget, DiagnosticSink& sink) {
  TableReader reader(table, "[failover_budget]", {"max_failovers", "window"}, sink);
  if (auto max = reader.integer("max_failovers", 1, 1'000'000)) {
    budget.maxFailovers = static_cast<int>(*max);
  }
  if (auto window = reader.duration("window")) {
    budget.window = *window;
  }
  if (budget.window.count() <= 0) {
    sink.error(reader.where("window"), "[failover_budget] window must be more than 0");
  }
}

void readDetector(const Node& table, watch::DetectorOptions& detector, DiagnosticSink& sink) {
  TableReader reader(table, "[detector]",
                     {"flap_window", "flap_limit", "flap_stable", "ewma_alpha", "baseline_alpha",
                      "warmup_checks", "latency_factor", "latency_clear_factor",
                      "latency_min_increase", "error_rate_high", "error_rate_low"},
                     sink);
  if (auto value = reader.duration("flap_window"))
    detector.flapWindow = *value;
  if (auto value = reader.integer("flap_limit", 2, 1'000)) {
    detector.flapLimit = static_cast<int>(*value);
  }
  if (auto value = reader.duration("flap_stable"))
    detector.flapStable = *value;
  if (auto value = reader.number("ewma_alpha"))
    detector.ewmaAlpha = *value;
  if (auto value = reader.number("baseline_alpha"))
    detector.baselineAlpha = *value;
  if (auto value = reader.integer("warmup_checks", 1, 1'000'000)) {
    detector.warmupChecks = static_cast<int>(*value);
  }
  if (auto value = reader.number("latency_factor"))
    detector.latencyFactor = *value;
  if (auto value = reader.number("latency_clear_factor"))
    detector.latencyClearFactor = *value;
  if (auto value = reader.duration("latency_min_increase"))
    detector.latencyMinIncrease = *value;
  if (auto value = reader.number("error_rate_high"))
    detector.errorRateHigh = *value;
  if (auto value = reader.number("error_rate_low"))
    detector.errorRateLow = *value;
  if (std::optional<Error> error = watch::checkDetectorOptions(detector)) {
    sink.error(table.where, "[detector]: " + error->message, error->hint);
  }
}

}  // namespace

std::optional<AgentConfig> parseAgentConfig(std::string_view text, const fs::path& path,
                                            DiagnosticSink& sink) {
  runbook::InputLimits limits;
  if (!runbook::checkInput(text, limits, sink)) {
    return std::nullopt;
  }
  std::unique_ptr<Node> document = runbook::parseDocument(text, sink);
  if (document == nullptr) {
    return std::nullopt;
  }
  const fs::path base = path.has_parent_path() ? path.parent_path() : fs::path(".");
  AgentConfig config;
  config.path = path;
  TableReader reader(
      *document, "the agent config",
      {"name", "state_dir", "runbooks", "plugin_dirs", "coordinator", "control_socket",
       "approval_timeout", "lock", "listen", "confirm", "failover_budget", "detector", "vars"},
      sink);
  config.name = reader.string("name").value_or(hostName());
  if (config.name.empty()) {
    sink.error(reader.where("name"), "name is empty", "leave it out to use the host name");
  }
  if (auto directory = reader.string("state_dir")) {
    config.stateDirectory = resolveAgainst(base, *directory);
  } else {
    config.stateDirectory = engine::resolveStateDirectory(std::nullopt);
  }
  if (auto files = reader.strings("runbooks", true)) {
    config.runbooks = paths(base, *files);
    if (config.runbooks.empty()) {
      sink.warning(reader.where("runbooks"), "runbooks is empty: nothing to watch");
    }
  }
  if (auto directories = reader.strings("plugin_dirs")) {
    config.pluginDirectories = paths(base, *directories);
  }
  if (const Node* coordinator = reader.node("coordinator")) {
    if (coordinator->isTable()) {
      readCoordinator(*coordinator, base, config.coordinator, sink);
    } else {
      sink.error(reader.where("coordinator"), "coordinator must be a [coordinator] table",
                 "write [coordinator] with url, ca_file, cert_file and key_file "
                 "(docs/agent-config.md)");
    }
  }
  if (auto socket = reader.string("control_socket")) {
    config.controlSocket = resolveAgainst(base, *socket);
  } else {
    config.controlSocket = config.stateDirectory / "control.sock";
  }
  if (config.controlSocket.string().size() >= 100) {
    sink.error(reader.where("control_socket"),
               "control socket path is too long for a unix socket (" +
                   std::to_string(config.controlSocket.string().size()) + " bytes, at most 99)",
               "set control_socket to a shorter path, e.g. /run/lifeboat/control.sock");
  }
  if (auto timeout = reader.duration("approval_timeout")) {
    config.approvalTimeout = *timeout;
  }
  if (const Node* lock = reader.table("lock")) {
    readLock(*lock, base, config.lock, sink);
  }
  if (const Node* listen = reader.table("listen")) {
    config.listen.emplace();
    readListen(*listen, base, *config.listen, sink);
  }
  if (const Node* confirm = reader.table("confirm")) {
    readConfirm(*confirm, base, config.confirm, sink);
  }
  if (const Node* budget = reader.table("failover_budget")) {
    readBudget(*budget, config.budget, sink);
  }
  if (const Node* detector = reader.table("detector")) {
    readDetector(*detector, config.detector, sink);
  }
  if (const Node* variables = reader.table("vars")) {
    readVariables(*variables, config.variables, sink);
  }
  config.lock.etcd.holder = config.name;
  if (sink.hasErrors()) {
    return std::nullopt;
  }
  return config;
}

std::optional<std::uint64_t> parseSize(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 15) {
    return std::nullopt;
  }
  const std::uint64_t number = std::stoull(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1024},
      {"MiB", std::uint64_t{1024} * 1024},
      {"GiB", std::uint64_t{1024} * 1024 * 1024},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      return number * factor;
    }
  }
  return std::nullopt;
}

Result<AgentConfig> loadAgentConfig(const fs::path& path) {
  runbook::InputLimits limits;
  limits.maxBytes = 1024 * 1024;
  std::error_code code;
  if (!fs::exists(path, code)) {
    return Error{"agent config " + path.string() + " does not exist",
                 "pass the agent config with --config (default " + std::string(kDefaultConfigPath) +
                     "; or set LIFEBOAT_CONFIG)"};
  }
  Result<std::string> text = runbook::readInputFile(path, limits);
  if (!text) {
    std::string message = text.error().message;
    if (const std::string runbookWord = "runbook"; message.find(runbookWord) != std::string::npos) {
      message.replace(message.find(runbookWord), runbookWord.size(), "agent config");
    }
    return Error{message, text.error().hint.empty()
                              ? "pass the agent config with --config (default " +
                                    std::string(kDefaultConfigPath) + ")"
                              : text.error().hint};
  }
  DiagnosticSink sink;
  std::optional<AgentConfig> config = parseAgentConfig(*text, path, sink);
  if (!config) {
    std::ostringstream lines;
    bool first = true;
    for (const Diagnostic& diagnostic : sink.sorted()) {
      if (diagnostic.severity != Severity::error) {
        continue;
      }
      lines << (first ? "" : "\n") << formatDiagnostic(path.string(), diagnostic);
      first = false;
    }
    return Error{lines.str(), "fix the agent config (docs/agent-config.md)"};
  }
  return std::move(*config);
}

Result<std::vector<fs::path>> runbookFiles(const AgentConfig& config) {
  std::vector<fs::path> files;
  for (const fs::path& entry : config.runbooks) {
    std::error_code error;
    if (fs::is_directory(entry, error)) {
      std::vector<fs::path> found;
      for (const auto& item : fs::directory_iterator(entry, error)) {
        if (item.path().extension() == ".toml" && item.is_regular_file(error)) {
          found.push_back(item.path());
        }
      }
      if (error) {
        return Error{"cannot list runbook folder " + entry.string() + ": " + error.message(),
                     "check the folder's permissions"};
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(entry, error)) {
      files.push_back(entry);
    } else {
      return Error{"runbook " + entry.string() + " does not exist",
                   "fix `runbooks` in " + config.path.string()};
    }
  }
  return files;
}

}  // namespace lifeboat::daemon
