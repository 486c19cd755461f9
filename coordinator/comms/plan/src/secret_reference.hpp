#pragma once
// The plan's secret references: a whole value `${secret:env:NAME}` or
// `${secret:file:/absolute/path}` (docs/communications.md, "Secrets").

#include <optional>
#include <string>
#include <string_view>

namespace lifeboat::comms {

struct SecretReference {
  enum class Source { env, file };
  Source source = Source::env;
  std::string name;  // the variable's name or the file's path

  // "env:NAME" or "file:PATH": how errors name the reference.
  std::string describe() const;
};

// The reference `value` is, when it is exactly one well-formed reference.
std::optional<SecretReference> parseSecretReference(std::string_view value);

}  // namespace lifeboat::comms
