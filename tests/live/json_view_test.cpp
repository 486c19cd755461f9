#include <gtest/gtest.h>

#include <sstream>

#include "lifeboat/live/view.hpp"
#include "scripted_events.hpp"

namespace lifeboat::live {
namespace {

using std::chrono::milliseconds;
using testing::Script;

TEST(JsonView, WritesEachEventAsALineThatDecodesBackToIt) {
  Script script;
  Event heartbeat = script.at(milliseconds(3), "heartbeat", "", {});
  heartbeat.run.clear();
  const std::vector<Event> events{
      script.runStarted({{"lag"}, {"fence", false, "real only"}}),
      script.stepStarted(milliseconds(10), "lag"),
      script.stepOutput(milliseconds(11), "lag", "stderr", "warning: \x1b[1mbold\x1b[0m ✓"),
      script.at(milliseconds(12), "step.teleported", "lag", {{"to", "mars"}}),
      heartbeat,
      script.stepFinished(milliseconds(20), "lag", "ok", 10),
      script.runFinished(milliseconds(30), "done", 0),
  };
  std::ostringstream out;
  std::unique_ptr<View> view = View::make(ViewOptions{Style::json, true}, out);
  for (const Event& event : events) {
    view->onEvent(event);
    view->tick(event.time);
    view->suspend();
    view->resume();
  }
  view->finish();

  std::istringstream in(out.str());
  std::vector<Event> decoded;
  std::string line;
  while (std::getline(in, line)) {
    Result<Event> event = decodeEvent(line);
    ASSERT_TRUE(event.ok()) << event.error().message << " in: " << line;
    decoded.push_back(*event);
  }
  EXPECT_EQ(decoded, events);
  EXPECT_EQ(out.str().back(), '\n');
}

}  // namespace
}  // namespace lifeboat::live
