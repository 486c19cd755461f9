#pragma once
// The subcommands that execute runs and read them back: run, drill, resume,
// cancel, runs, show, report.

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/daemon/agent_config.hpp"
#include "lifeboat/report/run_record.hpp"
#include "options.hpp"

namespace lifeboat::cli {

class RunCommands {
 public:
  // Adds the subcommands to `app`.
  explicit RunCommands(CLI::App& app);

  // The exit code when one of these subcommands was chosen.
  std::optional<int> dispatch();

 private:
  struct ExecutionOptions {
    CommonOptions common;
    std::optional<std::string> stateDirectory;
    bool yes = false;
    std::string outageStart;
    std::vector<std::string> decide;  // STEP=OPTION
    std::string rationale;
    std::string approver;
    std::vector<std::string> etcdEndpoints;  // --etcd: the distributed failover lock
    std::string configFile;                  // --config: the agent config
  };

  // The agent config run, drill and resume read (its name, state_dir and
  // [coordinator]): --config, $LIFEBOAT_CONFIG, else /etc/lifeboat/agent.toml
  // when it exists. False after printing why a named config is unusable.
  bool loadAgentConfigForRun();
  // --state-dir > $LIFEBOAT_STATE_DIR > the agent config's state_dir > default.
  std::filesystem::path runStateDirectory() const;

  int runOrDrill(bool drill);
  int resume();
  int cancel();
  int listRuns();
  int show();
  int report();
  // The record of the run `runId_` names, or nullopt after saying why not.
  std::optional<report::RunRecord> namedRecord() const;

  CLI::App* run_ = nullptr;
  CLI::App* drill_ = nullptr;
  CLI::App* resume_ = nullptr;
  CLI::App* cancel_ = nullptr;
  CLI::App* runs_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* report_ = nullptr;

  ExecutionOptions execution_;
  std::optional<daemon::AgentConfig> agentConfig_;
  std::string runbookFile_;
  std::string runId_;
  std::vector<std::string> resolve_;  // STEP=rerun|done|failed
  std::string format_ = "json";
  std::string outputFile_;
};

}  // namespace lifeboat::cli
