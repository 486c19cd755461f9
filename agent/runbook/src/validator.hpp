#pragma once
// Cross-reference checks over a parsed runbook: step ids and dependencies,
// cycles, targets, plugins and their parameters, references, data residency,
// drill safety and objectives. Reports everything it finds.

#include "lifeboat/runbook/load.hpp"
#include "parser.hpp"

namespace lifeboat::runbook {

void validate(ParsedRunbook& parsed, const LoadOptions& options, DiagnosticSink& sink);

}  // namespace lifeboat::runbook
