#include "terminal_screen.hpp"

#include <algorithm>
#include <cstdlib>

namespace lifeboat::live::testing {

void TerminalScreen::feed(std::string_view bytes) {
  std::string input = pending_ + std::string(bytes);
  pending_.clear();
  std::size_t at = 0;
  while (at < input.size()) {
    const unsigned char c = static_cast<unsigned char>(input[at]);
    if (c == 0x1b) {
      if (at + 1 >= input.size()) {
        pending_ = input.substr(at);
        return;
      }
      if (input[at + 1] != '[') {
        problems_.push_back("escape not a CSI sequence");
        at += 2;
        continue;
      }
      std::size_t end = at + 2;
      while (end < input.size() &&
             ((input[end] >= '0' && input[end] <= '9') || input[end] == ';')) {
        ++end;
      }
      if (end >= input.size()) {
        pending_ = input.substr(at);
        return;
      }
      escape(std::string_view(input).substr(at + 2, end - at - 2), input[end]);
      at = end + 1;
    } else if (c == '\r') {
      column_ = 0;
      ++at;
    } else if (c == '\n') {
      ++row_;
      column_ = 0;
      ++at;
    } else if (c < 0x20 || c == 0x7f) {
      problems_.push_back("control character " + std::to_string(c));
      ++at;
    } else {
      std::size_t length = 1;
      if (c >= 0xF0) {
        length = 4;
      } else if (c >= 0xE0) {
        length = 3;
      } else if (c >= 0xC0) {
        length = 2;
      }
      if (at + length > input.size()) {
        pending_ = input.substr(at);
        return;
      }
      put(input.substr(at, length));
      at += length;
    }
  }
}

void TerminalScreen::put(std::string cell) {
  if (column_ >= width_) {
    problems_.push_back("row " + std::to_string(row_) + " is wider than " + std::to_string(width_) +
                        " columns");
  }
  if (static_cast<int>(grid_.size()) <= row_) {
    grid_.resize(row_ + 1);
  }
  std::vector<std::string>& line = grid_[row_];
  if (static_cast<int>(line.size()) <= column_) {
    line.resize(column_ + 1, " ");
  }
  line[column_] = std::move(cell);
  ++column_;
}

void TerminalScreen::escape(std::string_view parameters, char command) {
  const int n = parameters.empty() ? 0 : std::atoi(std::string(parameters).c_str());
  switch (command) {
    case 'A': {
      const int up = n == 0 ? 1 : n;
      largestCursorUp_ = std::max(largestCursorUp_, up);
      if (up > row_) {
        problems_.push_back("cursor moved above the first row");
      }
      row_ = std::max(0, row_ - up);
      return;
    }
    case 'K':
      if (row_ < static_cast<int>(grid_.size())) {
        std::vector<std::string>& line = grid_[row_];
        if (n == 2) {
          line.clear();
        } else if (n == 0 && static_cast<int>(line.size()) > column_) {
          line.resize(column_);
        } else if (n != 0) {
          problems_.push_back("unsupported erase in line " + std::string(parameters));
        }
      }
      return;
    case 'J':
      if (n != 0) {
        problems_.push_back("unsupported erase in display " + std::string(parameters));
        return;
      }
      if (row_ < static_cast<int>(grid_.size())) {
        if (static_cast<int>(grid_[row_].size()) > column_) {
          grid_[row_].resize(column_);
        }
        grid_.resize(row_ + 1);
      }
      return;
    case 'm':
      return;
    default:
      problems_.push_back(std::string("unsupported escape ") + command);
  }
}

std::vector<std::string> TerminalScreen::lines() const {
  std::vector<std::string> result;
  for (const std::vector<std::string>& row : grid_) {
    std::string line;
    for (const std::string& cell : row) {
      line += cell;
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    result.push_back(std::move(line));
  }
  while (!result.empty() && result.back().empty()) {
    result.pop_back();
  }
  return result;
}

std::string TerminalScreen::text() const {
  std::string joined;
  for (const std::string& line : lines()) {
    joined += line;
    joined += '\n';
  }
  return joined;
}

}  // namespace lifeboat::live::testing
