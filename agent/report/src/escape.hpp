#pragma once
// The one place where report text is made safe for its format. Text from a
// journal may hold anything a child printed: markup characters, terminal
// escape sequences, bytes that are not UTF-8.

#include <string>
#include <string_view>

namespace lifeboat::report::detail {

// Valid UTF-8 (each invalid byte becomes U+FFFD) without control characters:
// C0 controls other than tab and newline, DEL, C1 controls, U+FFFE and U+FFFF
// are removed. What is left is legal XML 1.0 character data and cannot steer
// a terminal.
std::string cleanText(std::string_view text);

// Valid UTF-8, each invalid byte replaced by U+FFFD, nothing else changed
// (JSON can carry control characters escaped).
std::string validUtf8(std::string_view text);

// XML character data: cleanText, with & < > escaped.
std::string xmlText(std::string_view text);

// An XML attribute value between double quotes: cleanText, with & < > " '
// escaped, and tab and newline as character references so that attribute
// normalisation keeps them.
std::string xmlAttribute(std::string_view text);

// HTML text or a double-quoted attribute value: cleanText, & < > " ' escaped.
std::string htmlText(std::string_view text);

// One line for a terminal: cleanText, with tabs and newlines as spaces.
std::string terminalLine(std::string_view text);

}  // namespace lifeboat::report::detail
