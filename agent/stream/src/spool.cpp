#include "lifeboat/stream/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace lifeboat::stream {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kOpenSuffix = ".jsonl";
constexpr std::string_view kDoneSuffix = ".jsonl.done";
constexpr std::string_view kAckedSuffix = ".acked";

std::string errnoText() {
  return std::strerror(errno);
}

// "seg-<20 digits>-<pid>" when `name` is a segment file; the suffix tells
// whether it is closed.
std::optional<std::pair<std::string, bool>> segmentKey(const std::string& name) {
  if (!name.starts_with("seg-")) {
    return std::nullopt;
  }
  if (name.ends_with(kDoneSuffix)) {
    return std::pair{name.substr(0, name.size() - kDoneSuffix.size()), true};
  }
  if (name.ends_with(kOpenSuffix)) {
    return std::pair{name.substr(0, name.size() - kOpenSuffix.size()), false};
  }
  return std::nullopt;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool readRange(const fs::path& file, std::uint64_t from, std::uint64_t to, std::string& out) {
  out.clear();
  if (to <= from) {
    return true;
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  out.resize(to - from);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(from + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  out.resize(done);
  return true;
}

void fsyncDirectory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string zeroPadded(std::uint64_t value) {
  char text[21];
  std::snprintf(text, sizeof text, "%020llu", static_cast<unsigned long long>(value));
  return text;
}

std::string mebibytes(std::uint64_t bytes) {
  return std::to_string((bytes + 512 * 1024) / (1024 * 1024));
}

}  // namespace

fs::path sidecarPath(const fs::path& spoolDirectory, const std::string& key) {
  return spoolDirectory / (key + std::string(kAckedSuffix));
}

std::uint64_t readAckedOffset(const fs::path& spoolDirectory, const std::string& key) {
  std::string text;
  const fs::path file = sidecarPath(spoolDirectory, key);
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0 || !readRange(file, 0, info.st_size, text)) {
    return 0;
  }
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  std::uint64_t offset = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
  if (error != std::errc() || end != text.data() + text.size()) {
    return 0;  // unreadable: send it all again, the coordinator drops duplicates
  }
  return offset;
}

bool writeAckedOffset(const fs::path& spoolDirectory, const std::string& key,
                      std::uint64_t offset) {
  const fs::path file = sidecarPath(spoolDirectory, key);
  const fs::path temporary = fs::path(file.string() + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  const bool written = writeAll(fd, std::to_string(offset) + "\n");
  ::close(fd);
  return written && ::rename(temporary.c_str(), file.c_str()) == 0;
}

std::vector<SegmentInfo> listSegments(const fs::path& spoolDirectory) {
  std::vector<SegmentInfo> segments;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(spoolDirectory, error)) {
    auto key = segmentKey(entry.path().filename().string());
    if (!key) {
      continue;
    }
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) != 0) {
      continue;  // renamed or deleted meanwhile
    }
    SegmentInfo segment;
    segment.key = key->first;
    segment.closed = key->second;
    segment.path = entry.path();
    segment.size = static_cast<std::uint64_t>(info.st_size);
    segment.acked = readAckedOffset(spoolDirectory, segment.key);
    segments.push_back(std::move(segment));
  }
  // The same key may show twice while a writer renames: keep the closed one.
  std::sort(segments.begin(), segments.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    return a.key != b.key ? a.key < b.key : a.closed > b.closed;
  });
  segments.erase(
      std::unique(segments.begin(), segments.end(),
                  [](const SegmentInfo& a, const SegmentInfo& b) { return a.key == b.key; }),
      segments.end());
  return segments;
}

std::uint64_t pendingBytes(const fs::path& spoolDirectory) {
  std::uint64_t total = 0;
  for (const SegmentInfo& segment : listSegments(spoolDirectory)) {
    total += segment.size > segment.acked ? segment.size - segment.acked : 0;
  }
  return total;
}

// --- SpoolWriter ---

SpoolWriter::SpoolWriter(SpoolOptions options, std::shared_ptr<journal::SharedSequence> sequence,
                         std::string agent)
    : options_(std::move(options)), sequence_(std::move(sequence)), agent_(std::move(agent)) {}

Result<std::unique_ptr<SpoolWriter>> SpoolWriter::open(
    SpoolOptions options, std::shared_ptr<journal::SharedSequence> sequence, std::string agent) {
  std::error_code error;
  fs::create_directories(options.directory, error);
  if (error) {
    return Error{
        "cannot create the spool directory " + options.directory.string() + ": " + error.message(),
        "check that the state directory is writable"};
  }
  ::chmod(options.directory.c_str(), 0700);
  if (!options.log) {
    options.log = [](const std::string&) {};
  }
  std::unique_ptr<SpoolWriter> writer(
      new SpoolWriter(std::move(options), std::move(sequence), std::move(agent)));
  writer->estimate_ = pendingBytes(writer->options_.directory);
  writer->lastScan_ = std::chrono::steady_clock::now();
  return writer;
}

SpoolWriter::~SpoolWriter() {
  close();
}

std::uint64_t SpoolWriter::spooled() const {
  std::lock_guard lock(mutex_);
  return spooled_;
}

void SpoolWriter::reportFailure(const std::string& message) {
  if (!failed_) {
    options_.log(message);
  }
  failed_ = true;
}

bool SpoolWriter::haveRoom(std::uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  // Other processes' appends and the streamer's acks change the total: look
  // again every second, and at once when our estimate says it is full.
  const bool stale = now - lastScan_ >= std::chrono::seconds(1);
  const bool looksFull = estimate_ + bytes > options_.maxBytes;
  if (stale || (looksFull && now - lastScan_ >= std::chrono::milliseconds(100))) {
    estimate_ = pendingBytes(options_.directory);
    lastScan_ = now;
  }
  return estimate_ + bytes <= options_.maxBytes;
}

bool SpoolWriter::writeLine(const std::string& line, std::uint64_t seq, bool durable) {
  if (open_ && open_->size >= options_.segmentBytes) {
    closeLocked();
  }
  if (!open_) {
    Segment segment;
    segment.key = "seg-" + zeroPadded(seq) + "-" + std::to_string(::getpid());
    segment.path = options_.directory / (segment.key + std::string(kOpenSuffix));
    // Made under another name and locked before it shows as a segment, so
    // that no streamer takes a new segment for an abandoned one.
    const fs::path fresh = fs::path(segment.path.string() + ".new");
    segment.fd = ::open(fresh.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (segment.fd < 0) {
      reportFailure("spool: cannot create " + fresh.string() + ": " + errnoText() +
                    "; events stay in their journals only");
      return false;
    }
    // Held while we write: a streamer that can take it knows we are gone.
    ::flock(segment.fd, LOCK_EX);
    if (::rename(fresh.c_str(), segment.path.c_str()) != 0) {
      reportFailure("spool: cannot rename " + fresh.string() + ": " + errnoText() +
                    "; events stay in their journals only");
      ::close(segment.fd);
      ::unlink(fresh.c_str());
      return false;
    }
    fsyncDirectory(options_.directory);
    open_ = std::move(segment);
  }
  if (!writeAll(open_->fd, line)) {
    reportFailure("spool: cannot write " + open_->path.string() + ": " + errnoText() +
                  "; events stay in their journals only");
    // A partial line may be there now: start a new segment, the streamer
    // cuts the torn line off this one.
    closeLocked();
    return false;
  }
  open_->size += line.size();
  open_->lines += 1;
  if (durable) {
    if (::fsync(open_->fd) != 0) {
      reportFailure("spool: cannot fsync " + open_->path.string() + ": " + errnoText());
    }
    unsynced_ = false;
  } else {
    unsynced_ = true;
  }
  failed_ = false;
  return true;
}

void SpoolWriter::recordGapLocked() {
  if (!gap_ || !sequence_) {
    return;
  }
  Result<std::uint64_t> seq = sequence_->next();
  if (!seq) {
    return;  // tried again with the next event
  }
  Event event;
  event.agent = agent_;
  event.seq = *seq;
  event.time =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  event.type = std::string(event_type::kStreamGap);
  boost::json::array journals;
  for (const std::string& file : gap_->journals) {
    journals.emplace_back(file);
  }
  event.data = {{"from_seq", gap_->fromSeq},
                {"to_seq", gap_->toSeq},
                {"dropped", gap_->dropped},
                {"journals", std::move(journals)}};
  const std::string line = encodeEvent(event) + "\n";
  if (writeLine(line, event.seq, true)) {
    estimate_ += line.size();
    ++spooled_;
    options_.log("spool: room again; events " + std::to_string(gap_->fromSeq) + " to " +
                 std::to_string(gap_->toSeq) + " (" + std::to_string(gap_->dropped) +
                 ") were not streamed, recorded as a stream.gap event");
    gap_.reset();
  }
}

bool SpoolWriter::appendLocked(const Event& event, bool durable, const fs::path& journalFile) {
  const std::string line = encodeEvent(event) + "\n";
  if (!haveRoom(line.size())) {
    if (!gap_) {
      gap_.emplace();
      gap_->fromSeq = event.seq;
      options_.log("spool full (" + mebibytes(options_.maxBytes) + " MiB): events from seq " +
                   std::to_string(event.seq) + " are not streamed; they stay in the journal " +
                   (journalFile.empty() ? std::string("(none)") : journalFile.string()));
    }
    gap_->fromSeq = std::min(gap_->fromSeq, event.seq);
    gap_->toSeq = std::max(gap_->toSeq, event.seq);
    gap_->dropped += 1;
    if (!journalFile.empty()) {
      gap_->journals.insert(journalFile.string());
    }
    return false;
  }
  if (!writeLine(line, event.seq, durable)) {
    return false;
  }
  estimate_ += line.size();
  ++spooled_;
  // After the event, so that the gap's (newer) seq follows it in the spool.
  recordGapLocked();
  return true;
}

void SpoolWriter::accept(const Event& event, bool durable, const fs::path& journalFile) {
  bool appended = false;
  {
    std::lock_guard lock(mutex_);
    appended = appendLocked(event, durable, journalFile);
  }
  if (appended && options_.onAppend) {
    options_.onAppend();
  }
}

bool SpoolWriter::append(const Event& event, bool durable) {
  bool appended = false;
  {
    std::lock_guard lock(mutex_);
    appended = appendLocked(event, durable, {});
  }
  if (appended && options_.onAppend) {
    options_.onAppend();
  }
  return appended;
}

void SpoolWriter::sync() {
  std::lock_guard lock(mutex_);
  if (open_ && unsynced_) {
    ::fsync(open_->fd);
    unsynced_ = false;
  }
}

void SpoolWriter::closeLocked() {
  if (!open_) {
    return;
  }
  if (unsynced_) {
    ::fsync(open_->fd);
    unsynced_ = false;
  }
  const fs::path done = options_.directory / (open_->key + std::string(kDoneSuffix));
  if (::rename(open_->path.c_str(), done.c_str()) == 0) {
    open_->path = done;
    fsyncDirectory(options_.directory);
  }
  ::close(open_->fd);  // releases the lock
  open_->fd = -1;
  closedSegments_.push_back(std::move(*open_));
  open_.reset();
}

void SpoolWriter::close() {
  std::lock_guard lock(mutex_);
  if (gap_) {
    estimate_ = pendingBytes(options_.directory);
    lastScan_ = std::chrono::steady_clock::now();
    if (estimate_ < options_.maxBytes) {
      recordGapLocked();
    }
  }
  closeLocked();
}

std::uint64_t SpoolWriter::unacknowledged() {
  std::lock_guard lock(mutex_);
  std::uint64_t count = 0;
  const auto countSegment = [&](const Segment& segment) -> bool {
    const std::uint64_t acked = readAckedOffset(options_.directory, segment.key);
    struct stat info {};
    if (::stat(segment.path.c_str(), &info) != 0 || acked >= segment.size) {
      return false;  // deleted (fully acknowledged) or acknowledged
    }
    std::string rest;
    if (!readRange(segment.path, acked, segment.size, rest)) {
      count += segment.lines;
      return true;
    }
    count += static_cast<std::uint64_t>(std::count(rest.begin(), rest.end(), '\n'));
    return true;
  };
  std::erase_if(closedSegments_, [&](const Segment& segment) { return !countSegment(segment); });
  if (open_) {
    countSegment(*open_);
  }
  return count;
}

// --- SpoolReader ---

SpoolReader::SpoolReader(fs::path directory, Log log)
    : directory_(std::move(directory)), log_(std::move(log)) {
  if (!log_) {
    log_ = [](const std::string&) {};
  }
}

void SpoolReader::closeAbandoned(SegmentInfo& segment) {
  const int fd = ::open(segment.path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);  // its writer is alive
    return;
  }
  // The writer is gone. Cut a torn last line (it died inside the write, the
  // event was never spooled) and close the segment for it.
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    std::uint64_t size = static_cast<std::uint64_t>(info.st_size);
    std::uint64_t keep = size;
    char byte = 0;
    while (keep > 0 && ::pread(fd, &byte, 1, static_cast<off_t>(keep - 1)) == 1 && byte != '\n') {
      --keep;
    }
    if (keep != size) {
      if (::ftruncate(fd, static_cast<off_t>(keep)) == 0) {
        ::fsync(fd);
        log_("spool: cut a torn last line (" + std::to_string(size - keep) + " bytes) off " +
             segment.path.string() + " (its writer died inside the write)");
        segment.size = keep;
      }
    }
  }
  const fs::path done = directory_ / (segment.key + std::string(kDoneSuffix));
  // Only if the path is still the open one: a live writer may have closed it.
  if (::rename(segment.path.c_str(), done.c_str()) == 0) {
    segment.path = done;
    segment.closed = true;
  }
  ::close(fd);
}

void SpoolReader::removeIfDone(State& state) {
  if (state.info.closed && state.info.acked >= state.info.size) {
    if (::unlink(state.info.path.c_str()) == 0 || errno == ENOENT) {
      ::unlink(sidecarPath(directory_, state.info.key).c_str());
      state.info.path.clear();
    }
  }
}

void SpoolReader::rescan() {
  std::vector<SegmentInfo> listed = listSegments(directory_);
  std::vector<State> next;
  next.reserve(listed.size());
  for (SegmentInfo& info : listed) {
    if (!info.closed) {
      closeAbandoned(info);
    }
    State state;
    auto known = std::find_if(segments_.begin(), segments_.end(),
                              [&](const State& old) { return old.info.key == info.key; });
    if (known != segments_.end()) {
      // Ours is newer than the sidecar we may have just written.
      info.acked = std::max(info.acked, known->info.acked);
      state.sent = std::max(known->sent, info.acked);
    } else {
      state.sent = info.acked;
    }
    state.info = std::move(info);
    removeIfDone(state);
    if (!state.info.path.empty()) {
      next.push_back(std::move(state));
    }
  }
  segments_ = std::move(next);
}

std::optional<SpoolBatch> SpoolReader::nextBatch(std::size_t maxLines, std::size_t maxBytes) {
  for (State& state : segments_) {
    if (state.sent >= state.info.size) {
      // The file may have grown since the scan.
      struct stat info {};
      if (state.info.closed || ::stat(state.info.path.c_str(), &info) != 0 ||
          static_cast<std::uint64_t>(info.st_size) <= state.sent) {
        continue;
      }
      state.info.size = static_cast<std::uint64_t>(info.st_size);
    }
    std::string chunk;
    const std::uint64_t end = std::min<std::uint64_t>(state.info.size, state.sent + maxBytes);
    if (!readRange(state.info.path, state.sent, end, chunk)) {
      // Renamed to .done meanwhile: the next rescan finds it.
      continue;
    }
    SpoolBatch batch;
    batch.key = state.info.key;
    std::size_t position = 0;
    std::uint64_t offset = state.sent;
    while (batch.lines < maxLines) {
      const std::size_t newline = chunk.find('\n', position);
      if (newline == std::string::npos) {
        break;  // an incomplete line: being written, or torn
      }
      std::string_view line(chunk.data() + position, newline - position);
      if (batch.text.size() + line.size() + 1 > maxBytes && batch.lines > 0) {
        break;
      }
      Result<Event> event = decodeEvent(line);
      if (event) {
        if (batch.lines > 0) {
          batch.text += '\n';
        }
        batch.text.append(line);
        batch.lastSeq = event->seq;
        ++batch.lines;
      } else {
        log_("spool: skipping a line that is not a valid event in " + state.info.path.string() +
             " at byte " + std::to_string(offset) + ": " + event.error().message);
      }
      offset += line.size() + 1;
      position = newline + 1;
    }
    if (offset == state.sent) {
      if (state.info.closed && end == state.info.size && !chunk.empty()) {
        // A closed segment ending in a torn line (a write failed): never sent.
        log_("spool: ignoring a torn last line (" + std::to_string(chunk.size()) + " bytes) of " +
             state.info.path.string());
        state.sent = end;
        acknowledge(state.info.key, end);
        return nextBatch(maxLines, maxBytes);
      }
      if (chunk.size() >= maxBytes && chunk.find('\n') == std::string::npos) {
        log_("spool: a line longer than " + std::to_string(maxBytes) + " bytes in " +
             state.info.path.string() + " cannot be sent; skipping it");
        // Skip up to the next newline past the chunk.
        std::string rest;
        std::uint64_t scan = end;
        while (readRange(state.info.path, scan, std::min(state.info.size, scan + 65536), rest) &&
               !rest.empty()) {
          const std::size_t newline = rest.find('\n');
          if (newline != std::string::npos) {
            state.sent = scan + newline + 1;
            break;
          }
          scan += rest.size();
        }
      }
      continue;
    }
    state.sent = offset;
    batch.endOffset = offset;
    if (batch.lines == 0) {
      // Only invalid lines: count them as acknowledged right away.
      acknowledge(batch.key, offset);
      return nextBatch(maxLines, maxBytes);
    }
    return batch;
  }
  return std::nullopt;
}

void SpoolReader::acknowledge(const std::string& key, std::uint64_t endOffset) {
  auto state = std::find_if(segments_.begin(), segments_.end(),
                            [&](const State& candidate) { return candidate.info.key == key; });
  if (state == segments_.end() || endOffset <= state->info.acked) {
    return;
  }
  state->info.acked = endOffset;
  writeAckedOffset(directory_, key, endOffset);
  removeIfDone(*state);
  if (state->info.path.empty()) {
    segments_.erase(state);
  }
}

void SpoolReader::rewind() {
  for (State& state : segments_) {
    state.sent = state.info.acked;
  }
}

}  // namespace lifeboat::stream
