#pragma once
// A small XML well-formedness checker for the JUnit tests: enough of XML 1.0
// for what renderJunit() may write (declaration, elements, attributes,
// character data, the five named entities and character references), strict
// about everything else, so that a renderer bug shows up as a failed check.

#include <map>
#include <string>
#include <string_view>

namespace lifeboat::report::testing {

struct XmlCheck {
  bool ok = false;
  std::string error;                    // where and why, when not ok
  std::map<std::string, int> elements;  // element name -> how many
  std::string rootName;
  std::map<std::string, std::string> rootAttributes;  // decoded values
};

XmlCheck checkXml(std::string_view xml);

}  // namespace lifeboat::report::testing
