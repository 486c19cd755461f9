#pragma once
// The agent's configuration file, /etc/lifeboat/agent.toml by default
// (docs/agent-config.md is the reference): which runbooks `lifeboat watch`
// watches, where state lives, the lock backend, the webhook listener, the
// second observers and the detection settings of docs/watch.md section 9.
//
// Loading never half-succeeds: every problem is reported compiler style
// (`agent.toml:12:3: error: ...`) and no AgentConfig comes back, so a reload
// with a broken file keeps the running configuration.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/locks/etcd_lock.hpp"
#include "lifeboat/watch/detector_options.hpp"
#include "lifeboat/watch/failover_budget.hpp"

namespace lifeboat::daemon {

inline constexpr std::string_view kDefaultConfigPath = "/etc/lifeboat/agent.toml";

enum class LockBackend { file, etcd };

struct LockConfig {
  LockBackend backend = LockBackend::file;
  locks::EtcdOptions etcd;  // backend etcd: endpoints, TLS files, lease TTL
};

// The agent's own HTTPS listener: Alertmanager webhooks and peers' second
// opinions (POST /v1/alertmanager, POST /v1/observe).
struct ListenConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port (tests)
  bool tls = true;         // `tls = false` only for a listener on loopback
  std::filesystem::path certificate, privateKey;
  std::filesystem::path clientCa;  // set: clients need a certificate it signed
  // Name of the environment variable holding a bearer token webhooks must
  // send (Alertmanager's http_config.authorization); empty = none.
  std::string tokenEnvironment;
};

// Second observers: before an automatic failover, other agents watching the
// same service are asked to check it themselves (docs/watch.md "Confirmation").
struct ConfirmConfig {
  std::vector<std::string> peers;  // "https://10.0.0.2:9095"
  std::filesystem::path caFile, certificate, privateKey;
  std::chrono::milliseconds timeout{3'000};
  // No peer answered: "hold" (no failover) or "proceed".
  bool proceedWhenUnreachable = false;
};

// [coordinator]: where events are streamed (docs/agent-config.md). Streaming
// is on when `url` is set.
struct CoordinatorConfig {
  std::string url;  // wss://HOST:PORT/v1/stream
  std::filesystem::path caFile, certificate, privateKey;
  std::string pinSha256;  // optional: the coordinator certificate's SHA-256
  std::uint64_t spoolMax = std::uint64_t{256} * 1024 * 1024;
  // How long `lifeboat run` waits at exit for acknowledgements before it
  // leaves the rest in the spool for the next agent process.
  std::chrono::milliseconds flushTimeout{5'000};
};

// "256MiB", "1GiB", "512KiB", "64MB", "4096" (bytes); nullopt when not a size.
std::optional<std::uint64_t> parseSize(std::string_view text);

struct AgentConfig {
  std::filesystem::path path;  // the file this came from
  std::string name;            // the agent's name in events; default: host name
  std::filesystem::path stateDirectory;
  std::vector<std::filesystem::path> runbooks;  // files, or directories of *.toml
  std::vector<std::filesystem::path> pluginDirectories;
  CoordinatorConfig coordinator;
  std::filesystem::path controlSocket;  // default <state_dir>/control.sock
  // Pending approvals expire after this long (the outage is then left to humans).
  std::chrono::milliseconds approvalTimeout{60 * 60'000};
  LockConfig lock;
  std::optional<ListenConfig> listen;
  ConfirmConfig confirm;
  watch::DetectorOptions detector;
  watch::FailoverBudgetOptions budget;
  // [vars]: this host's values for the watched runbooks' variables, applied
  // like `--var NAME=VALUE` to every runbook that defines the name, and
  // recorded with each run (so `resume` loads the runbook the same way).
  std::vector<std::pair<std::string, std::string>> variables;
};

// Parses `text` read from `path` (relative paths in it are resolved against
// the file's folder). Problems go to `sink`; nullopt when any is an error.
std::optional<AgentConfig> parseAgentConfig(std::string_view text,
                                            const std::filesystem::path& path,
                                            DiagnosticSink& sink);

// Reads and parses the file. On failure the Error's message holds every
// diagnostic line, `path:line:col: error: ...`.
Result<AgentConfig> loadAgentConfig(const std::filesystem::path& path);

// The runbook files the config names: files as given, directories expanded
// to their *.toml files (sorted). Missing entries are errors.
Result<std::vector<std::filesystem::path>> runbookFiles(const AgentConfig& config);

}  // namespace lifeboat::daemon
