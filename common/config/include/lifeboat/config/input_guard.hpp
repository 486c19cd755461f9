#pragma once
// The gate in front of toml++. toml++ 3.3.0 (Debian 12) has undefined
// behaviour or crashes on some inputs (see docs/testing.md): malformed UTF-8,
// NUL bytes, non-ASCII bytes outside strings and comments, deep nesting, very
// long dotted keys. Nothing reaches the TOML parser unless checkInput()
// accepted it. TOML 1.0 allows non-ASCII only inside strings and comments, so
// refusing it elsewhere loses no valid runbook. Fuzzing found two more traps,
// also refused: a quote glued to a number or date (`a = 1"é"`, invalid TOML
// that toml++ reads as one token, so the guard opens no string there), and a
// non-ASCII character right after a backslash (or a line-ending backslash and
// the blank lines after it) in a """ string -- valid TOML, and the one valid
// form refused; the hint says to write an escape such as \u00E9 instead.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::config {

struct InputLimits {
  std::size_t maxBytes = std::size_t{8} * 1024 * 1024;  // a 10,000-step runbook is ~2 MB
  std::size_t maxNesting = 32;                          // [ and { open at once, outside strings
  std::size_t maxDottedKeyDepth = 32;                   // dots in one key or table header
};

// Reports each kind of problem once, at its first occurrence (line:col, with
// the column counted in bytes from 1), and returns true when `text` is safe
// to hand to toml++. A leading UTF-8 byte order mark is accepted.
bool checkInput(std::string_view text, const InputLimits& limits, DiagnosticSink& sink);

// Reads a runbook file without reading more than limits.maxBytes + 1 bytes:
// an over-size file is an Error that states its size and the limit. Errors
// name the path and the system's reason (missing, a directory, permission).
Result<std::string> readInputFile(const std::filesystem::path& path, const InputLimits& limits);

}  // namespace lifeboat::config
