#pragma once
// The execution plan of a valid runbook: which steps run in which wave (a
// wave's steps may run in parallel), the critical path by worst-case time,
// and what a drill does differently from a real run.

#include <string>
#include <vector>

#include "lifeboat/runbook/model.hpp"

namespace lifeboat::runbook {

enum class Mode { real, drill };

// Whether a step runs in a mode, and why not.
struct StepDecision {
  bool runs = true;
  std::string reason;  // empty when it runs, e.g. `when = "real"`
};

struct PlannedStep {
  const Step* step = nullptr;
  std::size_t wave = 0;       // 0-based; cleanup steps get their own final wave
  Milliseconds worstCase{0};  // timeout x attempts + backoffs (+ wait window)
  StepDecision real;
  StepDecision drill;
};

// The chain of main (non-cleanup) steps that can take longest in the worst
// case; only steps that run in the mode are listed.
struct CriticalPath {
  std::vector<std::size_t> steps;  // indexes into Runbook::steps, first to last
  Milliseconds worstCase{0};
};

struct Plan {
  const Runbook* runbook = nullptr;
  std::vector<std::vector<std::size_t>> waves;  // indexes into steps
  std::vector<std::size_t> cleanup;             // cleanup steps, run at the end
  std::vector<PlannedStep> steps;               // same order as runbook->steps
  CriticalPath real;                            // the longest worst-case chain of a real run
  CriticalPath drill;  // the same for a drill, where skipped steps take no time

  const CriticalPath& criticalPath(Mode mode) const { return mode == Mode::real ? real : drill; }
};

// Requires a runbook produced by loadRunbook (acyclic, ids resolved).
Plan makePlan(const Runbook& runbook);

StepDecision decideStep(const Runbook& runbook, const Step& step, Mode mode);

}  // namespace lifeboat::runbook
