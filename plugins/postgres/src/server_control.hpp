#pragma once
// Starting, stopping and copying a PostgreSQL server on this host through its
// own tools (pg_ctl, pg_basebackup, pg_rewind), started by agent/process.
//
// PostgreSQL refuses to run as root. When the plugin runs as root, every tool
// runs as the owner of the data directory it acts on, through
// `runuser -u OWNER --`; a data directory owned by root is refused. The
// password reaches the tools as PGPASSWORD in their environment only (never
// argv). Each tool's output goes to the plugin's stderr (the agent's log),
// never to stdout.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "target.hpp"

namespace lifeboat::postgres {

// What data_dir/postmaster.pid says about the server.
struct PostmasterState {
  bool pidFile = false;  // postmaster.pid exists
  pid_t pid = 0;         // its first line, 0 when unreadable
  bool alive = false;    // that process exists and is a postgres
};
PostmasterState postmasterOf(const std::filesystem::path& dataDir);

// Removes data_dir/postmaster.pid when the process it names is gone (or a
// zombie), so that the server can start again.
std::optional<Error> removeStalePidFile(const std::filesystem::path& dataDir, Reporter& reporter);

// The first line of standby.signal files that `fence` writes; unfence only
// removes a standby.signal that starts with it.
inline constexpr const char* kFenceMarker = "# lifeboat fence";

// Runs the target's PostgreSQL tools for one action.
class ServerControl {
 public:
  ServerControl(const Target& target, Reporter& reporter) : target_(target), reporter_(reporter) {}

  // Runs bin_dir/`tool` with `arguments` as the owner of `ownerOf` (when
  // root). PGPASSWORD is set when `withPassword` and the target has one.
  // Fails (naming `what` and the server) when the tool cannot start, times
  // out or exits non-zero, with the last lines of its stderr.
  std::optional<Error> runTool(const std::string& tool, const std::vector<std::string>& arguments,
                               const std::filesystem::path& ownerOf, Milliseconds timeout,
                               bool withPassword, const std::string& what);

  // pg_ctl stop -m fast -w, then -m immediate when that fails. Returns
  // whether a server was running; a stale postmaster.pid is removed.
  Result<bool> stop(const std::filesystem::path& dataDir);
  // pg_ctl stop -m immediate -w, when running.
  std::optional<Error> stopImmediately(const std::filesystem::path& dataDir);
  // pg_ctl start -w with the server's output in `logFile`.
  std::optional<Error> start(const std::filesystem::path& dataDir,
                             const std::filesystem::path& logFile);

  // The user tools for `path` run as ("" = as ourselves), or an Error when
  // we are root and `path` belongs to root.
  static Result<std::string> runAsUserFor(const std::filesystem::path& path);

 private:
  const Target& target_;
  Reporter& reporter_;
};

// Writes `content` to `path` (replacing it), owned like `ownerOf`.
std::optional<Error> writeOwnedFile(const std::filesystem::path& path, const std::string& content,
                                    const std::filesystem::path& ownerOf);
// Creates directory `path` (mode 0700, refusing an existing one), owned like
// `ownerOf`.
std::optional<Error> createOwnedDirectory(const std::filesystem::path& path,
                                          const std::filesystem::path& ownerOf);
std::optional<std::string> readText(const std::filesystem::path& path);

}  // namespace lifeboat::postgres
