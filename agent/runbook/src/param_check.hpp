#pragma once
// Checks parameters written in a runbook (a target's fields, a step's `with`)
// against a plugin's described schema.

#include <boost/json/object.hpp>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/common/plugin_protocol.hpp"

namespace lifeboat::runbook {

void checkParams(const std::vector<plugin::ParamSchema>& schema, const boost::json::object& values,
                 const std::vector<std::pair<std::string, SourceLocation>>& locations,
                 SourceLocation fallback, const std::string& context, DiagnosticSink& sink);

}  // namespace lifeboat::runbook
