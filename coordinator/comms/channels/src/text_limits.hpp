#pragma once
// Text helpers the payloads share: limits counted in characters (Unicode
// code points, as Slack and PagerDuty count them), never cutting a UTF-8
// sequence in two.

#include <cstddef>
#include <string>
#include <string_view>

namespace lifeboat::comms::detail {

// The number of code points in `text` (bytes that are not UTF-8 lead bytes
// are not counted; invalid input is counted byte by byte, never rejected).
std::size_t characterCount(std::string_view text);

// `text` cut to at most `maxCharacters` characters; when cut, the last one
// kept is "…" so that a reader sees that something is missing.
std::string truncateCharacters(std::string_view text, std::size_t maxCharacters);

// Slack mrkdwn: & < > as &amp; &lt; &gt;, then cut to `maxCharacters`
// without splitting an entity or a UTF-8 sequence ("…" marks a cut).
std::string slackEscape(std::string_view text, std::size_t maxCharacters);

}  // namespace lifeboat::comms::detail
