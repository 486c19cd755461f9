#pragma once
// A run's journal: <run dir>/journal.jsonl, one Event v1 line per event
// (docs/protocol.md). The journal is the source of truth for a run; `resume`,
// reports and the spool read it back.
//
// Durability contract ("journal before effect", DESIGN.md): when append()
// returns success, the event's line is on disk (written with one write(2),
// then fsync(2)) and survives a crash of the agent or of the machine. The
// engine therefore appends step.started and only then begins the step's side
// effect.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <variant>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::journal {

inline constexpr std::string_view kJournalFileName = "journal.jsonl";

// Success without a value. (A Result<void> in common/ would replace this.)
using Done = std::monostate;

// Appends events to one journal file. Move-only; owns the file descriptor.
// Not thread-safe: one writer (the engine's strand) per journal, and one
// process per run directory (the run's lock guarantees that).
class Journal {
 public:
  // Opens `file` for appending, creating it with mode 0600 (and fsyncing its
  // directory so that the new entry is durable) if it does not exist. If the
  // existing file ends in a torn line (the agent died inside a write, so that
  // append never returned and the event was never acknowledged), the partial
  // line is cut off before anything is appended after it; see
  // discardedTornBytes().
  static Result<Journal> open(const std::filesystem::path& file);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  // Writes encodeEvent(event) + '\n' with a single write(2) and fsyncs the
  // file. Success means the event is durable. Refuses a line longer than
  // kMaxEventLineBytes (readers would reject it). After a failed write or
  // fsync the journal refuses further appends: the file may end in a partial
  // line, and reopening it cuts that off.
  //
  // With Sync::later the line is written but not fsynced: it becomes durable
  // with the next Sync::now append (fsync covers the whole file). The engine
  // uses it for high-volume events (child output) that no effect depends on.
  enum class Sync { now, later };
  Result<Done> append(const Event& event, Sync sync = Sync::now);

  // Makes every line appended so far durable (one fsync).
  Result<Done> sync();
  // Whether a Sync::later line awaits a sync().
  bool hasUnsynced() const { return unsynced_; }

  const std::filesystem::path& path() const { return path_; }

  // Bytes of a torn final line that open() removed; 0 when the file was whole.
  std::uint64_t discardedTornBytes() const { return discardedTornBytes_; }

 private:
  Journal(int fd, std::filesystem::path path, std::uint64_t discardedTornBytes);

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t discardedTornBytes_ = 0;
  bool broken_ = false;
  bool unsynced_ = false;  // a Sync::later line is not yet durable
};

struct JournalContents {
  std::vector<Event> events;  // in file order
  // The file ended in a line without its newline: the writer died mid-write,
  // so that event was never acknowledged. It is skipped, and not an error.
  bool tornTail = false;
};

// Reads and decodes every line of `file`. A line that does not decode (other
// than a torn final line) is an Error naming the file and the 1-based line
// number: the journal was damaged or written by something else.
Result<JournalContents> readJournal(const std::filesystem::path& file);

// The same reading, one event at a time, without keeping them: `visit` gets
// each event in file order; an Error from it stops the scan and is returned.
// Returns whether the file ended in a torn line (skipped, as above).
Result<bool> scanJournal(const std::filesystem::path& file,
                         const std::function<Result<Done>(Event&&)>& visit);

}  // namespace lifeboat::journal
