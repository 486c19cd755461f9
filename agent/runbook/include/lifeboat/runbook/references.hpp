#pragma once
// Value references inside runbook strings:
//   ${vars.NAME}                 a [vars] entry or --var NAME=VALUE
//   ${secret:env:NAME}           an environment variable of the agent
//   ${secret:file:PATH}          a file's contents (trailing newline dropped)
//   ${run.id} ${run.drill} ${run.service} ${run.runbook} ${run.started_at}
//   ${lock.fencing_token}        the run lock's fencing token
//   ${steps.ID.outputs.KEY}      an output of an earlier step
// `$${` writes a literal `${`.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::runbook {

enum class ReferenceKind { variable, secretEnv, secretFile, run, lock, stepOutput };

struct Reference {
  ReferenceKind kind = ReferenceKind::variable;
  std::string name;        // variable, env var, file path, run/lock field, or output key
  std::string step;        // for stepOutput
  std::size_t offset = 0;  // of the `$` in the string
  std::size_t length = 0;  // of the whole `${...}`

  bool isSecret() const {
    return kind == ReferenceKind::secretEnv || kind == ReferenceKind::secretFile;
  }
};

// Every reference in `text`, or an Error for the first malformed one (with
// its offset in the message).
Result<std::vector<Reference>> findReferences(std::string_view text);

// Replaces each reference with what `resolve` returns; `$${` becomes `${`.
Result<std::string> expandReferences(
    std::string_view text, const std::function<Result<std::string>(const Reference&)>& resolve);

// The run fields ${run.X} may name.
bool isRunField(std::string_view name);

}  // namespace lifeboat::runbook
