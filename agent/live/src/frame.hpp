#pragma once
// The interactive view's block as lines of text, from the run model alone:
// no terminal control here, only what each line says and its colours.

#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "run_model.hpp"

namespace lifeboat::live {

// SGR parameters, e.g. "1;31"; empty = default rendition.
namespace sgr {
inline constexpr std::string_view kNone = "";
inline constexpr std::string_view kBold = "1";
inline constexpr std::string_view kDim = "2";
inline constexpr std::string_view kRed = "31";
inline constexpr std::string_view kBoldRed = "1;31";
inline constexpr std::string_view kGreen = "32";
inline constexpr std::string_view kYellow = "33";
inline constexpr std::string_view kCyan = "36";
}  // namespace sgr

// A line built from pieces of terminal-safe text, each with its colour.
class StyledLine {
 public:
  StyledLine& add(std::string text, std::string_view color = sgr::kNone);
  // At most `columns` visible columns ("…" marks a cut), with colour escapes
  // only when `color`.
  std::string render(bool color, int columns) const;
  int width() const;

 private:
  struct Piece {
    std::string text;
    std::string_view color;
  };
  std::vector<Piece> pieces_;
};

struct FrameInput {
  const RunModel& model;
  Timestamp now;  // the reference for running times (the run's end once finished)
  unsigned spinnerFrame = 0;
  int maxLines = 23;       // the block's height limit, at least 1
  bool lastFrame = false;  // no spinners: the last frame of the run
};

// The block: a header, the steps that fit, a line counting the steps left
// out, and the summary of steps this mode skips. Never more than maxLines.
std::vector<StyledLine> composeFrame(const FrameInput& input);

}  // namespace lifeboat::live
