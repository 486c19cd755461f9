#include <sys/stat.h>

#include <cstdlib>
#include <system_error>

#include "lifeboat/common/read_file.hpp"
#include "lifeboat/comms/plan.hpp"
#include "lifeboat/config/table_reader.hpp"
#include "secret_reference.hpp"

namespace lifeboat::comms {
namespace {

// A secret file holds a key, a password or a URL, not a document.
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

constexpr std::string_view kReferenceForms =
    "write the whole value as ${secret:env:NAME} or ${secret:file:/absolute/path}";

bool isFilePath(std::string_view path) {
  if (path.size() < 2 || path[0] != '/') {
    return false;
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '{' || c == '}') {
      return false;
    }
  }
  return true;
}

Result<std::string> readSecret(const SecretReference& reference) {
  Result<std::string> contents =
      readSecretFile(reference.name, kMaxSecretFileBytes, "the coordinator's user");
  if (contents && contents->empty()) {
    return Error{"secret " + reference.describe() + " is empty", "write the secret into the file"};
  }
  return contents;
}

}  // namespace

std::string SecretReference::describe() const {
  return (source == Source::env ? "env:" : "file:") + name;
}

std::optional<SecretReference> parseSecretReference(std::string_view value) {
  constexpr std::string_view kEnv = "${secret:env:";
  constexpr std::string_view kFile = "${secret:file:";
  if (!value.ends_with('}')) {
    return std::nullopt;
  }
  if (value.starts_with(kEnv)) {
    const std::string_view name = value.substr(kEnv.size(), value.size() - kEnv.size() - 1);
    if (config::isVariableName(name)) {
      return SecretReference{SecretReference::Source::env, std::string(name)};
    }
  } else if (value.starts_with(kFile)) {
    const std::string_view path = value.substr(kFile.size(), value.size() - kFile.size() - 1);
    if (isFilePath(path)) {
      return SecretReference{SecretReference::Source::file, std::string(path)};
    }
  }
  return std::nullopt;
}

bool isSecretReference(std::string_view value) {
  return parseSecretReference(value).has_value();
}

Result<std::string> resolveSecret(std::string_view value) {
  if (value.find("${") == std::string_view::npos) {
    return std::string(value);
  }
  std::optional<SecretReference> reference = parseSecretReference(value);
  if (!reference) {
    // The value may be a secret with a typo in it: never quote it.
    return Error{"a value holds '${' but is not one secret reference",
                 std::string(kReferenceForms)};
  }
  if (reference->source == SecretReference::Source::file) {
    return readSecret(*reference);
  }
  const char* found = std::getenv(reference->name.c_str());
  if (found == nullptr) {
    return Error{"secret " + reference->describe() + " is not set",
                 "set " + reference->name + " in the coordinator's environment"};
  }
  if (*found == '\0') {
    return Error{"secret " + reference->describe() + " is empty",
                 "set " + reference->name + " to the secret in the coordinator's environment"};
  }
  return std::string(found);
}

}  // namespace lifeboat::comms
