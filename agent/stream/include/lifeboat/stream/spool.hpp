#pragma once
// The durable, bounded spool between the journal and the coordinator
// (docs/protocol.md, "The spool"): <state dir>/spool/.
//
// Each writing process appends to segment files of its own,
// seg-<first seq, 20 digits>-<pid>.jsonl, one write(2) per event line; it
// holds an flock on its open segment for as long as it writes to it, and
// renames it to seg-…-<pid>.jsonl.done when it rotates (8 MiB) or exits. One
// process at a time streams (it holds spool/stream.lock): it reads every
// segment in name order, sends complete lines from the offset recorded in the
// segment's sidecar seg-…-<pid>.acked, and deletes a closed segment once the
// coordinator acknowledged all of it. A segment whose writer died is closed
// by the streamer (its lock is free) after cutting off a torn last line.
//
// The spool never fails the run: an event it cannot keep (spool full, disk
// error) stays in its journal and the spool says so on the log, once per
// episode, then records a stream.gap event when it has room again.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/journal/event_sink.hpp"
#include "lifeboat/journal/sequence_store.hpp"

namespace lifeboat::stream {

inline constexpr std::string_view kSpoolDirectoryName = "spool";
inline constexpr std::uint64_t kDefaultSpoolMax = std::uint64_t{256} * 1024 * 1024;
inline constexpr std::uint64_t kDefaultSegmentBytes = std::uint64_t{8} * 1024 * 1024;

using Log = std::function<void(const std::string&)>;

struct SpoolOptions {
  std::filesystem::path directory;  // <state dir>/spool; created when missing
  // Bytes not yet acknowledged, over every segment of every process; an event
  // that would pass it is not spooled.
  std::uint64_t maxBytes = kDefaultSpoolMax;
  std::uint64_t segmentBytes = kDefaultSegmentBytes;  // rotate after this much
  Log log;                                            // one line per call, no newline
  // Called after each spooled event (the in-process streamer's wake-up).
  std::function<void()> onAppend;
};

// A segment as the directory shows it.
struct SegmentInfo {
  std::string key;  // seg-<seq>-<pid>: sort order and identity
  std::filesystem::path path;
  bool closed = false;
  std::uint64_t size = 0;
  std::uint64_t acked = 0;  // from the sidecar; 0 without one
};

// Segments in send order (first seq, then pid).
std::vector<SegmentInfo> listSegments(const std::filesystem::path& spoolDirectory);
std::uint64_t readAckedOffset(const std::filesystem::path& spoolDirectory, const std::string& key);
// Atomically replaces the sidecar (temp file + rename; no fsync: a lost
// sidecar only makes the coordinator see duplicates, which it drops).
bool writeAckedOffset(const std::filesystem::path& spoolDirectory, const std::string& key,
                      std::uint64_t offset);
std::filesystem::path sidecarPath(const std::filesystem::path& spoolDirectory,
                                  const std::string& key);
// Unacknowledged bytes over every segment.
std::uint64_t pendingBytes(const std::filesystem::path& spoolDirectory);

// One process's writing end. Thread-safe.
class SpoolWriter final : public journal::EventSink {
 public:
  // `sequence` numbers the stream.gap events; `agent` names them.
  static Result<std::unique_ptr<SpoolWriter>> open(
      SpoolOptions options, std::shared_ptr<journal::SharedSequence> sequence, std::string agent);
  ~SpoolWriter() override;
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  void accept(const Event& event, bool durable, const std::filesystem::path& journalFile) override;
  void sync() override;

  // Appends an event that has no journal (stream.gap, the stream driver's
  // synthetic events). Returns false when it was not spooled.
  bool append(const Event& event, bool durable);

  // Events this process spooled that the coordinator has not acknowledged
  // yet (reads the sidecars, which another process's streamer may write).
  std::uint64_t unacknowledged();
  // Closes the open segment (rename to .done): at exit, or to hand it over.
  void close();

  const std::filesystem::path& directory() const { return options_.directory; }
  std::uint64_t spooled() const;  // events spooled by this writer

 private:
  SpoolWriter(SpoolOptions options, std::shared_ptr<journal::SharedSequence> sequence,
              std::string agent);
  bool appendLocked(const Event& event, bool durable, const std::filesystem::path& journalFile);
  bool writeLine(const std::string& line, std::uint64_t seq, bool durable);
  bool haveRoom(std::uint64_t bytes);
  void closeLocked();
  void recordGapLocked();
  void reportFailure(const std::string& message);

  struct Segment {
    std::string key;
    std::filesystem::path path;
    int fd = -1;
    std::uint64_t size = 0;
    std::uint64_t lines = 0;
  };
  struct Gap {
    std::uint64_t fromSeq = 0;
    std::uint64_t toSeq = 0;
    std::uint64_t dropped = 0;
    std::set<std::string> journals;
  };

  mutable std::mutex mutex_;
  SpoolOptions options_;
  std::shared_ptr<journal::SharedSequence> sequence_;
  std::string agent_;
  std::optional<Segment> open_;
  // Closed segments of this writer and how many lines each holds, until the
  // coordinator acknowledged them (for unacknowledged()).
  std::vector<Segment> closedSegments_;
  std::uint64_t spooled_ = 0;
  bool unsynced_ = false;
  std::uint64_t estimate_ = 0;  // pending bytes at the last scan plus ours since
  std::chrono::steady_clock::time_point lastScan_{};
  std::optional<Gap> gap_;
  bool failed_ = false;  // a write failed: said once, retried on the next event
};

// A batch read from the spool for sending.
struct SpoolBatch {
  std::string text;  // lines joined by '\n', no trailing newline
  std::string key;   // the segment
  std::uint64_t endOffset = 0;
  std::uint64_t lastSeq = 0;
  std::size_t lines = 0;
};

// The streaming process's reading end: single-threaded (the streamer's).
class SpoolReader {
 public:
  SpoolReader(std::filesystem::path directory, Log log);

  // Rescans the directory: closes segments whose writer died (cutting a torn
  // last line), deletes fully acknowledged closed ones.
  void rescan();
  // The next batch after what was sent, or nullopt when everything is sent.
  std::optional<SpoolBatch> nextBatch(std::size_t maxLines, std::size_t maxBytes);
  // The coordinator acknowledged everything up to this batch's end.
  void acknowledge(const std::string& key, std::uint64_t endOffset);
  // The connection ended: send again from the acknowledged offsets.
  void rewind();

 private:
  struct State {
    SegmentInfo info;
    std::uint64_t sent = 0;
  };
  void closeAbandoned(SegmentInfo& segment);
  void removeIfDone(State& state);

  std::filesystem::path directory_;
  Log log_;
  std::vector<State> segments_;  // in send order
};

}  // namespace lifeboat::stream
