#include "escape.hpp"

#include <cstdint>

namespace lifeboat::report::detail {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes the UTF-8 sequence at text[at]; returns its length (0 when the
// bytes there are not a valid, shortest-form sequence) and the code point.
std::size_t decodeUtf8(std::string_view text, std::size_t at, char32_t& codePoint) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  std::size_t length = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    codePoint = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    minimum = 0x80;
    codePoint = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    minimum = 0x800;
    codePoint = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    minimum = 0x10000;
    codePoint = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) {
      return 0;
    }
    codePoint = (codePoint << 6) | (byte(at + i) & 0x3F);
  }
  if (codePoint < minimum || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) {
    return 0;
  }
  return length;
}

bool isDropped(char32_t codePoint) {
  if (codePoint == '\t' || codePoint == '\n') {
    return false;
  }
  return codePoint < 0x20 || (codePoint >= 0x7F && codePoint <= 0x9F) || codePoint == 0xFFFE ||
         codePoint == 0xFFFF;
}

}  // namespace

namespace {

std::string repairText(std::string_view text, bool dropControls) {
  std::string clean;
  clean.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    char32_t codePoint = 0;
    std::size_t length = decodeUtf8(text, at, codePoint);
    if (length == 0) {
      clean += kReplacement;
      ++at;
      continue;
    }
    if (!dropControls || !isDropped(codePoint)) {
      clean.append(text.substr(at, length));
    }
    at += length;
  }
  return clean;
}

}  // namespace

std::string cleanText(std::string_view text) {
  return repairText(text, true);
}

std::string validUtf8(std::string_view text) {
  return repairText(text, false);
}

namespace {

// The entities each markup flavour needs; an empty replacement keeps the
// character as it is.
struct Entities {
  std::string_view quote;
  std::string_view apostrophe;
  std::string_view tab;
  std::string_view newline;
};

std::string escapeMarkup(std::string_view text, const Entities& entities) {
  std::string escaped;
  for (char c : cleanText(text)) {
    std::string_view replacement;
    switch (c) {
      case '&':
        replacement = "&amp;";
        break;
      case '<':
        replacement = "&lt;";
        break;
      case '>':
        replacement = "&gt;";
        break;
      case '"':
        replacement = entities.quote;
        break;
      case '\'':
        replacement = entities.apostrophe;
        break;
      case '\t':
        replacement = entities.tab;
        break;
      case '\n':
        replacement = entities.newline;
        break;
      default:
        break;
    }
    if (replacement.empty()) {
      escaped += c;
    } else {
      escaped += replacement;
    }
  }
  return escaped;
}

}  // namespace

std::string xmlText(std::string_view text) {
  return escapeMarkup(text, {});
}

std::string xmlAttribute(std::string_view text) {
  return escapeMarkup(text, {"&quot;", "&apos;", "&#9;", "&#10;"});
}

std::string htmlText(std::string_view text) {
  return escapeMarkup(text, {"&quot;", "&#39;", "", ""});
}

std::string terminalLine(std::string_view text) {
  std::string line = cleanText(text);
  for (char& c : line) {
    if (c == '\t' || c == '\n') {
      c = ' ';
    }
  }
  return line;
}

}  // namespace lifeboat::report::detail
