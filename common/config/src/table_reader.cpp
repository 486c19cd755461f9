#include "lifeboat/config/table_reader.hpp"

#include <vector>

#include "lifeboat/common/text.hpp"

namespace lifeboat::config {

std::string keyIn(std::string_view key, std::string_view context) {
  return inQuotes(key) + " in " + std::string(context);
}

bool isVariableName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> variableText(const Node& value) {
  if (value.isString()) {
    return value.text;
  }
  if (value.kind == Node::Kind::integer) {
    return std::to_string(value.integer);
  }
  if (value.kind == Node::Kind::boolean) {
    return std::string(value.boolean ? "true" : "false");
  }
  return std::nullopt;
}

TableReader::TableReader(const Node& table, std::string context,
                         std::initializer_list<std::string_view> allowed, DiagnosticSink& sink)
    : table_(table), context_(std::move(context)), sink_(sink) {
  const std::vector<std::string_view> candidates(allowed);
  for (const auto& [key, value] : table_.members) {
    bool known = false;
    for (std::string_view name : allowed) {
      known = known || name == key;
    }
    if (known) {
      continue;
    }
    std::string hint;
    if (std::optional<std::string> suggestion = closestMatch(key, candidates)) {
      hint = "did you mean " + inQuotes(*suggestion) + "?";
    } else {
      hint = "known keys:";
      for (std::string_view name : allowed) {
        hint += ' ';
        hint += name;
      }
    }
    sink_.error(value.where, "unknown key " + keyIn(key, context_), std::move(hint));
  }
}

SourceLocation TableReader::where(std::string_view key) const {
  const Node* value = table_.find(key);
  return value != nullptr ? value->where : table_.where;
}

void TableReader::requireKey(std::string_view key) {
  sink_.error(table_.where, std::string(context_) + " is missing required key " + inQuotes(key));
}

void TableReader::wrongType(std::string_view key, const Node& value, std::string_view expected,
                            std::string hint) {
  sink_.error(value.where,
              keyIn(key, context_) + " must be " + std::string(expected) + ", not " +
                  std::string(kindName(value.kind)),
              std::move(hint));
}

std::optional<std::string> TableReader::string(std::string_view key, bool required) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    if (required) {
      requireKey(key);
    }
    return std::nullopt;
  }
  if (!value->isString()) {
    wrongType(key, *value, "a string");
    return std::nullopt;
  }
  return value->text;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->kind != Node::Kind::integer) {
    wrongType(key, *value, "an integer");
    return std::nullopt;
  }
  if (value->integer < min || value->integer > max) {
    sink_.error(value->where, keyIn(key, context_) + " is " + std::to_string(value->integer) +
                                  ", outside " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return value->integer;
}

std::optional<double> TableReader::number(std::string_view key) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->kind == Node::Kind::integer) {
    return static_cast<double>(value->integer);
  }
  if (value->kind != Node::Kind::floating) {
    wrongType(key, *value, "a number");
    return std::nullopt;
  }
  return value->floating;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->kind != Node::Kind::boolean) {
    wrongType(key, *value, "a boolean (true or false)");
    return std::nullopt;
  }
  return value->boolean;
}

std::optional<Milliseconds> TableReader::duration(std::string_view key, bool required) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    if (required) {
      requireKey(key);
    }
    return std::nullopt;
  }
  if (!value->isString()) {
    wrongType(key, *value, "a duration string",
              "write a duration like \"30s\", \"5m\" or \"1h30m\"");
    return std::nullopt;
  }
  Result<Milliseconds> parsed = parseDuration(value->text);
  if (!parsed) {
    sink_.error(value->where, keyIn(key, context_) + ": " + parsed.error().message,
                parsed.error().hint);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key, bool required) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    if (required) {
      requireKey(key);
    }
    return std::nullopt;
  }
  if (!value->isArray()) {
    wrongType(key, *value, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> result;
  for (const Node& item : value->items) {
    if (!item.isString()) {
      sink_.error(item.where, keyIn(key, context_) + " must hold only strings, not " +
                                  std::string(kindName(item.kind)));
      return std::nullopt;
    }
    result.push_back(item.text);
  }
  return result;
}

const Node* TableReader::table(std::string_view key, bool required) {
  const Node* value = table_.find(key);
  if (value == nullptr) {
    if (required) {
      requireKey(key);
    }
    return nullptr;
  }
  if (!value->isTable()) {
    wrongType(key, *value, "a table");
    return nullptr;
  }
  return value;
}

std::optional<std::string> TableReader::choice(std::string_view key,
                                               std::initializer_list<std::string_view> choices) {
  std::optional<std::string> value = string(key);
  if (!value) {
    return std::nullopt;
  }
  for (std::string_view option : choices) {
    if (option == *value) {
      return value;
    }
  }
  std::string list;
  for (std::string_view option : choices) {
    list += list.empty() ? "" : ", ";
    list += '"' + std::string(option) + '"';
  }
  const std::vector<std::string_view> candidates(choices);
  std::string hint = "use one of " + list;
  if (std::optional<std::string> suggestion = closestMatch(*value, candidates)) {
    hint = "did you mean \"" + *suggestion + "\"?";
  }
  sink_.error(where(key), keyIn(key, context_) + " is \"" + *value + "\", not one of " + list,
              std::move(hint));
  return std::nullopt;
}

}  // namespace lifeboat::config
