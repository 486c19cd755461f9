#include <algorithm>
#include <string>
#include <vector>

#include "describe.hpp"
#include "frame.hpp"
#include "run_model.hpp"
#include "views.hpp"

namespace lifeboat::live {
namespace {

// The block redrawn in place. Invariant between calls: the block's
// drawnLines_ lines end just above the cursor, which sits in column 0 of the
// line after them (drawnLines_ == 0: nothing of ours is on screen below
// the cursor). Each block line is narrower than the terminal, so no line
// wraps and "cursor up drawnLines_" always lands on the block's first line.
// Only these escapes are written: ESC[nA (cursor up), ESC[2K (erase line),
// ESC[J (erase below), ESC[...m (colour, only with options.color).
class InteractiveView final : public View {
 public:
  InteractiveView(const ViewOptions& options, std::ostream& out) : options_(options), out_(out) {}

  void onEvent(const Event& event) override {
    if (finished_ || !model_.apply(event)) {
      return;
    }
    if (!haveNow_ || event.time > now_) {
      now_ = event.time;
      haveNow_ = true;
    }
    const std::string_view type = event.type;
    if (type == event_type::kRunFinished) {
      summary_ = describeEvent(event, model_);
      summaryColor_ = model_.outcome() == "done" ? sgr::kGreen : sgr::kBoldRed;
    }
    const std::string_view color = permanentColor(event);
    if (color != kNotPermanent) {
      for (std::string& line : describeEvent(event, model_)) {
        held_.push_back({std::move(line), color});
      }
    }
    // Output can arrive thousands of times a second: the next tick shows it.
    if (!suspended_ && (type != event_type::kStepOutput || !held_.empty())) {
      redraw();
    }
  }

  void tick(Timestamp now) override {
    if (finished_) {
      return;
    }
    if (!haveNow_ || now > now_) {
      now_ = now;
      haveNow_ = true;
    }
    ++spinnerFrame_;
    if (!suspended_) {
      redraw();
    }
  }

  void suspend() override {
    if (finished_ || suspended_) {
      return;
    }
    erase();
    out_.flush();
    suspended_ = true;
  }

  void resume() override {
    if (finished_ || !suspended_) {
      return;
    }
    suspended_ = false;
    redraw();
  }

  void finish() override {
    if (finished_) {
      return;
    }
    suspended_ = false;
    lastFrame_ = true;
    redraw();
    for (const std::string& line : summary_) {
      writeColored(line, summaryColor_);
    }
    drawnLines_ = 0;
    finished_ = true;
    out_.flush();
  }

 private:
  struct HeldLine {
    std::string text;
    std::string_view color;
  };

  // A colour that no sgr constant uses: "not printed above the block".
  static constexpr std::string_view kNotPermanent = "-";

  // Which events leave a permanent line above the block, and in what colour.
  std::string_view permanentColor(const Event& event) const {
    const std::string_view type = event.type;
    if (type == event_type::kDecisionRequested || type == event_type::kDecisionMade) {
      return sgr::kCyan;
    }
    if (type == event_type::kNotifyRequested) {
      return sgr::kNone;
    }
    if (type == event_type::kRunCancelling || type == event_type::kRunResumed) {
      return sgr::kYellow;
    }
    if (type == event_type::kPreflightFinished) {
      const bool ok = boolMember(event.data, "ok").value_or(false);
      const boost::json::array* warnings = arrayMember(event.data, "warnings");
      if (!ok) {
        return sgr::kBoldRed;
      }
      return warnings != nullptr && !warnings->empty() ? sgr::kYellow : kNotPermanent;
    }
    if (type == event_type::kStepFinished) {
      const std::string_view status = stringMember(event.data, "status");
      const bool bad = status != "ok" && status != "skipped";
      return bad ? sgr::kRed : kNotPermanent;
    }
    if (type == event_type::kObjectiveEvaluated) {
      const std::string_view verdict = stringMember(event.data, "verdict");
      return verdict == "met" ? sgr::kGreen : verdict == "breached" ? sgr::kBoldRed : sgr::kYellow;
    }
    return kNotPermanent;
  }

  int columns() const { return std::max(1, options_.width - 1); }

  void writeColored(const std::string& text, std::string_view color) {
    if (options_.color && !color.empty()) {
      out_ << "\r\x1b[2K\x1b[" << color << 'm' << text << "\x1b[0m\n";
    } else {
      out_ << "\r\x1b[2K" << text << '\n';
    }
  }

  // Moves to the block's first line and erases it and everything below.
  void erase() {
    if (drawnLines_ > 0) {
      out_ << "\x1b[" << drawnLines_ << 'A';
    }
    out_ << "\r\x1b[J";
    drawnLines_ = 0;
  }

  // Prints held permanent lines, then the block, over the old block.
  void redraw() {
    const FrameInput input{model_, frameTime(), spinnerFrame_, std::max(1, options_.height - 1),
                           lastFrame_};
    const std::vector<StyledLine> frame = composeFrame(input);
    const int previous = drawnLines_;
    if (!held_.empty()) {
      erase();
      for (const HeldLine& line : held_) {
        writeColored(line.text, line.color);
      }
      held_.clear();
    } else if (previous > 0) {
      out_ << "\x1b[" << previous << 'A';
    }
    for (const StyledLine& line : frame) {
      out_ << "\r\x1b[2K" << line.render(options_.color, columns()) << '\n';
    }
    if (static_cast<int>(frame.size()) < drawnLines_) {
      out_ << "\x1b[J";  // the old block was taller
    }
    drawnLines_ = static_cast<int>(frame.size());
    out_.flush();
  }

  // Running times count to now, or to the run's end once it finished.
  Timestamp frameTime() const {
    if (model_.finished() && model_.finishedAt()) {
      return *model_.finishedAt();
    }
    return haveNow_ ? now_ : model_.startedAt().value_or(Timestamp{});
  }

  ViewOptions options_;
  std::ostream& out_;
  RunModel model_;
  Timestamp now_{};
  bool haveNow_ = false;
  unsigned spinnerFrame_ = 0;
  int drawnLines_ = 0;
  bool suspended_ = false;
  bool finished_ = false;
  bool lastFrame_ = false;
  std::vector<HeldLine> held_;
  std::vector<std::string> summary_;
  std::string_view summaryColor_ = sgr::kNone;
};

}  // namespace

std::unique_ptr<View> makeInteractiveView(const ViewOptions& options, std::ostream& out) {
  return std::make_unique<InteractiveView>(options, out);
}

}  // namespace lifeboat::live
