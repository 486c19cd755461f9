#pragma once
// The one way a run's events are made: numbered (per agent), stamped,
// redacted, appended to the journal and shown to observers (the live view,
// later the stream to the coordinator).
//
// Thread-safety: emit() may be called from any thread; calls are serialised,
// so events reach the journal and the observers in seq order. Observers are
// called under that serialisation and must not call emit().

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/redactor.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/engine/run_clock.hpp"
#include "lifeboat/journal/event_sink.hpp"
#include "lifeboat/journal/journal.hpp"
#include "lifeboat/journal/sequence_store.hpp"

namespace lifeboat::engine {

class EventWriter {
 public:
  EventWriter(journal::Journal journal, std::shared_ptr<journal::SharedSequence> sequence,
              std::string agent, std::string run, const RunClock& clock);

  // Secrets to mask from now on, in every string of every event's data.
  void setRedactor(const Redactor* redactor);

  void addObserver(std::function<void(const Event&)> observer);

  // The spool: every event goes to it right after its journal append, and
  // syncPending() syncs it too. Not owned; must outlive the writer.
  void setSink(journal::EventSink* sink);

  // Appends the event. With `durable` false the line is written without an
  // fsync (child output: nothing depends on it, and the next durable event
  // makes it durable too). An Error means the journal is unusable: the
  // engine stops starting steps.
  Result<journal::Done> emit(std::string_view type, std::string_view step, boost::json::object data,
                             bool durable = true);

  // Makes the events written with `durable` false durable, if there are any.
  Result<journal::Done> syncPending();

  // Calls `work` under the writer's serialisation (for the live view's tick).
  void withLock(const std::function<void()>& work);

  const journal::Journal& journal() const { return journal_; }

 private:
  void redactStrings(boost::json::value& value) const;

  std::mutex mutex_;
  journal::Journal journal_;
  std::shared_ptr<journal::SharedSequence> sequence_;
  std::string agent_;
  std::string run_;
  const RunClock& clock_;
  const Redactor* redactor_ = nullptr;
  journal::EventSink* sink_ = nullptr;
  std::vector<std::function<void(const Event&)>> observers_;
};

}  // namespace lifeboat::engine
