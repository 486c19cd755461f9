#include "text_limits.hpp"

namespace lifeboat::comms::detail {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

bool continuationByte(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

// The length in bytes of the character that starts at `text[at]`.
std::size_t characterLength(std::string_view text, std::size_t at) {
  std::size_t length = 1;
  while (at + length < text.size() && continuationByte(text[at + length]) && length < 4) {
    ++length;
  }
  return length;
}

}  // namespace

std::size_t characterCount(std::string_view text) {
  std::size_t count = 0;
  for (const char byte : text) {
    count += continuationByte(byte) ? 0 : 1;
  }
  return count;
}

std::string truncateCharacters(std::string_view text, std::size_t maxCharacters) {
  if (characterCount(text) <= maxCharacters) {
    return std::string(text);
  }
  std::string kept;
  std::size_t characters = 0;
  for (std::size_t at = 0; at < text.size() && characters + 1 < maxCharacters; ++characters) {
    const std::size_t length = characterLength(text, at);
    kept.append(text.substr(at, length));
    at += length;
  }
  if (maxCharacters > 0) {
    kept += kEllipsis;
  }
  return kept;
}

std::string slackEscape(std::string_view text, std::size_t maxCharacters) {
  std::string escaped;
  std::size_t characters = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = characterLength(text, at);
    std::string_view piece = text.substr(at, length);
    if (piece == "&") {
      piece = "&amp;";
    } else if (piece == "<") {
      piece = "&lt;";
    } else if (piece == ">") {
      piece = "&gt;";
    }
    const std::size_t pieceCharacters = characterCount(piece);
    // Room for the piece and, unless it is the last one, for "…" after it.
    const bool last = at + length == text.size();
    if (characters + pieceCharacters + (last ? 0 : 1) > maxCharacters) {
      if (maxCharacters > 0) {
        escaped += kEllipsis;
      }
      return escaped;
    }
    escaped += piece;
    characters += pieceCharacters;
    at += length;
  }
  return escaped;
}

}  // namespace lifeboat::comms::detail
