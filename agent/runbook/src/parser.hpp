#pragma once
// Document tree -> typed model. Reports every shape problem (unknown keys,
// types, missing keys, bad durations, step kinds) and builds as much of the
// model as it can so that validation can report cross-reference problems in
// the same pass.

#include <string>
#include <vector>

#include "lifeboat/runbook/document.hpp"
#include "lifeboat/runbook/model.hpp"

namespace lifeboat::runbook {

// A user-written string that may hold references, and who owns it.
struct StringSite {
  enum class Owner { step, rollback, target, trigger, variable };
  Owner owner = Owner::step;
  std::size_t index = 0;  // into steps, targets or triggers
  SourceLocation where;
  std::string text;
};

struct ParsedRunbook {
  Runbook runbook;
  std::vector<StringSite> strings;
  // Locations of [[step]] tables whose id was missing or invalid (dropped).
  bool complete = true;
  // stepKindKnown[i]: step i has exactly one well-formed kind (its action is
  // meaningful); per-step checks skip the others, already reported.
  std::vector<bool> stepKindKnown;
};

ParsedRunbook parseModel(const Node& root, DiagnosticSink& sink);

// Records every string under `node` as a site of `owner`.
void collectStrings(const Node& node, StringSite::Owner owner, std::size_t index,
                    std::vector<StringSite>& sites);

// A TOML value converted for the plugin protocol (dates become strings).
boost::json::value toJson(const Node& node);

}  // namespace lifeboat::runbook
