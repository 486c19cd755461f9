#include "lifeboat/config/document.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace lifeboat::config {

const Node* Node::find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) {
      return &value;
    }
  }
  return nullptr;
}

std::string_view kindName(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::string:
      return "a string";
    case Node::Kind::integer:
      return "an integer";
    case Node::Kind::floating:
      return "a float";
    case Node::Kind::boolean:
      return "a boolean";
    case Node::Kind::datetime:
      return "a date-time";
    case Node::Kind::array:
      return "an array";
    case Node::Kind::table:
      return "a table";
  }
  return "a value";
}

namespace {

SourceLocation locationOf(const toml::node& node) {
  const toml::source_position begin = node.source().begin;
  return SourceLocation{begin.line, begin.column};
}

Node convert(const toml::node& source);

Node convertTable(const toml::table& table) {
  Node node;
  node.kind = Node::Kind::table;
  node.where = locationOf(table);
  node.members.reserve(table.size());
  for (const auto& [key, value] : table) {
    Node member = convert(value);
    // Implicit tables ([a.b] creates a) have no position of their own: use the key's.
    if (member.where.line == 0) {
      const toml::source_position keyBegin = key.source().begin;
      member.where = SourceLocation{keyBegin.line, keyBegin.column};
    }
    node.members.push_back(Node::Member{std::string(key.str()), std::move(member)});
  }
  // toml++ keeps tables in key order; users think in source order.
  std::stable_sort(node.members.begin(), node.members.end(),
                   [](const auto& a, const auto& b) { return a.second.where < b.second.where; });
  return node;
}

Node convert(const toml::node& source) {
  Node node;
  node.where = locationOf(source);
  if (const auto* table = source.as_table()) {
    return convertTable(*table);
  }
  if (const auto* array = source.as_array()) {
    node.kind = Node::Kind::array;
    node.items.reserve(array->size());
    for (const toml::node& item : *array) {
      node.items.push_back(convert(item));
    }
    return node;
  }
  if (const auto* value = source.as_string()) {
    node.kind = Node::Kind::string;
    node.text = value->get();
  } else if (const auto* integer = source.as_integer()) {
    node.kind = Node::Kind::integer;
    node.integer = integer->get();
  } else if (const auto* floating = source.as_floating_point()) {
    node.kind = Node::Kind::floating;
    node.floating = floating->get();
  } else if (const auto* boolean = source.as_boolean()) {
    node.kind = Node::Kind::boolean;
    node.boolean = boolean->get();
  } else {
    node.kind = Node::Kind::datetime;
    std::ostringstream written;
    if (const auto* date = source.as_date()) {
      written << *date;
    } else if (const auto* time = source.as_time()) {
      written << *time;
    } else if (const auto* dateTime = source.as_date_time()) {
      written << *dateTime;
    }
    node.text = written.str();
  }
  return node;
}

}  // namespace

std::unique_ptr<Node> parseDocument(std::string_view text, DiagnosticSink& sink) {
  try {
    toml::table table = toml::parse(text);
    auto root = std::make_unique<Node>(convertTable(table));
    root->where = SourceLocation{1, 1};
    return root;
  } catch (const toml::parse_error& error) {
    const toml::source_position begin = error.source().begin;
    sink.error(SourceLocation{begin.line, begin.column},
               "TOML syntax: " + std::string(error.description()));
    return nullptr;
  }
}

}  // namespace lifeboat::config
