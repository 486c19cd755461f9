#include "lifeboat/stream/spool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::stream {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

std::shared_ptr<journal::SharedSequence> sequenceIn(const fs::path& state) {
  Result<journal::SequenceStore> store = journal::SequenceStore::open(state);
  EXPECT_TRUE(store) << store.error().message;
  return std::make_shared<journal::SharedSequence>(std::move(*store));
}

Event eventWith(std::uint64_t seq, std::string text = "x") {
  Event event;
  event.agent = "db-1";
  event.run = "20260101T000000Z-abcd";
  event.seq = seq;
  event.time = Timestamp(std::chrono::milliseconds(1'700'000'000'000));
  event.type = "step.output";
  event.step = "s";
  event.data = {{"text", std::move(text)}};
  return event;
}

struct Harness {
  TempDir temp;
  fs::path spool = temp.path() / "spool";
  std::vector<std::string> logs;
  std::shared_ptr<journal::SharedSequence> sequence = sequenceIn(temp.path());

  std::unique_ptr<SpoolWriter> writer(std::uint64_t maxBytes = kDefaultSpoolMax) {
    SpoolOptions options;
    options.directory = spool;
    options.maxBytes = maxBytes;
    options.log = [this](const std::string& line) { logs.push_back(line); };
    auto opened = SpoolWriter::open(std::move(options), sequence, "db-1");
    EXPECT_TRUE(opened) << opened.error().message;
    return std::move(*opened);
  }
  std::uint64_t next() { return *sequence->next(); }
};

std::vector<std::uint64_t> seqsOf(const SpoolBatch& batch) {
  std::vector<std::uint64_t> seqs;
  std::size_t start = 0;
  while (start <= batch.text.size()) {
    std::size_t end = batch.text.find('\n', start);
    if (end == std::string::npos)
      end = batch.text.size();
    Result<Event> event = decodeEvent(std::string_view(batch.text).substr(start, end - start));
    EXPECT_TRUE(event) << event.error().message;
    if (event)
      seqs.push_back(event->seq);
    start = end + 1;
  }
  return seqs;
}

TEST(SpoolTest, AppendAcknowledgeDeletes) {
  Harness h;
  auto writer = h.writer();
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(h.next());
    writer->accept(eventWith(seqs.back()), true, "/j");
  }
  EXPECT_EQ(writer->unacknowledged(), 3u);
  writer->close();
  SpoolReader reader(h.spool, {});
  reader.rescan();
  std::optional<SpoolBatch> batch = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(batch);
  EXPECT_EQ(seqsOf(*batch), seqs);
  EXPECT_EQ(batch->lastSeq, seqs.back());
  EXPECT_FALSE(reader.nextBatch(1000, 1 << 20));
  reader.acknowledge(batch->key, batch->endOffset);
  EXPECT_EQ(writer->unacknowledged(), 0u);
  EXPECT_TRUE(fs::is_empty(h.spool)) << "segment and sidecar are deleted once acknowledged";
}

TEST(SpoolTest, RestartReplaysWhatWasNotAcknowledgedInOrder) {
  Harness h;
  std::vector<std::uint64_t> seqs;
  {
    auto writer = h.writer();
    for (int i = 0; i < 5; ++i) {
      seqs.push_back(h.next());
      writer->accept(eventWith(seqs.back()), i == 4, "/j");
    }
    SpoolReader reader(h.spool, {});
    reader.rescan();
    auto first = reader.nextBatch(2, 1 << 20);
    auto second = reader.nextBatch(2, 1 << 20);
    ASSERT_TRUE(first && second);
    reader.acknowledge(first->key, first->endOffset);  // the second never is
  }
  // A new process: the segment was closed at exit, the sidecar says 2 lines.
  SpoolReader reader(h.spool, {});
  reader.rescan();
  auto batch = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(batch);
  EXPECT_EQ(seqsOf(*batch), std::vector<std::uint64_t>(seqs.begin() + 2, seqs.end()));
  // A lost connection: everything not acknowledged is sent again.
  reader.rewind();
  auto again = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(again);
  EXPECT_EQ(seqsOf(*again), seqsOf(*batch));
}

TEST(SpoolTest, TornLastLineOfADeadWriterIsCutOff) {
  Harness h;
  const std::string whole = encodeEvent(eventWith(7)) + "\n";
  const std::string torn = encodeEvent(eventWith(8)).substr(0, 20);
  fs::create_directories(h.spool);
  const fs::path segment = h.spool / "seg-00000000000000000007-999999.jsonl";
  std::ofstream(segment) << whole << torn;
  std::vector<std::string> logs;
  SpoolReader reader(h.spool, [&](const std::string& line) { logs.push_back(line); });
  reader.rescan();
  EXPECT_FALSE(fs::exists(segment)) << "closed for its dead writer";
  const fs::path done = h.spool / "seg-00000000000000000007-999999.jsonl.done";
  ASSERT_TRUE(fs::exists(done));
  EXPECT_EQ(test_support::readText(done), whole);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("torn"), std::string::npos) << logs[0];
  auto batch = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(batch);
  EXPECT_EQ(seqsOf(*batch), std::vector<std::uint64_t>{7});
}

TEST(SpoolTest, ALiveWritersSegmentIsLeftOpenAndReadUpToItsLastWholeLine) {
  Harness h;
  auto writer = h.writer();
  const std::uint64_t seq = h.next();
  writer->accept(eventWith(seq), true, "/j");
  SpoolReader reader(h.spool, {});
  reader.rescan();
  auto segments = listSegments(h.spool);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_FALSE(segments[0].closed) << "its writer holds the lock";
  auto batch = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(batch);
  const std::uint64_t later = h.next();
  writer->accept(eventWith(later), true, "/j");
  auto grown = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(grown) << "read as it grows";
  EXPECT_EQ(seqsOf(*grown), std::vector<std::uint64_t>{later});
}

TEST(SpoolTest, FullSpoolKeepsTheRunGoingSaysSoOnceAndRecordsTheGap) {
  Harness h;
  const std::size_t lineBytes = encodeEvent(eventWith(1000)).size() + 1;
  auto writer = h.writer(lineBytes * 3);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 6; ++i) {
    seqs.push_back(h.next());
    writer->accept(eventWith(seqs.back()), true, "/state/run-1/journal.jsonl");
  }
  EXPECT_EQ(writer->spooled(), 3u);
  ASSERT_EQ(h.logs.size(), 1u) << "one line per episode";
  EXPECT_NE(h.logs[0].find("spool full"), std::string::npos) << h.logs[0];
  EXPECT_NE(h.logs[0].find("from seq " + std::to_string(seqs[3])), std::string::npos) << h.logs[0];
  EXPECT_NE(h.logs[0].find("/state/run-1/journal.jsonl"), std::string::npos) << h.logs[0];

  // The streamer gets everything acknowledged: room again.
  SpoolReader reader(h.spool, {});
  reader.rescan();
  auto batch = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(batch);
  reader.acknowledge(batch->key, batch->endOffset);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // the writer's rescan limit
  const std::uint64_t after = h.next();
  writer->accept(eventWith(after), true, "/state/run-1/journal.jsonl");
  auto rest = reader.nextBatch(1000, 1 << 20);
  ASSERT_TRUE(rest);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = rest->text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(rest->text.substr(start, end - start));
  lines.push_back(rest->text.substr(start));
  ASSERT_EQ(lines.size(), 2u) << rest->text;
  EXPECT_EQ(decodeEvent(lines[0])->seq, after);
  Result<Event> gap = decodeEvent(lines[1]);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->type, event_type::kStreamGap);
  EXPECT_GT(gap->seq, after);
  EXPECT_EQ(gap->data.at("from_seq").to_number<std::uint64_t>(), seqs[3]);
  EXPECT_EQ(gap->data.at("to_seq").to_number<std::uint64_t>(), seqs[5]);
  EXPECT_EQ(gap->data.at("dropped").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(gap->data.at("journals").as_array().at(0).as_string(), "/state/run-1/journal.jsonl");
}

// Two writer processes share the state directory while this one streams:
// every event arrives once, and the spool ends empty.
TEST(SpoolTest, TwoWriterProcessesAndOneStreamer) {
  Harness h;
  constexpr int kPerWriter = 2000;
  std::vector<pid_t> children;
  for (int w = 0; w < 2; ++w) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto sequence = sequenceIn(h.temp.path());
      SpoolOptions options;
      options.directory = h.spool;
      options.segmentBytes = 64 * 1024;  // several rotations each
      auto writer = SpoolWriter::open(std::move(options), sequence, "db-1");
      for (int i = 0; i < kPerWriter; ++i) {
        (*writer)->accept(eventWith(*sequence->next(), std::string(50, 'a' + w)), i % 50 == 0,
                          "/j");
      }
      (*writer)->close();
      ::_exit(0);
    }
    children.push_back(child);
  }
  SpoolReader reader(h.spool, {});
  std::multiset<std::uint64_t> received;
  int finished = 0;
  while (finished < 2 || !fs::is_empty(h.spool)) {
    for (pid_t& child : children) {
      int status = 0;
      if (child > 0 && ::waitpid(child, &status, WNOHANG) == child) {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        child = -1;
        ++finished;
      }
    }
    reader.rescan();
    while (auto batch = reader.nextBatch(100, 1 << 20)) {
      for (std::uint64_t seq : seqsOf(*batch))
        received.insert(seq);
      reader.acknowledge(batch->key, batch->endOffset);
    }
    if (finished == 2) {
      reader.rescan();
      if (listSegments(h.spool).empty())
        break;
    }
  }
  EXPECT_EQ(received.size(), 2u * kPerWriter);
  EXPECT_EQ(std::set<std::uint64_t>(received.begin(), received.end()).size(), 2u * kPerWriter)
      << "no event twice";
  EXPECT_TRUE(listSegments(h.spool).empty());
}

TEST(SpoolTest, WriterKilledMidAppendLeavesOnlyWholeEvents) {
  Harness h;
  int pipeFds[2];
  ASSERT_EQ(::pipe(pipeFds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto sequence = sequenceIn(h.temp.path());
    SpoolOptions options;
    options.directory = h.spool;
    auto writer = SpoolWriter::open(std::move(options), sequence, "db-1");
    for (int i = 0;; ++i) {
      (*writer)->accept(eventWith(*sequence->next(), std::string(20'000, 'k')), false, "/j");
      if (i == 100) {
        [[maybe_unused]] ssize_t n = ::write(pipeFds[1], "x", 1);
      }
    }
  }
  ::close(pipeFds[1]);
  char byte;
  ASSERT_EQ(::read(pipeFds[0], &byte, 1), 1);
  ::close(pipeFds[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  SpoolReader reader(h.spool, {});
  reader.rescan();
  auto segments = listSegments(h.spool);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_TRUE(segments[0].closed) << "closed for the dead writer";
  std::size_t lines = 0;
  std::uint64_t previous = 0;
  while (auto batch = reader.nextBatch(1000, 4 << 20)) {
    for (std::uint64_t seq : seqsOf(*batch)) {
      EXPECT_GT(seq, previous);
      previous = seq;
      ++lines;
    }
    reader.acknowledge(batch->key, batch->endOffset);
  }
  EXPECT_GT(lines, 100u);
  reader.rescan();
  EXPECT_TRUE(listSegments(h.spool).empty());
}

}  // namespace
}  // namespace lifeboat::stream
