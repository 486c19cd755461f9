#pragma once
// A real `lifeboat watch` (the built binary) for tests: its agent.toml is
// written into a directory the test owns, its log goes to daemon.log there,
// and the control socket is asked through `lifeboat status --output json`.

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::daemon::fixtures {

using std::chrono::milliseconds;

class WatchAgent {
 public:
  // Writes `config` to <directory>/agent.toml and starts the daemon. When
  // `waitReady` it waits (up to 20 s) until the control socket answers; on
  // failure the current test has failed and running() is false.
  WatchAgent(std::filesystem::path directory, const std::string& config, bool waitReady = true,
             std::vector<std::pair<std::string, std::string>> environment = {});
  ~WatchAgent();  // SIGTERM, then SIGKILL after 30 s
  WatchAgent(const WatchAgent&) = delete;
  WatchAgent& operator=(const WatchAgent&) = delete;

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path configPath() const { return directory_ / "agent.toml"; }
  // state_dir as the running daemon reports it (<directory>/state before).
  const std::filesystem::path& statePath() const { return statePath_; }

  // `lifeboat status --output json`; an empty object when it fails.
  boost::json::object status() const;
  // The phase of `service` in status(), "" when unknown.
  std::string phase(const std::string& service) const;
  // The daemon's journal (state/watch/journal.jsonl), in order.
  std::vector<Event> events() const;
  std::vector<Event> events(std::string_view type) const;
  // Polls events() until one of `type` satisfies `accept`, up to `timeout`.
  std::optional<Event> waitForEvent(
      std::string_view type, milliseconds timeout,
      const std::function<bool(const Event&)>& accept = [](const Event&) { return true; }) const;
  std::string log() const;

  void signal(int number) const;
  // Sends `number` and waits up to `timeout` for the exit; the exit code, or
  // -1 after a SIGKILL when it did not exit in time.
  int stop(int number = 15, milliseconds timeout = milliseconds(30'000));

 private:
  std::filesystem::path directory_;
  std::filesystem::path statePath_;
  std::string socket_;  // once known: status() then works whatever agent.toml holds
  pid_t pid_ = -1;
};

// Helpers the daemon tests share: a file's text, its lines, and an event's
// data member as text (strings as they are, anything else as JSON).
void writeFile(const std::filesystem::path& path, const std::string& text);
std::vector<std::string> lines(const std::filesystem::path& path);
std::string field(const Event& event, std::string_view name);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, milliseconds timeout);

// The run's journal (state/runs/<id>/journal.jsonl... as the engine lays it out).
std::vector<Event> runEvents(const std::filesystem::path& stateDirectory, const std::string& runId);

}  // namespace lifeboat::daemon::fixtures
