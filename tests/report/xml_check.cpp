#include "xml_check.hpp"

#include <cstdlib>

namespace lifeboat::report::testing {

namespace {

class Checker {
 public:
  explicit Checker(std::string_view xml) : xml_(xml) {}

  XmlCheck run() {
    if (xml_.starts_with("<?xml")) {
      std::size_t end = xml_.find("?>");
      if (end == std::string_view::npos) {
        return fail("unterminated XML declaration");
      }
      at_ = end + 2;
    }
    skipSpace();
    if (!element(true)) {
      return result_;
    }
    skipSpace();
    if (at_ != xml_.size()) {
      return fail("content after the root element");
    }
    result_.ok = true;
    return result_;
  }

 private:
  XmlCheck fail(const std::string& why) {
    if (result_.error.empty()) {
      result_.error = why + " at byte " + std::to_string(at_);
    }
    result_.ok = false;
    return result_;
  }

  void skipSpace() {
    while (at_ < xml_.size() &&
           (xml_[at_] == ' ' || xml_[at_] == '\n' || xml_[at_] == '\t' || xml_[at_] == '\r')) {
      ++at_;
    }
  }

  static bool nameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  }

  std::string name() {
    std::size_t start = at_;
    while (at_ < xml_.size() && nameChar(xml_[at_])) {
      ++at_;
    }
    return std::string(xml_.substr(start, at_ - start));
  }

  // Characters XML 1.0 forbids outright (the C0 controls but tab, LF, CR).
  static bool forbidden(char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 && c != '\t' && c != '\n' && c != '\r';
  }

  // Reads character data up to `stop`, checking references; appends the
  // decoded text to `decoded`.
  bool characterData(char stop, std::string& decoded) {
    while (at_ < xml_.size() && xml_[at_] != stop) {
      char c = xml_[at_];
      if (forbidden(c)) {
        fail("forbidden character " + std::to_string(static_cast<int>(c)));
        return false;
      }
      if (c == '<') {  // only reached inside an attribute value
        fail("'<' in character data");
        return false;
      }
      if (c == '&') {
        std::size_t end = xml_.find(';', at_);
        if (end == std::string_view::npos || end - at_ > 10) {
          fail("unterminated reference");
          return false;
        }
        std::string_view reference = xml_.substr(at_ + 1, end - at_ - 1);
        static const std::map<std::string_view, char> kNamed{
            {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
        if (auto named = kNamed.find(reference); named != kNamed.end()) {
          decoded += named->second;
        } else if (reference.starts_with("#") && reference.size() > 1) {
          const bool hex = reference[1] == 'x';
          std::string digits(reference.substr(hex ? 2 : 1));
          char* end = nullptr;
          long code = std::strtol(digits.c_str(), &end, hex ? 16 : 10);
          if (digits.empty() || *end != '\0') {
            fail("malformed character reference");
            return false;
          }
          if (code != 9 && code != 10 && code != 13 && code < 0x20) {
            fail("reference to a forbidden character");
            return false;
          }
          decoded += static_cast<char>(code < 0x80 ? code : '?');
        } else {
          fail("unknown entity &" + std::string(reference) + ";");
          return false;
        }
        at_ = end + 1;
        continue;
      }
      decoded += c;
      ++at_;
    }
    return true;
  }

  bool element(bool root) {
    if (at_ >= xml_.size() || xml_[at_] != '<') {
      fail("expected '<'");
      return false;
    }
    ++at_;
    std::string tag = name();
    if (tag.empty()) {
      fail("element without a name");
      return false;
    }
    ++result_.elements[tag];
    if (root) {
      result_.rootName = tag;
    }
    std::map<std::string, std::string> attributes;
    while (true) {
      std::size_t before = at_;
      skipSpace();
      if (at_ >= xml_.size()) {
        fail("unterminated start tag <" + tag + ">");
        return false;
      }
      if (xml_.substr(at_, 2) == "/>") {
        at_ += 2;
        break;
      }
      if (xml_[at_] == '>') {
        ++at_;
        if (!content(tag)) {
          return false;
        }
        break;
      }
      if (before == at_) {
        fail("no space before an attribute of <" + tag + ">");
        return false;
      }
      std::string attribute = name();
      if (attribute.empty() || xml_.substr(at_, 2) != "=\"") {
        fail("malformed attribute in <" + tag + ">");
        return false;
      }
      at_ += 2;
      std::string value;
      if (!characterData('"', value)) {
        return false;
      }
      if (at_ >= xml_.size()) {
        fail("unterminated attribute value");
        return false;
      }
      ++at_;
      if (!attributes.emplace(attribute, value).second) {
        fail("attribute " + attribute + " given twice");
        return false;
      }
    }
    if (root) {
      result_.rootAttributes = attributes;
    }
    return true;
  }

  bool content(const std::string& tag) {
    while (true) {
      std::string text;
      if (!characterData('<', text)) {
        return false;
      }
      if (at_ >= xml_.size()) {
        fail("<" + tag + "> is never closed");
        return false;
      }
      if (xml_.substr(at_, 2) == "</") {
        at_ += 2;
        std::string closing = name();
        if (closing != tag || at_ >= xml_.size() || xml_[at_] != '>') {
          fail("</" + closing + "> closes <" + tag + ">");
          return false;
        }
        ++at_;
        return true;
      }
      if (!element(false)) {
        return false;
      }
    }
  }

  std::string_view xml_;
  std::size_t at_ = 0;
  XmlCheck result_;
};

}  // namespace

XmlCheck checkXml(std::string_view xml) {
  return Checker(xml).run();
}

}  // namespace lifeboat::report::testing
