#pragma once
// A TOML document as a plain tree that remembers where each value was
// written. toml++ is confined to document.cpp: the rest of the runbook
// library reads this tree, so only one translation unit pays for toml++ and
// the parser's own logic does not depend on its API.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"

namespace lifeboat::config {

struct Node {
  struct Member;  // {first: key, second: value}; defined below (Node is incomplete here)
  enum class Kind { string, integer, floating, boolean, datetime, array, table };

  Kind kind = Kind::table;
  SourceLocation where;
  std::string text;  // string value, or the written form of a date/time
  std::int64_t integer = 0;
  double floating = 0;
  bool boolean = false;
  std::vector<Node> items;      // array
  std::vector<Member> members;  // table, in source order

  const Node* find(std::string_view key) const;
  bool isTable() const { return kind == Kind::table; }
  bool isArray() const { return kind == Kind::array; }
  bool isString() const { return kind == Kind::string; }
};

struct Node::Member {
  std::string first;
  Node second;
};

std::string_view kindName(Node::Kind kind);

// Parses TOML text that checkInput() accepted. A syntax error is reported to
// the sink (toml++ stops at the first one) and yields no tree.
std::unique_ptr<Node> parseDocument(std::string_view text, DiagnosticSink& sink);

}  // namespace lifeboat::config
