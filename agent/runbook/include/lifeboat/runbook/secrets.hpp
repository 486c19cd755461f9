#pragma once
// Resolving `${secret:env:NAME}` and `${secret:file:PATH}` at run time
// (preflight), never earlier (DESIGN.md, docs/runbook-reference.md 11.4).
//
// Error messages name the reference (`secret env:NAME is not set`,
// `secret file:/run/x: No such file or directory`) and never a value.
// Resolved values go into a Redactor at once, so that everything the run
// prints, logs, journals or reports can be passed through it.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/redactor.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/runbook/model.hpp"
#include "lifeboat/runbook/references.hpp"

namespace lifeboat::runbook {

// The agent's own environment (getenv).
std::optional<std::string> processEnvironment(std::string_view name);

// Where secrets come from. Tests inject `environment` so that they never read
// or change the real environment.
struct SecretSources {
  std::function<std::optional<std::string>(std::string_view name)> environment = processEnvironment;
  // Largest secret file accepted.
  std::size_t maxFileBytes = 64 * 1024;
};

// The value of one secret reference:
// - env:NAME: the variable's value (an empty value is a value);
// - file:PATH: the contents of a regular file (symbolic links are followed)
//   of at most maxFileBytes, with ONE trailing "\n" or "\r\n" dropped.
// A reference that is not a secret is an Error.
Result<std::string> resolveSecret(const Reference& reference, const SecretSources& sources);

// "secret:env:NAME" or "secret:file:PATH": how a secret reference is written
// between `${` and `}`, the key of resolveAllSecrets' `resolved` map.
std::string secretReferenceText(const Reference& reference);

// Resolves every distinct secret the runbook refers to (in steps, rollbacks,
// target fields and triggers: the places of section 11.1 of the reference),
// each once, and registers each value in the returned Redactor.
// All unresolvable secrets are reported at once: one Error whose message has
// one line per secret. When `resolved` is not null it receives each value
// keyed by secretReferenceText(). When `unredactable` is not null it receives
// the reference text of each value the Redactor refused (1 to 3 bytes long),
// so the caller can warn that it cannot be masked. Both are replaced, and
// only on success.
Result<Redactor> resolveAllSecrets(const Runbook& runbook, const SecretSources& sources,
                                   std::map<std::string, std::string>* resolved,
                                   std::vector<std::string>* unredactable = nullptr);

}  // namespace lifeboat::runbook
