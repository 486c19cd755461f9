#pragma once
// A tiny terminal for tests: applies the bytes a View writes to a grid of
// lines so that tests assert on what a user would see, not on raw escapes.
// Understands printable UTF-8, '\r', '\n', ESC[nA (cursor up), ESC[K / ESC[0K
// / ESC[2K (erase in line), ESC[J / ESC[0J (erase below) and ESC[...m
// (colours, ignored). Anything else, a line wider than the terminal, or a
// cursor moved above the first row is recorded in problems().

#include <string>
#include <string_view>
#include <vector>

namespace lifeboat::live::testing {

class TerminalScreen {
 public:
  explicit TerminalScreen(int width) : width_(width) {}

  void feed(std::string_view bytes);

  // Visible lines, trailing blanks trimmed, trailing empty lines dropped.
  std::vector<std::string> lines() const;
  // lines() joined with '\n'.
  std::string text() const;
  int cursorRow() const { return row_; }
  int largestCursorUp() const { return largestCursorUp_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void put(std::string cell);
  void escape(std::string_view parameters, char command);

  int width_;
  int row_ = 0;
  int column_ = 0;
  int largestCursorUp_ = 0;
  std::vector<std::vector<std::string>> grid_;  // one UTF-8 character per cell
  std::vector<std::string> problems_;
  std::string pending_;  // an escape sequence or UTF-8 character split across feeds
};

}  // namespace lifeboat::live::testing
