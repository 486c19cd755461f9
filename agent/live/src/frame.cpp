#include "frame.hpp"

#include <algorithm>
#include <array>

#include "describe.hpp"
#include "lifeboat/live/text.hpp"

namespace lifeboat::live {

namespace {

constexpr std::array<std::string_view, 10> kSpinner{"⠋", "⠙", "⠹", "⠸", "⠼",
                                                    "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr int kMaxLabelWidth = 36;
constexpr int kDurationWidth = 8;

std::string elapsedText(std::int64_t ms) {
  return formatElapsed(std::chrono::milliseconds(ms));
}

std::string padLeft(std::string text, int columns) {
  const int width = displayWidth(text);
  return width >= columns ? text
                          : std::string(static_cast<std::size_t>(columns - width), ' ') + text;
}

std::string padRight(std::string text, int columns) {
  const int width = displayWidth(text);
  return width >= columns ? text
                          : text + std::string(static_cast<std::size_t>(columns - width), ' ');
}

bool isActive(const StepModel& step) {
  const bool rollbackRunning = step.rollback && step.rollback->state == StepState::running;
  return step.main.state == StepState::running || step.main.state == StepState::waiting ||
         rollbackRunning;
}

bool isFailure(const StepModel& step) {
  const StepState state = step.main.state;
  const bool rollbackFailed = step.rollback && (step.rollback->state == StepState::failed ||
                                                step.rollback->state == StepState::timedOut);
  return state == StepState::failed || state == StepState::timedOut ||
         state == StepState::cancelled || rollbackFailed;
}

std::int64_t runningFor(const StepActivity& activity, Timestamp now) {
  return activity.startedAt ? std::max<std::int64_t>(0, (now - *activity.startedAt).count()) : 0;
}

std::string labelOf(const StepModel& step) {
  return step.name.empty() ? step.id : step.id + " " + step.name;
}

void addObjectives(StyledLine& line, const FrameInput& input) {
  const RunModel& model = input.model;
  const ObjectiveModel& rto = model.rto();
  if (rto.targetMs) {
    const std::int64_t target = *rto.targetMs;
    const std::optional<std::int64_t> value = rto.evaluatedMs ? rto.evaluatedMs : rto.measuredMs;
    line.add(" · ");
    if (rto.verdict == "unknown") {
      line.add("RTO unknown (not measured)", sgr::kYellow);
    } else if (rto.verdict == "met" || (rto.verdict.empty() && value && *value <= target)) {
      line.add("RTO met at " + (value ? elapsedText(*value) : std::string("?")), sgr::kGreen);
    } else if (rto.verdict == "breached" || (rto.verdict.empty() && value)) {
      line.add(value ? "RTO breached by " + elapsedText(*value - target) : "RTO breached",
               sgr::kBoldRed);
    } else if (model.finished()) {
      line.add("RTO unknown (not measured)", sgr::kYellow);
    } else if (model.outageStart()) {
      const std::int64_t left =
          (*model.outageStart() + std::chrono::milliseconds(target) - input.now).count();
      if (left >= 0) {
        line.add("RTO budget left " + elapsedText(left),
                 left * 5 < target ? sgr::kYellow : sgr::kNone);
      } else {
        line.add("RTO breached by " + elapsedText(-left), sgr::kBoldRed);
      }
    }
  }
  const ObjectiveModel& rpo = model.rpo();
  if (!rpo.verdict.empty()) {
    const std::optional<std::int64_t> value = rpo.evaluatedMs;
    const std::string shown = value ? " (" + elapsedText(*value) + ")" : "";
    line.add(" · ");
    if (rpo.verdict == "met") {
      line.add("RPO met" + shown, sgr::kGreen);
    } else if (rpo.verdict == "breached") {
      line.add("RPO breached" + shown, sgr::kBoldRed);
    } else {
      line.add("RPO " + rpo.verdict + shown, sgr::kYellow);
    }
  } else if (rpo.measuredMs) {
    line.add(" · RPO " + elapsedText(*rpo.measuredMs));
  }
}

StyledLine headerLine(const FrameInput& input) {
  const RunModel& model = input.model;
  StyledLine line;
  line.add(model.runbookName().empty() ? std::string("lifeboat") : model.runbookName(), sgr::kBold);
  if (model.started()) {
    line.add(" · ");
    line.add(model.drill() ? "DRILL" : "REAL", model.drill() ? sgr::kYellow : sgr::kBoldRed);
  }
  if (model.startedAt()) {
    line.add(" · " +
             elapsedText(std::max<std::int64_t>(0, (input.now - *model.startedAt()).count())));
  }
  addObjectives(line, input);
  if (model.finished()) {
    const bool good = model.outcome() == "done";
    line.add(" · ");
    line.add(model.outcome().empty() ? std::string("finished") : model.outcome(),
             good ? sgr::kGreen : sgr::kBoldRed);
  }
  if (!model.runId().empty()) {
    line.add(" · run " + model.runId(), sgr::kDim);
  }
  return line;
}

std::string attemptText(const StepActivity& activity, const StepModel& step) {
  if (activity.attempt <= 1) {
    return {};
  }
  if (step.maxAttempts && *step.maxAttempts >= activity.attempt) {
    return std::to_string(activity.attempt) + "/" + std::to_string(*step.maxAttempts);
  }
  return "try " + std::to_string(activity.attempt);
}

StyledLine stepLine(const StepModel& step, const FrameInput& input, int labelWidth) {
  const StepActivity& main = step.main;
  std::string symbol;
  std::string_view color = sgr::kNone;
  std::string duration;
  std::string detail = step.lastLine;
  std::string_view detailColor = sgr::kDim;
  switch (main.state) {
    case StepState::pending:
      symbol = "·";
      color = sgr::kDim;
      detail.clear();
      break;
    case StepState::running:
      symbol = input.lastFrame ? "▸" : std::string(kSpinner[input.spinnerFrame % kSpinner.size()]);
      color = sgr::kCyan;
      duration = elapsedText(runningFor(main, input.now));
      break;
    case StepState::waiting:
      symbol = "?";
      color = sgr::kYellow;
      duration = elapsedText(runningFor(main, input.now));
      detail = "waiting for a decision";
      detailColor = sgr::kYellow;
      break;
    case StepState::ok:
      symbol = "✓";
      color = sgr::kGreen;
      duration = elapsedText(main.durationMs);
      break;
    case StepState::failed:
    case StepState::timedOut:
      symbol = "✗";
      color = sgr::kRed;
      duration = elapsedText(main.durationMs);
      detail = main.state == StepState::timedOut ? "timed out" : "failed";
      if (!step.error.empty()) {
        detail += ": " + step.error;
      }
      detailColor = sgr::kRed;
      break;
    case StepState::cancelled:
      symbol = "⊘";
      color = sgr::kYellow;
      duration = elapsedText(main.durationMs);
      detail = "cancelled";
      detailColor = sgr::kYellow;
      break;
    case StepState::skipped:
      symbol = "-";
      color = sgr::kDim;
      detail = step.error.empty() ? "skipped" : "skipped: " + step.error;
      break;
  }
  StyledLine line;
  line.add("  ");
  line.add(symbol, color);
  line.add(" " + padRight(truncateToWidth(labelOf(step), labelWidth), labelWidth));
  line.add(" " + padLeft(duration, kDurationWidth));
  const std::string attempt = attemptText(main, step);
  if (!attempt.empty()) {
    line.add(" " + attempt, sgr::kYellow);
  }
  if (step.rollback) {
    const StepActivity& rollback = *step.rollback;
    std::string text = " ↺ rollback ";
    std::string_view rollbackColor = sgr::kYellow;
    switch (rollback.state) {
      case StepState::running:
        text += "running " + elapsedText(runningFor(rollback, input.now));
        break;
      case StepState::ok:
        text += "ok " + elapsedText(rollback.durationMs);
        rollbackColor = sgr::kGreen;
        break;
      default:
        text += "not ok";
        rollbackColor = sgr::kRed;
        break;
    }
    line.add(text, rollbackColor);
  }
  if (!detail.empty()) {
    line.add("  ");
    line.add(detail, detailColor);
  }
  return line;
}

StyledLine hiddenCountLine(const std::vector<const StepModel*>& hidden) {
  int pending = 0, active = 0, ok = 0, failures = 0, skipped = 0;
  for (const StepModel* step : hidden) {
    if (isActive(*step)) {
      ++active;
    } else if (isFailure(*step)) {
      ++failures;
    } else if (step->main.state == StepState::ok) {
      ++ok;
    } else if (step->main.state == StepState::skipped) {
      ++skipped;
    } else {
      ++pending;
    }
  }
  std::string text = "  … " + std::to_string(hidden.size()) + " more:";
  const auto count = [&](int n, std::string_view what) {
    if (n > 0) {
      text += " " + std::to_string(n) + " " + std::string(what) + ",";
    }
  };
  count(ok, "ok");
  count(active, "running");
  count(failures, "failed");
  count(skipped, "skipped");
  count(pending, "pending");
  text.pop_back();  // the last ',' (or ':' when nothing was counted, which cannot happen)
  StyledLine line;
  line.add(text, sgr::kDim);
  return line;
}

}  // namespace

StyledLine& StyledLine::add(std::string text, std::string_view color) {
  pieces_.push_back(Piece{std::move(text), color});
  return *this;
}

int StyledLine::width() const {
  int width = 0;
  for (const Piece& piece : pieces_) {
    width += displayWidth(piece.text);
  }
  return width;
}

std::string StyledLine::render(bool color, int columns) const {
  if (columns <= 0) {
    return {};
  }
  // When the line is cut, the last column shows "…".
  const bool cut = width() > columns;
  int left = cut ? columns - 1 : columns;
  bool marked = false;
  std::string out;
  for (const Piece& piece : pieces_) {
    const int pieceWidth = displayWidth(piece.text);
    std::string text = piece.text;
    if (pieceWidth > left) {
      text = truncateToWidth(piece.text, left + 1);  // ends in "…"
      marked = true;
    }
    if (color && !piece.color.empty() && !text.empty()) {
      out += "\x1b[" + std::string(piece.color) + "m" + text + "\x1b[0m";
    } else {
      out += text;
    }
    if (marked) {
      break;
    }
    left -= pieceWidth;
  }
  if (cut && !marked) {
    out += "…";
  }
  return out;
}

std::vector<StyledLine> composeFrame(const FrameInput& input) {
  const RunModel& model = input.model;
  const int maxLines = std::max(1, input.maxLines);
  std::vector<StyledLine> lines;
  lines.push_back(headerLine(input));

  std::vector<const StepModel*> visible;
  for (const StepModel& step : model.steps()) {
    if (step.runs || step.main.state != StepState::pending) {
      visible.push_back(&step);
    }
  }
  const int skipped = model.skippedInMode();
  int room = maxLines - 1;
  const bool showSkipped = skipped > 0 && room >= 1;
  room -= showSkipped ? 1 : 0;

  int labelWidth = 1;
  for (const StepModel* step : visible) {
    labelWidth = std::max(labelWidth, std::min(kMaxLabelWidth, displayWidth(labelOf(*step))));
  }

  if (static_cast<int>(visible.size()) <= room) {
    for (const StepModel* step : visible) {
      lines.push_back(stepLine(*step, input, labelWidth));
    }
  } else if (room >= 1) {
    // Too many to list: running and waiting steps first, then failures, in
    // file order; one line counts the rest.
    const int slots = room - 1;
    std::vector<bool> shown(visible.size(), false);
    int used = 0;
    for (const auto& wanted : {isActive, isFailure}) {
      for (std::size_t i = 0; i < visible.size() && used < slots; ++i) {
        if (!shown[i] && wanted(*visible[i])) {
          shown[i] = true;
          ++used;
        }
      }
    }
    std::vector<const StepModel*> hidden;
    for (std::size_t i = 0; i < visible.size(); ++i) {
      if (shown[i]) {
        lines.push_back(stepLine(*visible[i], input, labelWidth));
      } else {
        hidden.push_back(visible[i]);
      }
    }
    lines.push_back(hiddenCountLine(hidden));
  }
  if (showSkipped) {
    StyledLine line;
    line.add("  - " + std::to_string(skipped) + " skipped " + modePhrase(model), sgr::kDim);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace lifeboat::live
