#include "lifeboat/config/input_guard.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The guard's verdict and its diagnostics as "line:col: message" lines.
struct Verdict {
  bool accepted = false;
  std::vector<std::string> lines;
  std::vector<Diagnostic> diagnostics;
};

Verdict check(std::string_view text, const InputLimits& limits = {}) {
  DiagnosticSink sink;
  Verdict verdict;
  verdict.accepted = checkInput(text, limits, sink);
  verdict.diagnostics = sink.all();
  for (const Diagnostic& diagnostic : sink.all()) {
    EXPECT_EQ(diagnostic.severity, Severity::error);
    verdict.lines.push_back(std::to_string(diagnostic.where.line) + ":" +
                            std::to_string(diagnostic.where.column) + ": " + diagnostic.message);
  }
  EXPECT_EQ(verdict.accepted, sink.all().empty()) << "refused without a diagnostic, or vice versa";
  return verdict;
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string text;
  text.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) {
    text += piece;
  }
  return text;
}

// ---------------------------------------------------------------- accepted

TEST(InputGuardTest, AcceptsEmptyInputAndAPlainRunbook) {
  EXPECT_TRUE(check("").accepted);
  const Verdict verdict = check(R"([runbook]
name = "failover"  # a comment
timeout = "5m"
ratio = 1.5
when = 1979-05-27T07:32:00.999Z
list = [1.5, 2.5, [3, {a.b = 4}]]

[[step]]
id = "promote"
after = ["fence", 'check']
exec = ["pg_ctl", "promote", "-D", "${vars.data_dir}"]
)");
  EXPECT_TRUE(verdict.accepted);
  EXPECT_THAT(verdict.lines, IsEmpty());
}

TEST(InputGuardTest, AcceptsNonAsciiInsideAllFourStringKindsAndComments) {
  const Verdict verdict = check(
      "# Überblick: ключ, かぎ, emoji \xF0\x9F\x9A\x80\n"
      "basic = \"café \\\" naïve\"\n"
      "literal = 'C:\\Bücher\\'\n"
      "multi = \"\"\"\nZürich\n\\\"\"\" still inside: é\n\"\"\"\n"
      "multiLiteral = '''\nΑθήνα ''' \n"
      "\"clé\" = 1\n"
      "[\"ключ\".'かぎ'] # 終わり\n"
      "x = 1 # trailing comment with U+FE0F \xEF\xB8\x8F\n");
  EXPECT_TRUE(verdict.accepted);
  EXPECT_THAT(verdict.lines, IsEmpty());
}

TEST(InputGuardTest, MultiLineStringsMayEndWithUpToTwoExtraQuotes) {
  // """a""""" is the string a"" ; '''b''''' is b'' . What follows is code again.
  EXPECT_THAT(check("x = \"\"\"a\"\"\"\"\" # é\ny = '''b''''' # é\n").lines, IsEmpty());
  EXPECT_THAT(check("x = \"\"\"a\"\"\"\"\" é").lines,
              ElementsAre("1:15: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("y = '''b''''' é").lines,
              ElementsAre("1:15: non-ASCII character U+00E9 outside a string or comment"));
  // Two quotes inside a multi-line string do not end it.
  EXPECT_THAT(check("x = \"\"\"a\"\"é\"\"\"").lines, IsEmpty());
  EXPECT_THAT(check("x = '''a''é'''").lines, IsEmpty());
  // An empty multi-line string: six quotes.
  EXPECT_THAT(check("x = \"\"\"\"\"\" é").lines,
              ElementsAre("1:12: non-ASCII character U+00E9 outside a string or comment"));
}

TEST(InputGuardTest, BackslashEscapesInBasicStringsAreFollowed) {
  // \" does not end the string ...
  EXPECT_THAT(check("a = \"x\\\"é\"").lines, IsEmpty());
  // ... but after \\ the next quote does.
  EXPECT_THAT(check("a = \"x\\\\\"é").lines,
              ElementsAre("1:10: non-ASCII character U+00E9 outside a string or comment"));
  // Literal strings have no escapes: the backslash is the last character.
  EXPECT_THAT(check("a = 'x\\'é").lines,
              ElementsAre("1:9: non-ASCII character U+00E9 outside a string or comment"));
  // In multi-line basic strings too.
  EXPECT_THAT(check("a = \"\"\"x\\\"\"\"é\"\"\"").lines, IsEmpty());
}

TEST(InputGuardTest, SingleLineStringsAndCommentsEndAtTheLineEnd) {
  // An unterminated string does not hide the next line from the guard.
  EXPECT_THAT(check("a = \"open\né = 1").lines,
              ElementsAre("2:1: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("a = 'open\r\né = 1").lines,
              ElementsAre("2:1: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("# comment\né = 1").lines,
              ElementsAre("2:1: non-ASCII character U+00E9 outside a string or comment"));
}

TEST(InputGuardTest, AcceptsALeadingByteOrderMark) {
  EXPECT_THAT(check("\xEF\xBB\xBFname = \"x\"\n").lines, IsEmpty());
  // Columns are bytes, the mark's included.
  EXPECT_THAT(check("\xEF\xBB\xBF\xC3\xA9 = 1").lines,
              ElementsAre("1:4: non-ASCII character U+00E9 outside a string or comment"));
  // Anywhere else U+FEFF is just a non-ASCII character.
  EXPECT_THAT(check("a = 1\xEF\xBB\xBF").lines,
              ElementsAre("1:6: non-ASCII character U+FEFF outside a string or comment"));
}

// ---------------------------------------------------------------- UTF-8

struct BadUtf8 {
  std::string bytes;
  std::string problem;
};

TEST(InputGuardTest, RefusesMalformedUtf8InsideAndOutsideStrings) {
  const std::vector<BadUtf8> cases = {
      {"\x80", "stray continuation byte 0x80"},
      {"\xBF", "stray continuation byte 0xBF"},
      {"\xC0\xAF", "byte 0xC0 starts an overlong encoding"},
      {"\xC1\xBF", "byte 0xC1 starts an overlong encoding"},
      {"\xE0\x80\xAF", "bytes 0xE0 0x80 start an overlong encoding"},
      {"\xF0\x8F\xBF\xBF", "bytes 0xF0 0x8F start an overlong encoding"},
      {"\xED\xA0\x80", "bytes 0xED 0xA0 start a UTF-16 surrogate"},
      {"\xED\xBF\xBF", "bytes 0xED 0xBF start a UTF-16 surrogate"},
      {"\xF4\x90\x80\x80", "bytes 0xF4 0x90 start a code point above U+10FFFF"},
      {"\xF5\x80\x80\x80", "byte 0xF5 starts a code point above U+10FFFF"},
      {"\xF8\x88\x80\x80\x80", "byte 0xF8 never appears in UTF-8"},
      {"\xFF", "byte 0xFF never appears in UTF-8"},
      {"\xC3", "byte 0xC3 starts a truncated sequence"},
      {"\xC3z", "byte 0xC3 starts a truncated sequence"},
      {"\xE2\x82", "byte 0xE2 starts a truncated sequence"},
      {"\xF0\x9F\x9A", "byte 0xF0 starts a truncated sequence"},
  };
  struct Placement {
    std::string before;
    std::string after;
    std::string where;
  };
  const std::vector<Placement> placements = {
      {"a = \"", "\"", "1:6"},               // basic string
      {"# ", "\n", "1:3"},                   // comment
      {"a = 1\nb = '''\n\n", "'''", "4:1"},  // multi-line literal string
      {"x = ", "", "1:5"},                   // code
  };
  for (const BadUtf8& bad : cases) {
    for (const Placement& placement : placements) {
      const std::string text = placement.before + bad.bytes + placement.after;
      SCOPED_TRACE(text);
      const Verdict verdict = check(text);
      EXPECT_FALSE(verdict.accepted);
      EXPECT_THAT(verdict.lines,
                  ElementsAre(placement.where + ": invalid UTF-8 (" + bad.problem + ")"));
      ASSERT_EQ(verdict.diagnostics.size(), 1u);
      EXPECT_EQ(verdict.diagnostics[0].hint, "save the file as UTF-8");
    }
  }
}

TEST(InputGuardTest, AcceptsTheEdgesOfValidUtf8) {
  // U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF
  EXPECT_THAT(check("a = \"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
                    "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"")
                  .lines,
              IsEmpty());
}

TEST(InputGuardTest, MalformedUtf8OutsideStringsIsReportedOnlyAsUtf8) {
  EXPECT_THAT(check("a = \xC3(").lines,
              ElementsAre("1:5: invalid UTF-8 (byte 0xC3 starts a truncated sequence)"));
}

// ---------------------------------------------------------------- NUL

TEST(InputGuardTest, RefusesNulBytesAnywhere) {
  using namespace std::string_literals;
  EXPECT_THAT(check("a = 1\n[\0"s).lines, ElementsAre("2:2: NUL byte (0x00) in the input"));
  EXPECT_THAT(check("a = \"x\0y\""s).lines, ElementsAre("1:7: NUL byte (0x00) in the input"));
  EXPECT_THAT(check("# \0"s).lines, ElementsAre("1:3: NUL byte (0x00) in the input"));
  const Verdict verdict = check("\0\0\0"s);
  EXPECT_THAT(verdict.lines, ElementsAre("1:1: NUL byte (0x00) in the input"));
  EXPECT_THAT(verdict.diagnostics[0].hint, HasSubstr("remove the NUL bytes"));
}

// ---------------------------------------------------------------- non-ASCII

TEST(InputGuardTest, RefusesNonAsciiOutsideStringsAndComments) {
  EXPECT_THAT(check("é = 1").lines,
              ElementsAre("1:1: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("a = é").lines,
              ElementsAre("1:5: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("[é]").lines,
              ElementsAre("1:2: non-ASCII character U+00E9 outside a string or comment"));
  EXPECT_THAT(check("[a]\nb = \"ok\" # fine\nc.ключ = 1").lines,
              ElementsAre("3:3: non-ASCII character U+043A outside a string or comment"));
  EXPECT_THAT(check("x = 1\n\xF0\x9F\x9A\x80 = 1").lines,
              ElementsAre("2:1: non-ASCII character U+1F680 outside a string or comment"));
  const Verdict verdict = check("é = 1");
  ASSERT_EQ(verdict.diagnostics.size(), 1u);
  EXPECT_THAT(verdict.diagnostics[0].hint, HasSubstr("put the text in quotes"));
}

TEST(InputGuardTest, ReportsEachKindOnceAtItsFirstOccurrenceAndKeepsScanning) {
  using namespace std::string_literals;
  const Verdict verdict = check("é = 1\nü = 2\na = \"\0\"\nb = \"\xC3\" # \xFF\n\0 ö\n"s);
  EXPECT_FALSE(verdict.accepted);
  EXPECT_THAT(verdict.lines,
              ElementsAre("1:1: non-ASCII character U+00E9 outside a string or comment",
                          "3:6: NUL byte (0x00) in the input",
                          "4:6: invalid UTF-8 (byte 0xC3 starts a truncated sequence)"));
}

TEST(InputGuardTest, AQuoteRightAfterAValueDoesNotOpenAString) {
  // toml++ reads `1"é"` as one value up to the next blank, `,`, `]`, `}` or `#`.
  const std::vector<std::string> inputs = {
      "a = 1\"é\"",     "a = 1'é'",         "a = 07:32:00\"é\"",
      "a = [1\"é\"]",   "a = {b = -\"é\"}", "a = 1979-05-27T07:32:00Z\"é\"",
      "a = \"x\"\"é\"",
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    const Verdict verdict = check(input);
    ASSERT_EQ(verdict.diagnostics.size(), 1u);
    EXPECT_EQ(verdict.diagnostics[0].message,
              "non-ASCII character U+00E9 outside a string or comment");
  }
  EXPECT_THAT(check("a = 1\"é\"").lines,
              ElementsAre("1:7: non-ASCII character U+00E9 outside a string or comment"));
  // Strings do open after `=`, `[`, `{`, `,`, `.`, blanks and line ends.
  EXPECT_THAT(
      check("a=\"é\"\nb=['é',\"é\"]\nc={d=\"é\",e='é'}\nf.\"é\".'é'=1\n\t\"é\" = 1\r\n'é' = 1")
          .lines,
      IsEmpty());
}

TEST(InputGuardTest, QuotesInsideABareValueAreNotStrings) {
  // toml++ reads a number or date up to a blank, `,`, `]`, `}` or `#`, through
  // any `=`, `.` or quote, so such a quote opens no string (found by fuzzing).
  for (const std::string_view input :
       {"A=0b100=\"é\"", "a = 1.\"é\"", "a = 1979-05-27 07:32:00\"é\"", "a = [1, 2\"é\"]",
        "a = {b = 1, c = 2.\"é\"}", "a = tr'x'.\"é\""}) {
    SCOPED_TRACE(input);
    const Verdict verdict = check(input);
    ASSERT_EQ(verdict.diagnostics.size(), 1u);
    EXPECT_EQ(verdict.diagnostics[0].message,
              "non-ASCII character U+00E9 outside a string or comment");
  }
  // Keys are not values: a quoted segment after a bare one is a string.
  EXPECT_THAT(check("1.\"é\" = 2\n"
                    "a = {b = 1, \"é\" = 2, c.'é' = [{d = \"é\"}, {e = 'é'}]}\n"
                    "[[a.\"é\"]]\n"
                    "f = [\n  1, # é\n  \"é\",\n]\n")
                  .lines,
              IsEmpty());
}

TEST(InputGuardTest, RefusesNonAsciiRightAfterABackslashInAMultiLineBasicString) {
  EXPECT_THAT(check("a = \"\"\"\\é\"\"\"").lines,
              ElementsAre("1:9: non-ASCII character U+00E9 right after a backslash in a "
                          "multi-line string"));
  // A line-ending backslash skips blanks and line ends; the first character
  // after them is the one that matters.
  const Verdict verdict = check("a = \"\"\"\\  \n   \n  \xF0\x9F\x9A\x80\"\"\"");
  EXPECT_THAT(verdict.lines, ElementsAre("3:3: non-ASCII character U+1F680 right after a "
                                         "backslash in a multi-line string"));
  ASSERT_EQ(verdict.diagnostics.size(), 1u);
  EXPECT_THAT(verdict.diagnostics[0].hint, HasSubstr("the escape \\U0001F680"));
  const Verdict crlf = check("a = \"\"\"\\\r\né\"\"\"");
  ASSERT_EQ(crlf.diagnostics.size(), 1u);
  EXPECT_THAT(crlf.diagnostics[0].hint, HasSubstr("the escape \\u00E9"));
  // Not after \\ or \" , not after an ASCII character, not in other strings.
  EXPECT_THAT(check("a = \"\"\"\\\\é \\\"é \\\n  xé\"\"\"\nb = \"\\é\"\nc = '''\\\né'''").lines,
              IsEmpty());
}

// The inputs on which libFuzzer and hand tests made toml++ 3.3.0 reach
// undefined behaviour or crash (docs/testing.md).
TEST(InputGuardTest, RefusesTheInputsThatBreakToml330) {
  using namespace std::string_literals;
  const std::vector<std::string> inputs = {
      "\xEF\xBB\xBE"s,
      "[\0"s,
      "é = 1"s,
      "a = é"s,
      "[é]"s,
      "ключ = 1"s,
      "かぎ = 1"s,
      "a\xEF\xB8\x8F = 1"s,
      "a = [" + repeat("[", 250) + repeat("]", 251),
      repeat("a.", 20'000) + "a = 1",
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input.substr(0, 20));
    EXPECT_FALSE(check(input).accepted);
  }
  EXPECT_THAT(check("\xEF\xBB\xBE").lines,
              ElementsAre("1:1: non-ASCII character U+FEFE outside a string or comment"));
}

// ---------------------------------------------------------------- nesting

TEST(InputGuardTest, RefusesNestingDeeperThanTheLimit) {
  EXPECT_THAT(check("a = " + repeat("[", 32) + repeat("]", 32)).lines, IsEmpty());
  const Verdict verdict = check("a = " + repeat("[", 33) + repeat("]", 33));
  EXPECT_THAT(verdict.lines, ElementsAre("1:37: arrays, tables and inline tables nested more "
                                         "than 32 deep (the limit)"));
  ASSERT_EQ(verdict.diagnostics.size(), 1u);
  EXPECT_THAT(verdict.diagnostics[0].hint, HasSubstr("at most 32 at once"));
}

TEST(InputGuardTest, CountsBracketsAndBracesTogetherOutsideStringsOnly) {
  InputLimits limits;
  limits.maxNesting = 3;
  EXPECT_THAT(check("a = [{b = [1]}]", limits).lines, IsEmpty());
  EXPECT_THAT(check("a = [{b = [{c = 1}]}]", limits).lines,
              ElementsAre("1:12: arrays, tables and inline tables nested more than 3 deep "
                          "(the limit)"));
  // Closed brackets free their level; brackets in strings and comments do not count.
  EXPECT_THAT(check(repeat("a = [[[1]]]\n", 100) + "b = \"[[[[\" # {{{{\nc = '{{{{'\n" +
                        "d = \"\"\"\n[[[[\n\"\"\"\ne = '''[[[[''' ",
                    limits)
                  .lines,
              IsEmpty());
  // [[step]] opens two at a moment.
  limits.maxNesting = 1;
  EXPECT_THAT(check("[[step]]", limits).lines,
              ElementsAre("1:2: arrays, tables and inline tables nested more than 1 deep "
                          "(the limit)"));
}

TEST(InputGuardTest, RefusesArraysNestedTenThousandDeepOnce) {
  const Verdict verdict = check("a = " + repeat("[", 10'000) + repeat("]", 10'000));
  EXPECT_THAT(verdict.lines, ElementsAre("1:37: arrays, tables and inline tables nested more "
                                         "than 32 deep (the limit)"));
}

// ---------------------------------------------------------------- dotted keys

TEST(InputGuardTest, RefusesDottedKeysWithMoreDotsThanTheLimit) {
  EXPECT_THAT(check(repeat("a.", 32) + "a = 1").lines, IsEmpty());
  const Verdict verdict = check(repeat("a.", 33) + "a = 1");
  EXPECT_THAT(verdict.lines,
              ElementsAre("1:66: dotted key or table header with more than 32 dots (the limit)"));
  EXPECT_THAT(check("[" + repeat("t . ", 33) + "t]").lines,
              ElementsAre("1:132: dotted key or table header with more than 32 dots (the limit)"));
}

TEST(InputGuardTest, CountsQuotedKeySegmentsButNotTheDotsInsideThem) {
  InputLimits limits;
  limits.maxDottedKeyDepth = 2;
  EXPECT_THAT(check("\"a.b.c.d\".'e.f.g'.h = 1", limits).lines, IsEmpty());
  EXPECT_THAT(check("\"a\".'b'.\"c\".d = 1", limits).lines,
              ElementsAre("1:12: dotted key or table header with more than 2 dots (the limit)"));
  EXPECT_THAT(check("[\"a\" . b . 'c' . d]", limits).lines,
              ElementsAre("1:16: dotted key or table header with more than 2 dots (the limit)"));
}

TEST(InputGuardTest, OtherCharactersAndLineEndsResetTheDotCount) {
  InputLimits limits;
  limits.maxDottedKeyDepth = 2;
  // Floats in an array, a key and its float value, dates, lines of dotted keys.
  EXPECT_THAT(check("a = [" + repeat("1.5, 2.5, ", 100) + "3.5]\n" + "a.b.c = 1.5\n" +
                        "t = 1979-05-27T07:32:00.999\n" + repeat("x.y.z = 1\n", 50) +
                        "s = \"\"\"1.2.3.4\"\"\"\n",
                    limits)
                  .lines,
              IsEmpty());
}

TEST(InputGuardTest, RefusesADottedKeyAMillionLevelsDeepQuickly) {
  const std::string text = repeat("a.", 1'000'000) + "a = 1\n";  // ~2 MB
  const Verdict verdict = check(text);
  EXPECT_THAT(verdict.lines,
              ElementsAre("1:66: dotted key or table header with more than 32 dots (the limit)"));
}

// ---------------------------------------------------------------- size

TEST(InputGuardTest, RefusesInputOverTheSizeLimit) {
  InputLimits limits;
  limits.maxBytes = 10;
  EXPECT_THAT(check("a = 123456", limits).lines, IsEmpty());
  const Verdict verdict = check("a = 1234567", limits);
  EXPECT_THAT(verdict.lines,
              ElementsAre("0:0: input is 11 bytes, more than the limit of 10 bytes"));
}

// ---------------------------------------------------------------- files

class ReadInputFileTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& content) {
    return temp_.write(name, content);
  }

  test_support::TempDir temp_;
  std::filesystem::path dir_ = temp_.path();
};

TEST_F(ReadInputFileTest, ReadsAFileUpToTheLimit) {
  InputLimits limits;
  limits.maxBytes = 8;
  const auto empty = readInputFile(write("empty.toml", ""), limits);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, "");
  const auto full = readInputFile(write("full.toml", "a = 1234"), limits);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(*full, "a = 1234");
}

TEST_F(ReadInputFileTest, RefusesAFileOneByteOverTheLimit) {
  InputLimits limits;
  limits.maxBytes = 8;
  const auto path = write("big.toml", "a = 12345");
  const auto result = readInputFile(path, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "runbook '" + path.string() + "' is 9 bytes, more than the limit of 8 bytes");
  EXPECT_THAT(result.error().hint, HasSubstr("check that this is the right file"));
}

TEST_F(ReadInputFileTest, RefusesAHundredMegabyteFileFromItsSize) {
  const std::filesystem::path path = dir_ / "huge.toml";
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 100 * 1024 * 1024), 0);  // sparse: costs no disk
  ::close(fd);
  const auto result = readInputFile(path, InputLimits{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(
      result.error().message,
      "runbook '" + path.string() + "' is 104857600 bytes, more than the limit of 8388608 bytes");
}

TEST_F(ReadInputFileTest, ReadsAtMostOneByteOverTheLimitFromAnEndlessFile) {
  // /dev/zero has no size and no end: only a bounded read returns.
  InputLimits limits;
  limits.maxBytes = 100'000;
  const auto result = readInputFile("/dev/zero", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "runbook '/dev/zero' is larger than the limit of 100000 bytes");
}

TEST_F(ReadInputFileTest, NamesThePathAndTheReasonWhenItCannotRead) {
  const auto missing = readInputFile(dir_ / "missing.toml", InputLimits{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "cannot read runbook '" + (dir_ / "missing.toml").string() +
                                         "': No such file or directory");
  EXPECT_EQ(missing.error().hint, "check the path");

  const auto directory = readInputFile(dir_, InputLimits{});
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message,
            "cannot read runbook '" + dir_.string() + "': it is a directory");
}

}  // namespace
}  // namespace lifeboat::config
