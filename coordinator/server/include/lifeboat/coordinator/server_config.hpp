#pragma once
// The coordinator's config file (docs/coordinator.md, "Config"), read with
// the same checked TOML reading as the agent's: every problem at once as
// `file:line:col: error: …`, unknown keys with a did-you-mean.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/net/tls_options.hpp"

namespace lifeboat::coordinator {

inline constexpr std::string_view kDefaultConfigPath = "/etc/lifeboat/coordinator.toml";

enum class Role { viewer, operator_, approver };

std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view text);
// Whether `have` may do what `need` may (approver ⊃ operator ⊃ viewer).
bool roleAllows(Role have, Role need);

struct ListenAddress {
  std::string host;        // an IP address ("127.0.0.1", "::1")
  std::uint16_t port = 0;  // 0: the system picks one (the log names it)
};

struct TokenGrant {
  std::string name;  // who, in notes and logs
  Role role = Role::viewer;
  std::string sha256;  // 64 lower-case hex digits: SHA-256 of the token
};

// [comms] (docs/communications.md): the comms engine runs when present.
struct CommsConfig {
  std::filesystem::path plan;      // the communication plan (TOML)
  std::filesystem::path database;  // the outbox; default comms.db beside `database`
  // Where people reach the status page, for {{status_page_url}}; default
  // https://<api listen address>/status.
  std::string publicUrl{};
};

struct ServerConfig {
  std::filesystem::path path;      // the config file
  std::filesystem::path database;  // SQLite file
  int threads = 2;                 // threads running the network side
  ListenAddress agentsListen;
  net::TlsServerOptions agentsTls;  // client certificates required
  ListenAddress apiListen;
  net::TlsServerOptions apiTls;  // no client certificates
  std::vector<TokenGrant> tokens;
  std::optional<CommsConfig> comms{};
};

// Parses `text` (the contents of `path`; relative paths are resolved against
// its folder). Reports every problem to `sink`; nullopt when any is an error.
std::optional<ServerConfig> parseServerConfig(std::string_view text,
                                              const std::filesystem::path& path,
                                              DiagnosticSink& sink);

// Reads and parses the file. The Error's message holds every diagnostic, one
// `file:line:col: error: …` line each (warnings go to `warnings` when given).
Result<ServerConfig> loadServerConfig(const std::filesystem::path& path,
                                      std::vector<std::string>* warnings = nullptr);

}  // namespace lifeboat::coordinator
