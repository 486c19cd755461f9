#pragma once
// [[step]] tables -> Step models (part of parseModel).

#include "lifeboat/runbook/document.hpp"
#include "parser.hpp"

namespace lifeboat::runbook {

void parseSteps(const Node& root, ParsedRunbook& parsed, DiagnosticSink& sink);

}  // namespace lifeboat::runbook
