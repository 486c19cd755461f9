#pragma once
// Group commit (docs/coordinator.md, "Store"): one thread owns the writing
// Store. Agent sessions hand it decoded batches; it takes everything queued
// (up to kGroupEvents events) and stores it with one append(). An idle
// committer commits a lone batch at once; under a backlog the groups grow.
// Presence changes and notes go through the same queue, since the Store is
// one connection for one thread.
//
// A commit does not fsync (CommitSync::Deferred): a store::WalSyncer thread
// fdatasyncs the WAL and only then calls each batch's `done` (which sends
// the acknowledgement), publishes the events to the live feed and wakes the
// comms engine, while this thread already writes the next group. If the
// syncer cannot start, each commit fsyncs itself and `done` runs here.
//
// WAL checkpoints run on a thread of their own (store::WalCheckpointer), not
// inside a commit: the committer turns SQLite's automatic checkpoint off,
// tells the checkpointer after each commit, and when it asks
// (restartWanted()) copies the WAL's last pages itself between two
// transactions, so that the next one starts the WAL again. If the
// checkpointer cannot start, the automatic checkpoint stays on (slower,
// never unbounded).
//
// The queue is bounded in events: trySubmitBatch() refuses when it is full
// and later calls `onSpace`, so that a session stops reading (backpressure)
// instead of dropping what it received.
//
// Callbacks run on the committer's or the syncer's thread: they must only
// post work elsewhere.

#include <atomic>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/store/store.hpp"
#include "log.hpp"

namespace lifeboat::store {
class WalCheckpointer;
class WalSyncer;
}  // namespace lifeboat::store

namespace lifeboat::coordinator {

// Messages for the live feed, serialised once for every subscriber.
using LiveMessages = std::shared_ptr<const std::vector<std::string>>;

class Committer {
 public:
  static constexpr std::size_t kGroupEvents = 20000;
  static constexpr std::size_t kCapacityEvents = 50000;

  using BatchDone = std::function<void(std::optional<Error>)>;
  using NoteDone = std::function<void(Result<boost::json::object>)>;
  using Publish = std::function<void(LiveMessages)>;

  // `wantsLive`: whether anyone subscribes to the live feed now (when not,
  // stored events are not turned into its JSON: at 40,000 events/s that is
  // a good part of the committer's time). `stored`: called after each
  // commit that stored events (the comms engine reads them).
  Committer(std::unique_ptr<store::Store> writer, Publish publish, Log& log,
            std::function<bool()> wantsLive = {}, std::function<void()> stored = {});
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Queues a batch (moving from `events`) unless the queue is full (an empty
  // queue takes any batch). Returns false when refused, leaving `events` as
  // it was; `onSpace` then runs once the committer took work off the queue.
  bool trySubmitBatch(std::vector<Event>& events, BatchDone done, std::function<void()> onSpace);
  // Always queued (small). `announce`: tell live subscribers the agent's new
  // state after it is recorded.
  void submitPresence(store::Presence presence, bool announce);
  void submitNote(std::string agent, std::string run, std::string author, std::string text,
                  NoteDone done);

  // Commits everything queued, then ends the thread. Later submissions are
  // refused (batches: `done` gets an Error).
  void stop();

 private:
  struct Batch {
    std::vector<Event> events;
    BatchDone done;
  };
  struct PresenceJob {
    store::Presence presence;
    bool announce;
  };
  struct NoteJob {
    std::string agent, run, author, text;
    NoteDone done;
  };
  using Job = std::variant<Batch, PresenceJob, NoteJob>;

  // What waits for one commit to be on disk.
  struct Committed {
    std::vector<BatchDone> dones;
    std::vector<Event> events;
    std::vector<std::int64_t> ids;
  };

  void loop();
  void commitGroup(std::vector<Batch>& group);
  void committed(const std::shared_ptr<Committed>& acked);
  void acknowledge(Committed& acked, const std::optional<Error>& synced);
  void commitAlone(Batch& batch);
  void publishStored(const std::vector<Event>& events, const std::vector<std::int64_t>& ids);
  void record(const PresenceJob& job);

  std::unique_ptr<store::Store> writer_;
  std::unique_ptr<store::WalCheckpointer> checkpointer_;  // null: SQLite's own checkpoints
  std::unique_ptr<store::WalSyncer> syncer_;  // null: each commit fsyncs (synchronous=FULL)
  std::atomic<bool> syncFailureLogged_{false};
  Publish publish_;
  std::function<bool()> wantsLive_;
  std::function<void()> stored_;
  Log& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::size_t queuedEvents_ = 0;
  std::vector<std::function<void()>> waiting_;  // onSpace callbacks
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lifeboat::coordinator
