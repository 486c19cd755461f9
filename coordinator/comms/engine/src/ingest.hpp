#pragma once
// From stored events to incidents and occasions (docs/communications.md,
// "Incidents"), and the clocks of open incidents: cadence, missed updates,
// the RTO budget running out.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>

#include "composer.hpp"

namespace lifeboat::comms::detail {

class Ingest {
 public:
  explicit Ingest(const Composer& composer) : composer_(composer) {}

  // One event as the store lists it ({"id", "agent", "run", "seq", "ts",
  // "type", "step", "data"}), inside the caller's transaction. Returns the
  // number of messages queued.
  std::size_t apply(Connection& db, const boost::json::object& event, std::int64_t now) const;

  // The clocks of every open incident. Returns the messages queued and when
  // the next clock runs out (nullopt: none running).
  std::size_t tick(Connection& db, std::int64_t now, std::optional<std::int64_t>& nextWake) const;

 private:
  std::size_t open(Connection& db, Incident incident, std::int64_t now) const;
  std::size_t close(Connection& db, Incident& incident, std::int64_t at, std::int64_t now) const;

  const Composer& composer_;
};

}  // namespace lifeboat::comms::detail
