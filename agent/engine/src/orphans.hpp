#pragma once
// Finding and stopping what a crashed agent left running (DESIGN.md,
// "Children"). Every child of a run carries LIFEBOAT_RUN_ID=<run id> in its
// environment, and so does everything it starts, including processes that
// left its process group. A process group is stopped only when a process in
// it carries the marker: a journaled group id alone may by now belong to
// someone else.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace lifeboat::engine {

// Live (not zombie) processes whose environment has LIFEBOAT_RUN_ID=runId,
// as (pid, process group) pairs. Processes we may not read are not seen.
std::vector<std::pair<pid_t, pid_t>> findRunProcesses(const std::string& runId);

// SIGTERM to the group of every such process, then SIGKILL to those still
// alive after `grace`. Returns the process groups that were signalled.
std::vector<pid_t> stopRunProcesses(const std::string& runId, std::chrono::milliseconds grace);

}  // namespace lifeboat::engine
