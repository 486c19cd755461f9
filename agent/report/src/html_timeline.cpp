// The timeline (Gantt chart) of the HTML report: plain SVG with explicit fill
// colours, so that it looks the same on screen, in print and without CSS.

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

#include "escape.hpp"
#include "format.hpp"
#include "html_parts.hpp"

namespace lifeboat::report::detail {

namespace {

constexpr int kWidth = 960;
constexpr int kLabelWidth = 220;
constexpr int kPlotLeft = kLabelWidth + 10;
constexpr int kPlotWidth = kWidth - kPlotLeft - 40;
constexpr int kTop = 46;  // room for the marker labels
constexpr int kRowHeight = 22;
constexpr int kBarHeight = 14;
constexpr int kAxisHeight = 40;
constexpr std::size_t kMaxLabelChars = 30;

// Tick spacings to choose from, in milliseconds.
constexpr std::array<std::int64_t, 22> kTickSteps{
    100,     200,      500,      1000,     2000,     5000,     10000,   15000,
    30000,   60000,    120000,   300000,   600000,   900000,   1800000, 3600000,
    7200000, 10800000, 21600000, 43200000, 86400000, 172800000};

struct Row {
  std::string label;
  std::string stepId;
  const Execution* execution = nullptr;
};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// Label text cut to a width the label column holds (at a UTF-8 boundary).
std::string shortLabel(const std::string& label) {
  if (label.size() <= kMaxLabelChars) {
    return label;
  }
  std::size_t cut = kMaxLabelChars - 1;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return label.substr(0, cut) + "\xE2\x80\xA6";  // U+2026
}

class Timeline {
 public:
  explicit Timeline(const RunRecord& record) : record_(record) {}
  std::string render();

 private:
  double x(Timestamp time) const {
    double offset = static_cast<double>((time - origin_).count());
    return kPlotLeft + offset / static_cast<double>(spanMs_) * kPlotWidth;
  }
  void collectRows();
  void computeRange();
  void marker(Timestamp time, std::string_view cssClass, std::string_view colour,
              const std::string& label, bool dashed, int labelRow);

  const RunRecord& record_;
  std::vector<Row> rows_;
  Timestamp origin_{};
  std::int64_t spanMs_ = 1;
  bool rtoBeyond_ = false;  // the RTO budget ends to the right of the chart
  int plotHeight_ = 0;
  std::string out_;
};

void Timeline::collectRows() {
  for (const StepRecord& step : record_.steps) {
    if (step.execution.started()) {
      rows_.push_back(Row{step.name, step.id, &step.execution});
    }
    if (step.rollback && step.rollback->started()) {
      rows_.push_back(Row{step.name + " (rollback)", step.id, &*step.rollback});
    }
  }
}

void Timeline::computeRange() {
  const ObjectiveRecord* rto = record_.findObjective("rto");
  Timestamp outage = rto != nullptr && rto->outageStart ? *rto->outageStart : record_.outageStart;
  origin_ = std::min(outage, record_.startedAt);
  Timestamp end = record_.finishedAt.value_or(record_.lastEventAt);
  for (const Row& row : rows_) {
    origin_ = std::min(origin_, *row.execution->startedAt);
    end = std::max(end, executionEnd(*row.execution, record_));
  }
  if (rto != nullptr && rto->restoredAt) {
    end = std::max(end, *rto->restoredAt);
  }
  // A budget far beyond the run (a 10 s drill against a 5 m RTO) would
  // squeeze every bar into a sliver; the chart then ends with the run and
  // says where the budget lies instead of drawing it.
  if (std::optional<Timestamp> deadline = rtoDeadline(record_)) {
    if ((*deadline - origin_) > 2 * (end - origin_)) {
      rtoBeyond_ = true;
      end += (end - origin_) / 20;
    } else {
      end = std::max(end, *deadline);
    }
  }
  spanMs_ = std::max<std::int64_t>((end - origin_).count(), 1);
}

void Timeline::marker(Timestamp time, std::string_view cssClass, std::string_view colour,
                      const std::string& label, bool dashed, int labelRow) {
  const std::string at = number(x(time));
  out_ += "<line class=\"" + std::string(cssClass) + "\" x1=\"" + at + "\" x2=\"" + at +
          "\" y1=\"" + std::to_string(kTop - 4) + "\" y2=\"" + std::to_string(kTop + plotHeight_) +
          "\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\"" +
          (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
  // Labels near the right edge are anchored at their end so they stay inside.
  const bool rightHalf = x(time) > kPlotLeft + kPlotWidth / 2;
  out_ += "<text x=\"" + at + "\" y=\"" + std::to_string(12 + labelRow * 12) +
          "\" font-size=\"11\" fill=\"" + std::string(colour) + "\" text-anchor=\"" +
          (rightHalf ? "end" : "start") + "\">" + htmlText(label) + "</text>\n";
}

std::string Timeline::render() {
  collectRows();
  computeRange();
  plotHeight_ = std::max<int>(static_cast<int>(rows_.size()), 1) * kRowHeight;
  const int height = kTop + plotHeight_ + kAxisHeight;
  // No xmlns: an HTML parser puts an inline <svg> in the SVG namespace itself.
  out_ = "<svg class=\"timeline\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
         std::to_string(height) + "\" width=\"100%\" role=\"img\"" +
         " aria-label=\"timeline of the steps\" font-family=\"sans-serif\">\n";

  // Axis: gridlines and labels, relative to the origin.
  std::int64_t step = kTickSteps.back();
  for (std::int64_t candidate : kTickSteps) {
    if (spanMs_ / candidate <= 8) {
      step = candidate;
      break;
    }
  }
  const std::string axisY = std::to_string(kTop + plotHeight_);
  for (std::int64_t tick = 0; tick <= spanMs_; tick += step) {
    const std::string at = number(x(origin_ + std::chrono::milliseconds(tick)));
    out_ += "<line class=\"grid\" x1=\"" + at + "\" x2=\"" + at + "\" y1=\"" +
            std::to_string(kTop) + "\" y2=\"" + axisY + "\" stroke=\"#dddddd\"/>\n";
    out_ += "<text class=\"tick\" x=\"" + at + "\" y=\"" + std::to_string(kTop + plotHeight_ + 14) +
            "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444444\">" +
            (tick == 0 ? std::string("0s") : "+" + durationText(tick)) + "</text>\n";
  }
  const bool fromOutage = origin_ < record_.startedAt;
  out_ += "<text x=\"" + std::to_string(kPlotLeft) + "\" y=\"" +
          std::to_string(kTop + plotHeight_ + 32) + "\" font-size=\"11\" fill=\"#444444\">" +
          (fromOutage ? "time since the outage start, " : "time since the run start, ") +
          htmlText(formatTimestamp(origin_)) + "</text>\n";
  out_ += "<line x1=\"" + std::to_string(kPlotLeft) + "\" x2=\"" +
          std::to_string(kPlotLeft + kPlotWidth) + "\" y1=\"" + axisY + "\" y2=\"" + axisY +
          "\" stroke=\"#444444\"/>\n";

  if (rows_.empty()) {
    out_ += "<text x=\"" + std::to_string(kPlotLeft + 8) + "\" y=\"" + std::to_string(kTop + 15) +
            "\" font-size=\"12\" fill=\"#444444\">" + "no step has started</text>\n";
  }
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    const Execution& execution = *row.execution;
    const int rowTop = kTop + static_cast<int>(i) * kRowHeight;
    const double start = x(*execution.startedAt);
    const double width = std::max(x(executionEnd(execution, record_)) - start, 2.0);
    out_ += "<text class=\"row-label\" x=\"" + std::to_string(kLabelWidth) + "\" y=\"" +
            std::to_string(rowTop + 15) + "\" font-size=\"12\" text-anchor=\"end\">" +
            htmlText(shortLabel(row.label)) + "</text>\n";
    out_ += "<rect class=\"bar status-" + std::string(statusName(execution.status)) +
            "\" data-step=\"" + htmlText(row.stepId) + "\" data-phase=\"" +
            std::string(phaseName(execution.phase)) + "\" x=\"" + number(start) + "\" y=\"" +
            std::to_string(rowTop + (kRowHeight - kBarHeight) / 2) + "\" width=\"" + number(width) +
            "\" height=\"" + std::to_string(kBarHeight) + "\" fill=\"" +
            std::string(statusColour(execution.status)) + "\"" +
            (execution.phase == Phase::rollback ? " fill-opacity=\"0.6\"" : "") + "><title>" +
            htmlText(row.label + ": " + std::string(statusName(execution.status)) +
                     (executionDurationMs(execution)
                          ? ", " + durationText(*executionDurationMs(execution))
                          : std::string())) +
            "</title></rect>\n";
  }

  // Markers last, so that they are drawn over the bars.
  const ObjectiveRecord* rto = record_.findObjective("rto");
  Timestamp outage = rto != nullptr && rto->outageStart ? *rto->outageStart : record_.outageStart;
  if (outage > origin_ || record_.outageStartSource != "run_start") {
    marker(outage, "outage-start", "#555555", "outage start", true, 0);
  }
  if (std::optional<Timestamp> deadline = rtoDeadline(record_); deadline && !rtoBeyond_) {
    marker(*deadline, "rto-line", "#c62828",
           "RTO budget " + durationText(rto->targetMs.value_or(0)), true, 1);
  } else if (deadline) {
    const int right = kPlotLeft + kPlotWidth;
    out_ += "<g class=\"rto-line rto-beyond\" fill=\"#c62828\"><polygon points=\"" +
            std::to_string(right) + "," + std::to_string(kTop - 10) + " " +
            std::to_string(right + 10) + "," + std::to_string(kTop - 6) + " " +
            std::to_string(right) + "," + std::to_string(kTop - 2) + "\"/><text x=\"" +
            std::to_string(right - 4) +
            "\" y=\"24\" font-size=\"11\" text-anchor=\"end\">RTO budget " +
            durationText(rto->targetMs.value_or(0)) + " ends at +" +
            durationText((*deadline - origin_).count()) + ", beyond this chart</text></g>\n";
  }
  if (rto != nullptr && rto->restoredAt) {
    marker(*rto->restoredAt, "restored-marker", "#1565c0",
           "restored +" + durationText((*rto->restoredAt - outage).count()), false, 2);
  }
  out_ += "</svg>\n";
  return out_;
}

}  // namespace

std::string_view statusColour(StepStatus status) {
  switch (status) {
    case StepStatus::ok:
      return "#2e7d32";
    case StepStatus::failed:
      return "#c62828";
    case StepStatus::timedOut:
      return "#e65100";
    case StepStatus::cancelled:
      return "#616161";
    case StepStatus::interrupted:
      return "#6a1b9a";
    case StepStatus::skipped:
    case StepStatus::notRun:
      return "#9e9e9e";
  }
  return "#9e9e9e";
}

std::string renderTimeline(const RunRecord& record) {
  return Timeline(record).render();
}

}  // namespace lifeboat::report::detail
