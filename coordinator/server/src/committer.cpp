#include "committer.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <iterator>

#include "lifeboat/store/checkpointer.hpp"
#include "lifeboat/store/wal_syncer.hpp"

namespace lifeboat::coordinator {

namespace {

// The committer writes all the time under load, so it finishes each WAL
// restart itself (checkpointer.hpp); a 64 MiB WAL (1 KiB pages) restarts
// every ~1.5 s at 50,000 events/s, each restart holding the committer for
// the copy of the last few pages (docs/coordinator.md, "Store").
constexpr store::CheckpointOptions kCheckpoints{.restartFrames = 65536, .writerRestarts = true};

}  // namespace

Committer::Committer(std::unique_ptr<store::Store> writer, Publish publish, Log& log,
                     std::function<bool()> wantsLive, std::function<void()> stored)
    : writer_(std::move(writer)),
      publish_(std::move(publish)),
      wantsLive_(std::move(wantsLive)),
      stored_(std::move(stored)),
      log_(log) {
  auto checkpointer = store::WalCheckpointer::start(
      writer_->file(),
      [this](const Error& error) { log_.line("store: WAL checkpoint failed: " + error.message); },
      kCheckpoints);
  if (!checkpointer) {
    log_.line("store: checkpoints stay inside commits: " + checkpointer.error().message);
  } else if (auto off = writer_->setWalAutoCheckpoint(0); !off) {
    log_.line("store: checkpoints stay inside commits: " + off.error().message);
  } else {
    checkpointer_ = std::move(*checkpointer);
  }
  // Acknowledgements wait for the WAL's fsync on the syncer's thread, while
  // this thread writes the next group (wal_syncer.hpp). The syncer starts
  // before the writer stops fsyncing its own commits.
  auto syncer = store::WalSyncer::start(writer_->walFile());
  if (!syncer) {
    log_.line("store: each commit fsyncs the WAL itself: " + syncer.error().message);
  } else if (auto deferred = writer_->setCommitSync(store::CommitSync::Deferred); !deferred) {
    log_.line("store: each commit fsyncs the WAL itself: " + deferred.error().message);
  } else {
    syncer_ = std::move(*syncer);
  }
  thread_ = std::thread([this] { loop(); });
}

Committer::~Committer() {
  stop();
}

bool Committer::trySubmitBatch(std::vector<Event>& events, BatchDone done,
                               std::function<void()> onSpace) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    done(Error{"the coordinator is shutting down", "the agent resends after reconnecting"});
    return true;
  }
  if (queuedEvents_ > 0 && queuedEvents_ + events.size() > kCapacityEvents) {
    waiting_.push_back(std::move(onSpace));
    return false;
  }
  queuedEvents_ += events.size();
  queue_.push_back(Batch{std::move(events), std::move(done)});
  lock.unlock();
  wake_.notify_one();
  return true;
}

void Committer::submitPresence(store::Presence presence, bool announce) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    queue_.push_back(PresenceJob{std::move(presence), announce});
  }
  wake_.notify_one();
}

void Committer::submitNote(std::string agent, std::string run, std::string author, std::string text,
                           NoteDone done) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    done(Error{"the coordinator is shutting down", "try again once it is back"});
    return;
  }
  queue_.push_back(NoteJob{std::move(agent), std::move(run), std::move(author), std::move(text),
                           std::move(done)});
  lock.unlock();
  wake_.notify_one();
}

void Committer::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  syncer_.reset();  // one last sync for what the thread committed, then its callbacks
}

void Committer::loop() {
  for (;;) {
    std::vector<Job> taken;
    std::vector<std::function<void()>> waiting;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and everything is committed
      }
      std::size_t events = 0;
      while (!queue_.empty()) {
        if (auto* batch = std::get_if<Batch>(&queue_.front())) {
          if (events > 0 && events + batch->events.size() > kGroupEvents) {
            break;
          }
          events += batch->events.size();
        }
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queuedEvents_ -= events;
      waiting.swap(waiting_);
    }
    for (auto& onSpace : waiting) {
      onSpace();
    }
    // In queue order: consecutive batches form one group (one transaction).
    std::vector<Batch> group;
    for (Job& job : taken) {
      if (auto* batch = std::get_if<Batch>(&job)) {
        group.push_back(std::move(*batch));
        continue;
      }
      commitGroup(group);
      if (auto* presence = std::get_if<PresenceJob>(&job)) {
        record(*presence);
      } else if (auto* note = std::get_if<NoteJob>(&job)) {
        const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now());
        Result<boost::json::object> added =
            writer_->addNote(note->agent, note->run, note->author, note->text, now);
        if (!added || !syncer_) {
          note->done(std::move(added));
          continue;
        }
        syncer_->after([done = std::move(note->done),
                        added = std::move(added)](const std::optional<Error>& error) {
          done(error ? Result<boost::json::object>(*error) : added);
        });
      }
    }
    commitGroup(group);
    if (checkpointer_ && checkpointer_->restartWanted()) {
      // The checkpointer copied the WAL up to a small rest: copy that here,
      // between two transactions, and the next one starts the WAL again.
      if (auto copied = writer_->checkpoint(); !copied) {
        log_.line("store: WAL checkpoint failed: " + copied.error().message);
      }
      checkpointer_->writerCheckpointed();
    }
  }
}

void Committer::committed(const std::shared_ptr<Committed>& acked) {
  if (checkpointer_) {
    checkpointer_->committed();
  }
  if (!syncer_) {
    acknowledge(*acked, std::nullopt);  // the commit fsynced the WAL itself
    return;
  }
  syncer_->after([this, acked](const std::optional<Error>& error) { acknowledge(*acked, error); });
}

void Committer::acknowledge(Committed& acked, const std::optional<Error>& synced) {
  if (synced) {
    if (!syncFailureLogged_.exchange(true)) {
      log_.line("store: " + synced->message + "; " + synced->hint);
    }
    for (BatchDone& done : acked.dones) {
      done(synced);
    }
    return;
  }
  for (BatchDone& done : acked.dones) {
    done(std::nullopt);
  }
  publishStored(acked.events, acked.ids);
}

void Committer::commitGroup(std::vector<Batch>& group) {
  if (group.empty()) {
    return;
  }
  if (group.size() == 1) {
    commitAlone(group.front());
    group.clear();
    return;
  }
  // The events move into one vector (no copies) and back on failure.
  std::size_t total = 0;
  for (const Batch& batch : group) {
    total += batch.events.size();
  }
  std::vector<Event> all;
  all.reserve(total);
  for (Batch& batch : group) {
    std::move(batch.events.begin(), batch.events.end(), std::back_inserter(all));
  }
  Result<store::AppendResult> appended = writer_->appendBatch(all);
  if (appended) {
    auto acked = std::make_shared<Committed>();
    acked->dones.reserve(group.size());
    for (Batch& batch : group) {
      acked->dones.push_back(std::move(batch.done));
    }
    acked->events = std::move(all);
    acked->ids = std::move(appended->ids);
    committed(acked);
  } else {
    // One batch's fault must not refuse the others: each on its own.
    auto next = all.begin();
    for (Batch& batch : group) {
      const auto end = next + static_cast<std::ptrdiff_t>(batch.events.size());
      std::move(next, end, batch.events.begin());
      next = end;
      commitAlone(batch);
    }
  }
  group.clear();
}

void Committer::commitAlone(Batch& batch) {
  Result<store::AppendResult> appended = writer_->appendBatch(batch.events);
  if (!appended) {
    log_.line("store: batch from agent " +
              (batch.events.empty() ? std::string("?") : batch.events.front().agent) +
              " not stored: " + appended.error().message);
    batch.done(appended.error());
    return;
  }
  auto acked = std::make_shared<Committed>();
  acked->dones.push_back(std::move(batch.done));
  acked->events = std::move(batch.events);
  acked->ids = std::move(appended->ids);
  committed(acked);
}

void Committer::publishStored(const std::vector<Event>& events,
                              const std::vector<std::int64_t>& ids) {
  if (stored_ && std::any_of(ids.begin(), ids.end(), [](std::int64_t id) { return id != 0; })) {
    stored_();
  }
  if (wantsLive_ && !wantsLive_()) {
    return;
  }
  auto messages = std::make_shared<std::vector<std::string>>();
  for (std::size_t i = 0; i < events.size() && i < ids.size(); ++i) {
    if (ids[i] == 0) {
      continue;
    }
    boost::json::object message;
    message["kind"] = "event";
    message["event"] = store::eventJson(ids[i], events[i]);
    messages->push_back(boost::json::serialize(message));
  }
  if (!messages->empty()) {
    publish_(std::move(messages));
  }
}

void Committer::record(const PresenceJob& job) {
  Result<bool> recorded = writer_->recordPresence(job.presence);
  if (!recorded) {
    log_.line("store: presence of agent " + job.presence.agent +
              " not recorded: " + recorded.error().message);
    return;
  }
  if (!job.announce) {
    return;
  }
  Result<std::optional<boost::json::object>> agent = writer_->agent(job.presence.agent);
  if (agent && agent->has_value()) {
    boost::json::object message;
    message["kind"] = "agent";
    message["agent"] = std::move(**agent);
    publish_(std::make_shared<std::vector<std::string>>(
        std::vector<std::string>{boost::json::serialize(message)}));
  }
}

}  // namespace lifeboat::coordinator
