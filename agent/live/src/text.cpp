#include "lifeboat/live/text.hpp"

#include <cstdint>
#include <cstdio>

namespace lifeboat::live {
namespace {

// One decoded UTF-8 character: its code point and length in bytes; length 0
// when the bytes at `at` are not a valid, shortest-form encoding.
struct Decoded {
  char32_t codePoint = 0;
  std::size_t length = 0;
};

Decoded decodeAt(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    return {lead, 1};
  }
  std::size_t length = 0;
  char32_t codePoint = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    codePoint = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    codePoint = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    codePoint = lead & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (at + length > text.size()) {
    return {};
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) {
      return {};
    }
    codePoint = (codePoint << 6) | (byte(at + i) & 0x3F);
  }
  if (codePoint < minimum || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) {
    return {};
  }
  return {codePoint, length};
}

bool isWide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

int widthOf(char32_t c) {
  return isWide(c) ? 2 : 1;
}

constexpr std::string_view kEllipsis = "\u2026";

}  // namespace

std::string formatElapsed(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  std::string sign;
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  char buffer[48];
  if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buffer, sizeof buffer, "%lld.%llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000 / 100));
  } else if (ms < 3'600'000) {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms % 60'000 / 1000));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm%02llds",
                  static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms % 3'600'000 / 60'000),
                  static_cast<long long>(ms % 60'000 / 1000));
  }
  return sign + buffer;
}

std::string terminalSafe(std::string_view text) {
  std::string safe;
  safe.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const Decoded decoded = decodeAt(text, at);
    if (decoded.length == 0) {
      safe += '?';
      ++at;
      continue;
    }
    const char32_t c = decoded.codePoint;
    if (c == '\t') {
      safe += ' ';
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
      safe += '?';
    } else {
      safe.append(text.substr(at, decoded.length));
    }
    at += decoded.length;
  }
  return safe;
}

int displayWidth(std::string_view text) {
  int width = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const Decoded decoded = decodeAt(text, at);
    if (decoded.length == 0) {
      ++width;
      ++at;
      continue;
    }
    width += widthOf(decoded.codePoint);
    at += decoded.length;
  }
  return width;
}

std::string truncateToWidth(std::string_view text, int columns) {
  if (displayWidth(text) <= columns) {
    return std::string(text);
  }
  if (columns <= 0) {
    return {};
  }
  const int budget = columns - 1;  // one column for the ellipsis
  int width = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const Decoded decoded = decodeAt(text, at);
    const std::size_t length = decoded.length == 0 ? 1 : decoded.length;
    const int charWidth = decoded.length == 0 ? 1 : widthOf(decoded.codePoint);
    if (width + charWidth > budget) {
      break;
    }
    width += charWidth;
    at += length;
  }
  return std::string(text.substr(0, at)) + std::string(kEllipsis);
}

}  // namespace lifeboat::live
