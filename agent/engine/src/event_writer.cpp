#include "lifeboat/engine/event_writer.hpp"

#include <utility>

namespace lifeboat::engine {

EventWriter::EventWriter(journal::Journal journal,
                         std::shared_ptr<journal::SharedSequence> sequence, std::string agent,
                         std::string run, const RunClock& clock)
    : journal_(std::move(journal)),
      sequence_(std::move(sequence)),
      agent_(std::move(agent)),
      run_(std::move(run)),
      clock_(clock) {}

void EventWriter::setRedactor(const Redactor* redactor) {
  std::lock_guard lock(mutex_);
  redactor_ = redactor;
}

void EventWriter::addObserver(std::function<void(const Event&)> observer) {
  std::lock_guard lock(mutex_);
  observers_.push_back(std::move(observer));
}

void EventWriter::setSink(journal::EventSink* sink) {
  std::lock_guard lock(mutex_);
  sink_ = sink;
}

void EventWriter::redactStrings(boost::json::value& value) const {
  if (value.is_string()) {
    std::string_view text = value.as_string();
    if (text.size() >= Redactor::kMinimumLength) {
      std::string redacted = redactor_->redact(text);
      if (redacted != text) {
        value = redacted;
      }
    }
  } else if (value.is_object()) {
    for (auto& member : value.as_object()) {
      redactStrings(member.value());
    }
  } else if (value.is_array()) {
    for (auto& element : value.as_array()) {
      redactStrings(element);
    }
  }
}

Result<journal::Done> EventWriter::emit(std::string_view type, std::string_view step,
                                        boost::json::object data, bool durable) {
  std::lock_guard lock(mutex_);
  if (redactor_ != nullptr && !redactor_->empty()) {
    for (auto& member : data) {
      redactStrings(member.value());
    }
  }
  Result<std::uint64_t> seq = sequence_->next();
  if (!seq) {
    return seq.error();
  }
  Event event;
  event.agent = agent_;
  event.run = run_;
  event.seq = *seq;
  event.time = clock_.now();
  event.type = std::string(type);
  event.step = std::string(step);
  event.data = std::move(data);
  Result<journal::Done> appended =
      journal_.append(event, durable ? journal::Journal::Sync::now : journal::Journal::Sync::later);
  if (!appended) {
    return appended;
  }
  if (sink_ != nullptr) {
    sink_->accept(event, durable, journal_.path());
  }
  for (const auto& observer : observers_) {
    observer(event);
  }
  return appended;
}

Result<journal::Done> EventWriter::syncPending() {
  std::lock_guard lock(mutex_);
  if (!journal_.hasUnsynced()) {
    return journal::Done{};
  }
  Result<journal::Done> synced = journal_.sync();
  if (sink_ != nullptr) {
    sink_->sync();
  }
  return synced;
}

void EventWriter::withLock(const std::function<void()>& work) {
  std::lock_guard lock(mutex_);
  work();
}

}  // namespace lifeboat::engine
