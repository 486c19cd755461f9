#pragma once
// A run's steps, computed from its events at query time: the plan that
// run.started carries, then step.started / step.finished per phase.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace lifeboat::store::detail {

struct StepEvent {
  std::int64_t ts = 0;  // milliseconds since 1970
  std::string type;     // run.started, step.started or step.finished
  std::string step;
  boost::json::object data;
};

// [{"id","name","kind","wave","restores_service","status","phase","attempts",
//   "started_at","finished_at","duration_ms","error","phases":[…]}]: the
// plan's steps in plan order, then steps the plan does not name (a run whose
// run.started is missing) in the order they first appear. `events` in
// stored order.
boost::json::array buildSteps(const std::vector<StepEvent>& events);

}  // namespace lifeboat::store::detail
