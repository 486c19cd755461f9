#pragma once
// Where a journaled event goes next: the spool that streams it to the
// coordinator (agent/stream). The journal stays the source of truth; a sink
// gets each event right after its line was appended to a journal.

#include <filesystem>

#include "lifeboat/common/event.hpp"

namespace lifeboat::journal {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // `event` was just appended to `journalFile`; `durable` says whether that
  // append was fsynced. Called under the writer's serialisation, from any of
  // the process's writers (the watch daemon and each run), so implementations
  // serialise themselves. Never fails the caller: a sink that cannot keep the
  // event says so itself, the journal still holds it.
  virtual void accept(const Event& event, bool durable,
                      const std::filesystem::path& journalFile) = 0;

  // Makes every event accepted so far durable, where the journal syncs its
  // lines written without an fsync.
  virtual void sync() = 0;
};

}  // namespace lifeboat::journal
