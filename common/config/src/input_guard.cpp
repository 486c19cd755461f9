#include "lifeboat/config/input_guard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "lifeboat/common/read_file.hpp"
#include "lifeboat/common/text.hpp"

namespace lifeboat::config {
namespace {

// Where the scanner is, lexically. Only what decides "inside a string or
// comment" is tracked; everything else is left to toml++.
enum class Context {
  code,
  comment,
  basicString,       // "..."
  literalString,     // '...'
  multiLineBasic,    // """..."""
  multiLineLiteral,  // '''...'''
};

std::string hexByte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", static_cast<unsigned>(byte));
  return buffer;
}

std::string codePointName(char32_t codePoint) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(codePoint));
  return buffer;
}

enum class Utf8Problem {
  none,
  strayContinuation,  // 0x80-0xBF with no lead byte
  overlongLead,       // 0xC0, 0xC1
  neverValid,         // 0xF8-0xFF
  aboveMaxLead,       // 0xF5-0xF7
  truncated,
  overlong,   // E0 80-9F, F0 80-8F
  surrogate,  // ED A0-BF
  aboveMax,   // F4 90-BF
};

// How TOML writes the character in a basic string: \u00E9, \U0001F680.
std::string tomlEscape(char32_t codePoint) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, codePoint > 0xFFFF ? "\\U%08X" : "\\u%04X",
                static_cast<unsigned>(codePoint));
  return buffer;
}

// One UTF-8 sequence. When `problem` is not none, `length` is 0 and the
// message is built only if it is reported (describeUtf8Problem).
struct Utf8Sequence {
  std::size_t length = 0;
  char32_t codePoint = 0;
  Utf8Problem problem = Utf8Problem::none;
};

bool isContinuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// Decodes the sequence starting at text[pos], a byte >= 0x80, by the rules of
// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
Utf8Sequence decodeUtf8(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const auto invalid = [](Utf8Problem problem) { return Utf8Sequence{0, 0, problem}; };
  if (isContinuation(lead)) {
    return invalid(Utf8Problem::strayContinuation);
  }
  if (lead < 0xC2) {
    return invalid(Utf8Problem::overlongLead);
  }
  if (lead >= 0xF8) {
    return invalid(Utf8Problem::neverValid);
  }
  if (lead >= 0xF5) {
    return invalid(Utf8Problem::aboveMaxLead);
  }
  const std::size_t length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  for (std::size_t i = 1; i < length; ++i) {
    if (pos + i >= text.size() || !isContinuation(static_cast<unsigned char>(text[pos + i]))) {
      return invalid(Utf8Problem::truncated);
    }
  }
  const auto second = static_cast<unsigned char>(text[pos + 1]);
  if ((lead == 0xE0 && second < 0xA0) || (lead == 0xF0 && second < 0x90)) {
    return invalid(Utf8Problem::overlong);
  }
  if (lead == 0xED && second >= 0xA0) {
    return invalid(Utf8Problem::surrogate);
  }
  if (lead == 0xF4 && second >= 0x90) {
    return invalid(Utf8Problem::aboveMax);
  }
  const unsigned char leadMask = length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07;
  char32_t codePoint = lead & leadMask;
  for (std::size_t i = 1; i < length; ++i) {
    codePoint = (codePoint << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  }
  return {length, codePoint, Utf8Problem::none};
}

// Why the sequence at text[pos] is not UTF-8, for the diagnostic.
std::string describeUtf8Problem(Utf8Problem problem, std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const std::string one = "byte " + hexByte(lead);
  const std::string two =
      pos + 1 < text.size()
          ? "bytes " + hexByte(lead) + " " + hexByte(static_cast<unsigned char>(text[pos + 1]))
          : one;
  switch (problem) {
    case Utf8Problem::strayContinuation:
      return "stray continuation byte " + hexByte(lead);
    case Utf8Problem::overlongLead:
      return one + " starts an overlong encoding";
    case Utf8Problem::neverValid:
      return one + " never appears in UTF-8";
    case Utf8Problem::aboveMaxLead:
      return one + " starts a code point above U+10FFFF";
    case Utf8Problem::truncated:
      return one + " starts a truncated sequence";
    case Utf8Problem::overlong:
      return two + " start an overlong encoding";
    case Utf8Problem::surrogate:
      return two + " start a UTF-16 surrogate";
    case Utf8Problem::aboveMax:
      return two + " start a code point above U+10FFFF";
    case Utf8Problem::none:
      break;
  }
  return "unknown problem";
}

// Characters that may continue a dotted key or table header besides quoted
// segments: bare-key characters, blanks and the dots themselves.
bool continuesDottedKey(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == ' ' || c == '\t' || c == '.';
}

// Where the scan is in TOML's grammar, as far as toml++ depends on it: it
// reads a bare value (number, date, boolean) differently from a key.
enum class Position { key, value, afterValue };
enum class Frame { array, inlineTable, header };

// A single pass over the text. Each kind of problem is reported once, at its
// first occurrence; the scan goes on so that other kinds are reported too.
class Scanner {
 public:
  Scanner(std::string_view text, const InputLimits& limits, DiagnosticSink& sink)
      : text_(text), limits_(limits), sink_(sink) {}

  bool run() {
    if (text_.size() > limits_.maxBytes) {
      sink_.error({},
                  "input is " + std::to_string(text_.size()) + " bytes, more than the limit of " +
                      std::to_string(limits_.maxBytes) + " bytes",
                  "runbooks are small text files; check that this is the right file");
      return false;
    }
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      contentStart_ = pos_ = 3;  // byte order mark; columns still count its bytes
    }
    while (pos_ < text_.size()) {
      step();
    }
    return !failed_;
  }

 private:
  struct Reported {
    bool utf8 = false;
    bool nul = false;
    bool nonAscii = false;
    bool nesting = false;
    bool dottedKey = false;
    bool afterBackslash = false;
  };

  void step() {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c < 0x80) {
      afterBackslash_ = false;
    }
    if (c >= 0x80) {
      nonAsciiByte();
      return;
    }
    if (c == '\0') {
      if (firstOccurrence(reported_.nul)) {
        sink_.error(here(), "NUL byte (0x00) in the input",
                    "runbooks are text files; remove the NUL bytes or check the file's encoding "
                    "(UTF-16 is not accepted)");
      }
      ++pos_;
      return;
    }
    if (c == '\n') {
      newline();
      return;
    }
    switch (context_) {
      case Context::code:
        code(c);
        break;
      case Context::comment:
        ++pos_;
        break;
      case Context::basicString:
      case Context::multiLineBasic:
        basicString(c);
        break;
      case Context::literalString:
      case Context::multiLineLiteral:
        literalString(c);
        break;
    }
  }

  void nonAsciiByte() {
    const Utf8Sequence sequence = decodeUtf8(text_, pos_);
    // toml++ 3.3.0 asks whether the character after a backslash (and after the
    // blanks of a line-ending backslash) is whitespace, which is undefined
    // behaviour for many non-ASCII characters. Valid TOML, but refused.
    if (afterBackslash_ && sequence.length > 0 && firstOccurrence(reported_.afterBackslash)) {
      sink_.error(here(),
                  "non-ASCII character " + codePointName(sequence.codePoint) +
                      " right after a backslash in a multi-line string",
                  "toml++ 3.3.0 cannot read this; start the line with an ASCII character or "
                  "write the character as the escape " +
                      tomlEscape(sequence.codePoint));
    }
    afterBackslash_ = false;
    if (sequence.length == 0) {
      if (firstOccurrence(reported_.utf8)) {
        sink_.error(here(),
                    "invalid UTF-8 (" + describeUtf8Problem(sequence.problem, text_, pos_) + ")",
                    "save the file as UTF-8");
      }
      ++pos_;
    } else {
      if (context_ == Context::code && firstOccurrence(reported_.nonAscii)) {
        sink_.error(here(),
                    "non-ASCII character " + codePointName(sequence.codePoint) +
                        " outside a string or comment",
                    "TOML keys and values other than strings are ASCII; put the text in quotes");
      }
      pos_ += sequence.length;
    }
    if (context_ == Context::code) {
      dots_ = 0;
    }
  }

  void newline() {
    ++pos_;
    ++line_;
    lineStart_ = pos_;
    dots_ = 0;
    // A single-line string cannot span lines: toml++ refuses it; resynchronise.
    if (context_ == Context::comment || context_ == Context::basicString ||
        context_ == Context::literalString) {
      context_ = Context::code;
    }
    if (context_ == Context::code) {
      inBareValue_ = false;
      // Arrays may span lines; anything else starts over with a key.
      position_ =
          !frames_.empty() && frames_.back() == Frame::array ? Position::value : Position::key;
    }
  }

  void code(unsigned char c) {
    if (inBareValue_) {
      if (!endsBareValue(c)) {
        countDots(c);
        ++pos_;
        return;
      }
      inBareValue_ = false;
    }
    switch (c) {
      case '#':
        context_ = Context::comment;
        break;
      case '"':
      case '\'':
        if (startsToken()) {
          openString(static_cast<char>(c));
          return;
        }
        inBareValue_ = true;  // as toml++ sees it: the value goes on up to a terminator
        break;
      case '[':
        openBracket(position_ == Position::key &&
                            (frames_.empty() || frames_.back() == Frame::header)
                        ? Frame::header
                        : Frame::array);
        break;
      case '{':
        openBracket(Frame::inlineTable);
        break;
      case ']':
      case '}':
        if (!frames_.empty()) {
          frames_.pop_back();
        }
        position_ = Position::afterValue;
        break;
      case ',':
        position_ = frames_.empty()                  ? Position::afterValue
                    : frames_.back() == Frame::array ? Position::value
                                                     : Position::key;
        break;
      case '=':
        if (position_ == Position::key) {
          position_ = Position::value;
        } else {
          inBareValue_ = true;
        }
        break;
      case ' ':
      case '\t':
      case '\r':
        break;
      default:
        if (position_ != Position::key) {
          inBareValue_ = true;  // a number, date, boolean, ... (or a mistake)
        }
        break;
    }
    countDots(c);
    ++pos_;
  }

  // toml++ reads a value that is not a string, array or inline table (a
  // number, a date, ...) up to one of these bytes, whatever comes before:
  // quotes, `=` and brackets in between are part of that value, not syntax.
  static bool endsBareValue(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ']' || c == '}' || c == '#';
  }

  void openBracket(Frame frame) {
    frames_.push_back(frame);
    position_ = frame == Frame::array ? Position::value : Position::key;
    if (frames_.size() > limits_.maxNesting && firstOccurrence(reported_.nesting)) {
      sink_.error(here(),
                  "arrays, tables and inline tables nested more than " +
                      std::to_string(limits_.maxNesting) + " deep (the limit)",
                  "flatten the structure: '[' and '{' may be open at most " +
                      std::to_string(limits_.maxNesting) + " at once");
    }
  }

  void countDots(unsigned char c) {
    if (c == '.') {
      ++dots_;
      if (dots_ > limits_.maxDottedKeyDepth && firstOccurrence(reported_.dottedKey)) {
        sink_.error(here(),
                    "dotted key or table header with more than " +
                        std::to_string(limits_.maxDottedKeyDepth) + " dots (the limit)",
                    "use a shorter key or a nested table");
      }
    } else if (!continuesDottedKey(c)) {
      dots_ = 0;
    }
  }

  // Whether a quote at pos_ opens a string. In valid TOML a string follows
  // only a blank, a line end, `=`, `[`, `{`, `,` or `.`; anything else (such
  // as `"a""b"`) is an error, and the scan stays on the safe side.
  bool startsToken() const {
    if (pos_ == contentStart_) {
      return true;
    }
    switch (text_[pos_ - 1]) {
      case ' ':
      case '\t':
      case '\n':
      case '\r':
      case '=':
      case '[':
      case '{':
      case ',':
      case '.':
        return true;
      default:
        return false;
    }
  }

  // A quoted key segment keeps the dotted-key count going; a multi-line
  // string can only be a value, so it ends it.
  void openString(char quote) {
    if (text_.substr(pos_, 3) == std::string(3, quote)) {
      context_ = quote == '"' ? Context::multiLineBasic : Context::multiLineLiteral;
      dots_ = 0;
      pos_ += 3;
    } else {
      context_ = quote == '"' ? Context::basicString : Context::literalString;
      ++pos_;
    }
  }

  void basicString(unsigned char c) {
    if (c == '\\') {
      // Only \" and \\ could fool the scan; other escapes are ordinary bytes.
      const bool skipsNext =
          pos_ + 1 < text_.size() && (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\');
      pos_ += skipsNext ? 2 : 1;
      afterBackslash_ = !skipsNext && context_ == Context::multiLineBasic;
    } else if (c == '"') {
      closeString('"');
    } else {
      ++pos_;
    }
  }

  void literalString(unsigned char c) {
    if (c == '\'') {
      closeString('\'');
    } else {
      ++pos_;
    }
  }

  // At a quote inside a string. A multi-line string ends at three quotes, and
  // TOML lets up to two more quotes before them belong to the string.
  void closeString(char quote) {
    if (position_ == Position::value) {
      position_ = Position::afterValue;  // a quoted key segment stays a key
    }
    if (context_ == Context::basicString || context_ == Context::literalString) {
      context_ = Context::code;
      ++pos_;
      return;
    }
    std::size_t run = 0;
    while (pos_ + run < text_.size() && text_[pos_ + run] == quote) {
      ++run;
    }
    if (run >= 3) {
      context_ = Context::code;
      run = std::min<std::size_t>(run, 5);
    }
    pos_ += run;
  }

  // Marks the input as refused; true the first time a kind of problem is
  // seen, so that its message is built and reported only once.
  bool firstOccurrence(bool& reported) {
    failed_ = true;
    if (reported) {
      return false;
    }
    reported = true;
    return true;
  }

  SourceLocation here() const {
    constexpr std::size_t kMax = std::numeric_limits<std::uint32_t>::max();
    return {static_cast<std::uint32_t>(std::min(line_, kMax)),
            static_cast<std::uint32_t>(std::min(pos_ - lineStart_ + 1, kMax))};
  }

  std::string_view text_;
  const InputLimits& limits_;
  DiagnosticSink& sink_;
  std::size_t contentStart_ = 0;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t lineStart_ = 0;
  Context context_ = Context::code;
  Position position_ = Position::key;
  std::vector<Frame> frames_;  // brackets open, innermost last
  bool inBareValue_ = false;   // in a value toml++ reads up to a terminator
  std::size_t dots_ = 0;
  Reported reported_;
  bool failed_ = false;
  // In a multi-line basic string, after a backslash and any blanks after it.
  bool afterBackslash_ = false;
};

// `size` is empty when the file's size is not known up front (a pipe).
Error tooLarge(const std::filesystem::path& path, const std::string& size,
               const InputLimits& limits) {
  const std::string limit = std::to_string(limits.maxBytes) + " bytes";
  return Error{"runbook " + lifeboat::inQuotes(path.string()) +
                   (size.empty() ? " is larger than the limit of " + limit
                                 : " is " + size + " bytes, more than the limit of " + limit),
               "runbooks are small text files (10,000 steps are about 2 MB); check that this "
               "is the right file"};
}

}  // namespace

bool checkInput(std::string_view text, const InputLimits& limits, DiagnosticSink& sink) {
  return Scanner(text, limits, sink).run();
}

Result<std::string> readInputFile(const std::filesystem::path& path, const InputLimits& limits) {
  const auto cannotRead = [&path](const std::string& reason, std::string hint) {
    return Error{"cannot read runbook " + lifeboat::inQuotes(path.string()) + ": " + reason,
                 std::move(hint)};
  };
  FileRead loaded = readFile(path, {.maxBytes = limits.maxBytes});
  switch (loaded.status) {
    case FileRead::Status::ok:
      return std::move(loaded.contents);
    case FileRead::Status::directory:
      return cannotRead("it is a directory", "give the path of a runbook file (.toml)");
    case FileRead::Status::tooLarge:
      return tooLarge(path, loaded.size ? std::to_string(*loaded.size) : std::string(), limits);
    case FileRead::Status::systemError:
    case FileRead::Status::notRegular:
      break;
  }
  return cannotRead(std::strerror(loaded.error), loaded.error == ENOENT ? "check the path"
                                                 : loaded.error == EACCES
                                                     ? "check the file's permissions"
                                                     : std::string{});
}

}  // namespace lifeboat::config
