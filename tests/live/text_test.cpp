#include "lifeboat/live/text.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "lifeboat/live/view.hpp"

namespace lifeboat::live {
namespace {

using std::chrono::milliseconds;

TEST(FormatElapsed, PicksACompactFormPerMagnitude) {
  EXPECT_EQ(formatElapsed(milliseconds(0)), "0ms");
  EXPECT_EQ(formatElapsed(milliseconds(850)), "850ms");
  EXPECT_EQ(formatElapsed(milliseconds(1'000)), "1.0s");
  EXPECT_EQ(formatElapsed(milliseconds(12'345)), "12.3s");
  EXPECT_EQ(formatElapsed(milliseconds(59'999)), "59.9s");
  EXPECT_EQ(formatElapsed(milliseconds(63'000)), "1m03s");
  EXPECT_EQ(formatElapsed(milliseconds(3'599'999)), "59m59s");
  EXPECT_EQ(formatElapsed(milliseconds(3'723'000)), "1h02m03s");
  EXPECT_EQ(formatElapsed(milliseconds(-12'000)), "-12.0s");
}

TEST(TerminalSafe, ReplacesControlCharactersAndInvalidBytes) {
  EXPECT_EQ(terminalSafe("plain ✓ text"), "plain ✓ text");
  EXPECT_EQ(terminalSafe("\x1b[31mred\x1b[0m"), "?[31mred?[0m");
  EXPECT_EQ(terminalSafe("a\tb\nc\rd\x7f"), "a b?c?d?");
  EXPECT_EQ(terminalSafe("\xc2\x9b"), "?");           // C1 CSI, valid UTF-8
  EXPECT_EQ(terminalSafe("bad \xff\xc3"), "bad ??");  // invalid, truncated
  EXPECT_EQ(terminalSafe("\xc0\xaf"), "??");          // overlong '/'
  EXPECT_EQ(terminalSafe("\xed\xa0\x80"), "???");     // surrogate
}

TEST(DisplayWidth, CountsWideCharactersTwice) {
  EXPECT_EQ(displayWidth("abc"), 3);
  EXPECT_EQ(displayWidth("✓ ok"), 4);
  EXPECT_EQ(displayWidth("日本"), 4);
}

TEST(TruncateToWidth, CutsWholeCharactersAndMarksTheCut) {
  EXPECT_EQ(truncateToWidth("short", 10), "short");
  EXPECT_EQ(truncateToWidth("exactly10!", 10), "exactly10!");
  EXPECT_EQ(truncateToWidth("abcdefghijk", 5), "abcd…");
  EXPECT_EQ(displayWidth(truncateToWidth("✓✓✓✓✓✓", 4)), 4);
  EXPECT_EQ(truncateToWidth("日本語", 4), "日…");
  EXPECT_EQ(truncateToWidth("abc", 0), "");
}

TEST(OptionsForTerminal, APipeGetsPlainLines) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const ViewOptions options = optionsForTerminal(fds[1]);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(options.style, Style::lines);
  EXPECT_FALSE(options.color);
}

}  // namespace
}  // namespace lifeboat::live
