#include "reading.hpp"

#include <algorithm>

#include "lifeboat/common/text.hpp"

namespace lifeboat::comms::detail {

std::optional<std::vector<NameAt>> namesAt(config::TableReader& reader, std::string_view key,
                                           bool required) {
  const config::Node* value = reader.node(key);
  if (value == nullptr) {
    if (required) {
      reader.requireKey(key);
    }
    return std::nullopt;
  }
  if (!value->isArray()) {
    reader.wrongType(key, *value, "an array of strings");
    return std::nullopt;
  }
  std::vector<NameAt> names;
  bool good = true;
  for (const config::Node& item : value->items) {
    if (!item.isString()) {
      reader.sink().error(item.where, config::keyIn(key, reader.context()) +
                                          " must hold only strings, not " +
                                          std::string(config::kindName(item.kind)));
      good = false;
    } else if (item.text.empty()) {
      reader.sink().error(item.where,
                          config::keyIn(key, reader.context()) + " holds an empty name");
      good = false;
    } else {
      names.push_back(NameAt{item.text, item.where});
    }
  }
  if (!good) {
    return std::nullopt;
  }
  return names;
}

std::vector<std::string> plainNames(const std::vector<NameAt>& names) {
  std::vector<std::string> plain;
  plain.reserve(names.size());
  for (const NameAt& name : names) {
    plain.push_back(name.name);
  }
  return plain;
}

// local@domain, without spaces, control characters or the characters that
// would let an address carry a header or a second address.
bool isEmailAddress(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= text.size() ||
      text.find('@', at + 1) != std::string_view::npos || text.size() > 254) {
    return false;
  }
  return std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f ||
           std::string_view("<>()[],;:\"\\").find(c) != std::string_view::npos;
  });
}

bool checkName(std::string_view what, const std::string& name, SourceLocation where,
               DiagnosticSink& sink) {
  bool good = !name.empty() && name.size() <= 64;
  for (char c : name) {
    good = good && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-');
  }
  if (!good) {
    sink.error(where,
               std::string(what) + " name " + quotedSafely(name) +
                   " is not 1-64 letters, digits, '_' or '-'",
               "e.g. \"ops_slack\" or \"customers\"");
  }
  return good;
}

void reportUnknown(DiagnosticSink& sink, SourceLocation where, std::string_view what,
                   std::string_view name, std::string_view context,
                   const std::vector<std::string>& candidates, std::string_view none) {
  std::string hint;
  if (std::optional<std::string> suggestion = closestMatch(name, candidates)) {
    hint = "did you mean " + inQuotes(*suggestion) + "?";
  } else if (candidates.empty()) {
    hint = std::string(none);
  } else {
    hint = "known:";
    for (const std::string& candidate : candidates) {
      hint += ' ';
      hint += candidate;
    }
  }
  sink.error(
      where,
      "unknown " + std::string(what) + " " + quotedSafely(name) + " in " + std::string(context),
      std::move(hint));
}

bool checkNoDuplicates(const std::vector<NameAt>& names, std::string_view key,
                       std::string_view context, DiagnosticSink& sink) {
  bool good = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (names[j].name == names[i].name) {
        sink.error(names[i].where, config::keyIn(key, context) + " lists " +
                                       quotedSafely(names[i].name) + " twice");
        good = false;
        break;
      }
    }
  }
  return good;
}

}  // namespace lifeboat::comms::detail
