#pragma once
// Expanding a step's references (`${vars.X}`, secrets, run fields, the
// fencing token, earlier steps' outputs) just before it runs
// (runbook reference section 11).

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"
#include "lifeboat/runbook/model.hpp"

namespace lifeboat::engine {

struct ExpansionContext {
  std::map<std::string, std::string, std::less<>> variables;
  std::map<std::string, std::string> secrets;  // by secretReferenceText()
  std::map<std::string, std::string, std::less<>> runFields;
  std::string fencingToken;
  // Read while worker threads run: only ever added to on the scheduler thread
  // before the steps that read an entry start.
  const std::map<std::string, boost::json::object, std::less<>>* outputs = nullptr;
};

Result<std::string> expandText(std::string_view text, const ExpansionContext& context);
Result<runbook::ExecSpec> expandExec(const runbook::ExecSpec& spec,
                                     const ExpansionContext& context);
Result<runbook::HttpSpec> expandHttp(const runbook::HttpSpec& spec,
                                     const ExpansionContext& context);
Result<boost::json::object> expandObject(const boost::json::object& object,
                                         const ExpansionContext& context);
Result<runbook::DecisionSpec> expandDecision(const runbook::DecisionSpec& spec,
                                             const ExpansionContext& context);

}  // namespace lifeboat::engine
