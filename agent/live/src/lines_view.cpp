#include <algorithm>
#include <cstdio>

#include "describe.hpp"
#include "run_model.hpp"
#include "views.hpp"

namespace lifeboat::live {
namespace {

// One plain line per meaningful event for logs: "[   1.234s] text", where
// the time is measured from the run's start (run.started's started_at, else
// the first event). Flushed per event so that a log tail is current.
class LinesView final : public View {
 public:
  explicit LinesView(std::ostream& out) : out_(out) {}

  void onEvent(const Event& event) override {
    if (!model_.apply(event)) {
      return;
    }
    const std::vector<std::string> lines = describeEvent(event, model_);
    if (lines.empty()) {
      return;
    }
    const std::string prefix = timePrefix(event.time);
    for (const std::string& line : lines) {
      out_ << prefix << line << '\n';
    }
    out_.flush();
  }
  void tick(Timestamp) override {}
  void suspend() override { out_.flush(); }
  void resume() override {}
  void finish() override { out_.flush(); }

 private:
  std::string timePrefix(Timestamp time) const {
    std::int64_t ms = 0;
    if (const std::optional<Timestamp> start = model_.startedAt()) {
      ms = std::max<std::int64_t>(0, (time - *start).count());
    }
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "[%4lld.%03llds] ", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
    return buffer;
  }

  std::ostream& out_;
  RunModel model_;
};

}  // namespace

std::unique_ptr<View> makeLinesView(std::ostream& out) {
  return std::make_unique<LinesView>(out);
}

}  // namespace lifeboat::live
