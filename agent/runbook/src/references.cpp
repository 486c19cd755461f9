#include "lifeboat/runbook/references.hpp"

#include <array>

namespace lifeboat::runbook {
namespace {

constexpr std::array<std::string_view, 5> kRunFields{"id", "drill", "service", "runbook",
                                                     "started_at"};

bool isIdentifier(std::string_view text, bool allowDash) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (allowDash && c == '-');
    if (!ok) {
      return false;
    }
  }
  return true;
}

Error malformed(std::string_view body, std::string_view why, std::string hint = {}) {
  return Error{"malformed reference '${" + std::string(body) + "}': " + std::string(why),
               hint.empty() ? "references look like ${vars.NAME}, ${secret:env:NAME}, "
                              "${secret:file:PATH}, ${run.id}, ${lock.fencing_token} or "
                              "${steps.ID.outputs.KEY}"
                            : std::move(hint)};
}

Result<Reference> classify(std::string_view body) {
  Reference reference;
  if (body.starts_with("secret:")) {
    const std::string_view rest = body.substr(7);
    if (rest.starts_with("env:")) {
      reference.kind = ReferenceKind::secretEnv;
      reference.name = std::string(rest.substr(4));
      if (!isIdentifier(reference.name, false)) {
        return malformed(body, "an environment variable name is letters, digits and _");
      }
      return reference;
    }
    if (rest.starts_with("file:")) {
      reference.kind = ReferenceKind::secretFile;
      reference.name = std::string(rest.substr(5));
      if (reference.name.empty() || reference.name.front() != '/') {
        return malformed(body, "a secret file must be an absolute path");
      }
      return reference;
    }
    return malformed(body, "unknown secret source", "use secret:env:NAME or secret:file:PATH");
  }
  const std::size_t dot = body.find('.');
  const std::string_view space = body.substr(0, dot);
  const std::string_view rest = dot == std::string_view::npos ? "" : body.substr(dot + 1);
  if (space == "vars") {
    reference.kind = ReferenceKind::variable;
    reference.name = std::string(rest);
    if (!isIdentifier(rest, false)) {
      return malformed(body, "a variable name is letters, digits and _");
    }
    return reference;
  }
  if (space == "run") {
    reference.kind = ReferenceKind::run;
    reference.name = std::string(rest);
    if (!isRunField(rest)) {
      return malformed(body, "unknown run field",
                       "run fields are id, drill, service, runbook and started_at");
    }
    return reference;
  }
  if (space == "lock") {
    reference.kind = ReferenceKind::lock;
    reference.name = std::string(rest);
    if (rest != "fencing_token") {
      return malformed(body, "unknown lock field", "the lock offers ${lock.fencing_token}");
    }
    return reference;
  }
  if (space == "steps") {
    // ID.outputs.KEY
    const std::size_t marker = rest.find(".outputs.");
    if (marker == std::string_view::npos) {
      return malformed(body, "expected steps.ID.outputs.KEY");
    }
    reference.kind = ReferenceKind::stepOutput;
    reference.step = std::string(rest.substr(0, marker));
    reference.name = std::string(rest.substr(marker + 9));
    if (!isIdentifier(reference.step, true) || !isIdentifier(reference.name, true)) {
      return malformed(body, "expected steps.ID.outputs.KEY");
    }
    return reference;
  }
  return malformed(body, "unknown namespace '" + std::string(space) + "'");
}

}  // namespace

bool isRunField(std::string_view name) {
  for (std::string_view field : kRunFields) {
    if (field == name) {
      return true;
    }
  }
  return false;
}

Result<std::vector<Reference>> findReferences(std::string_view text) {
  std::vector<Reference> references;
  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t dollar = text.find('$', position);
    if (dollar == std::string_view::npos) {
      break;
    }
    if (text.substr(dollar, 3) == "$${") {
      position = dollar + 3;
      continue;
    }
    if (text.substr(dollar, 2) != "${") {
      position = dollar + 1;
      continue;
    }
    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return Error{
          "unterminated reference starting '" +
              std::string(text.substr(dollar, std::min<std::size_t>(24, text.size() - dollar))) +
              "'",
          "close it with '}', or write $${ for a literal ${"};
    }
    Result<Reference> reference = classify(text.substr(dollar + 2, close - dollar - 2));
    if (!reference) {
      return reference.error();
    }
    reference->offset = dollar;
    reference->length = close + 1 - dollar;
    references.push_back(std::move(*reference));
    position = close + 1;
  }
  return references;
}

Result<std::string> expandReferences(
    std::string_view text, const std::function<Result<std::string>(const Reference&)>& resolve) {
  Result<std::vector<Reference>> references = findReferences(text);
  if (!references) {
    return references.error();
  }
  std::string expanded;
  std::size_t position = 0;
  auto copyLiteral = [&](std::string_view literal) {
    // `$${` -> `${`
    std::size_t from = 0;
    while (true) {
      const std::size_t escape = literal.find("$${", from);
      if (escape == std::string_view::npos) {
        expanded.append(literal.substr(from));
        return;
      }
      expanded.append(literal.substr(from, escape - from));
      expanded.append("${");
      from = escape + 3;
    }
  };
  for (const Reference& reference : *references) {
    copyLiteral(text.substr(position, reference.offset - position));
    Result<std::string> value = resolve(reference);
    if (!value) {
      return value.error();
    }
    expanded += *value;
    position = reference.offset + reference.length;
  }
  copyLiteral(text.substr(position));
  return expanded;
}

}  // namespace lifeboat::runbook
