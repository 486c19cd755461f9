#pragma once
// Small text helpers shared by the validators: "did you mean" suggestions and
// shell-style glob matching for policies such as data residency.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lifeboat {

// Levenshtein distance between two ASCII strings.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible
// typo (distance at most a third of the word's length, at least 1), else none.
std::optional<std::string> closestMatch(std::string_view word,
                                        std::span<const std::string_view> candidates);
std::optional<std::string> closestMatch(std::string_view word,
                                        std::span<const std::string> candidates);

// `*` matches any run of characters, `?` one character; everything else is
// literal. Used for region patterns like "eu-*".
bool globMatch(std::string_view pattern, std::string_view text);

// Quotes `text` for a message: 'text'.
std::string inQuotes(std::string_view text);

// Quotes untrusted `text` for a message: at most `maxBytes` of it (then
// "..."), control characters and bytes outside printable ASCII shown as
// \xNN, so that a refused value can neither hide nor forge a line.
std::string quotedSafely(std::string_view text, std::size_t maxBytes = 80);

}  // namespace lifeboat
