#include "lifeboat/journal/journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "test_dir.hpp"

namespace lifeboat::journal {
namespace {

using ::testing::HasSubstr;

Event makeEvent(std::uint64_t seq, std::string_view type = event_type::kStepStarted) {
  Event event;
  event.agent = "agent-1";
  event.run = "20261124T225610Z-k3f9";
  event.seq = seq;
  event.time = Timestamp{std::chrono::milliseconds{1795000000000 + static_cast<long long>(seq)}};
  event.type = std::string(type);
  event.step = "step-" + std::to_string(seq);
  event.data = boost::json::object{{"n", seq}};
  return event;
}

std::string fileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void appendRaw(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

class JournalTest : public TempDirTest {
 protected:
  std::filesystem::path file() const { return dir_ / kJournalFileName; }
};

TEST_F(JournalTest, AppendsOneLinePerEventAndReadsThemBackInOrder) {
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    EXPECT_EQ(journal->discardedTornBytes(), 0u);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
      Result<Done> appended = journal->append(makeEvent(seq));
      ASSERT_TRUE(appended.ok()) << appended.error().message;
    }
  }
  EXPECT_EQ(fileText(file()), encodeEvent(makeEvent(1)) + "\n" + encodeEvent(makeEvent(2)) + "\n" +
                                  encodeEvent(makeEvent(3)) + "\n");
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_FALSE(contents->tornTail);
  ASSERT_EQ(contents->events.size(), 3u);
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    EXPECT_EQ(contents->events[seq - 1], makeEvent(seq));
  }
}

// A deferred line is written at once (a reader sees it) and remembered as
// unsynced until the next synced append or sync().
TEST_F(JournalTest, DeferredLinesAreWrittenAndSyncedLater) {
  Result<Journal> journal = Journal::open(file());
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_FALSE(journal->hasUnsynced());
  ASSERT_TRUE(journal->append(makeEvent(1), Journal::Sync::later).ok());
  EXPECT_TRUE(journal->hasUnsynced());
  EXPECT_EQ(fileText(file()), encodeEvent(makeEvent(1)) + "\n");
  ASSERT_TRUE(journal->append(makeEvent(2)).ok());
  EXPECT_FALSE(journal->hasUnsynced());
  ASSERT_TRUE(journal->append(makeEvent(3), Journal::Sync::later).ok());
  ASSERT_TRUE(journal->sync().ok());
  EXPECT_FALSE(journal->hasUnsynced());
}

TEST_F(JournalTest, ScanVisitsEventsInOrderAndStopsAtTheVisitorsError) {
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok());
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
      ASSERT_TRUE(journal->append(makeEvent(seq)).ok());
    }
  }
  appendRaw(file(), "{\"v\":1,\"tor");
  std::vector<std::uint64_t> seen;
  Result<bool> torn = scanJournal(file(), [&seen](Event&& event) -> Result<Done> {
    seen.push_back(event.seq);
    return Done{};
  });
  ASSERT_TRUE(torn.ok()) << torn.error().message;
  EXPECT_TRUE(*torn);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4}));

  seen.clear();
  Result<bool> stopped = scanJournal(file(), [&seen](Event&& event) -> Result<Done> {
    seen.push_back(event.seq);
    if (event.seq == 2) {
      return Error{"enough", ""};
    }
    return Done{};
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message, "enough");
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(JournalTest, CreatesTheFileWithMode0600) {
  const mode_t previous = ::umask(0);  // so that only our mode argument counts
  Result<Journal> journal = Journal::open(file());
  ::umask(previous);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  struct stat status {};
  ASSERT_EQ(::stat(file().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);
}

TEST_F(JournalTest, ReopeningAppendsAfterExistingEvents) {
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(journal->append(makeEvent(1)).ok());
  }
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(journal->append(makeEvent(2)).ok());
  }
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  ASSERT_EQ(contents->events.size(), 2u);
  EXPECT_EQ(contents->events[0].seq, 1u);
  EXPECT_EQ(contents->events[1].seq, 2u);
}

TEST_F(JournalTest, TornTailIsReportedAndSkippedNotAnError) {
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(journal->append(makeEvent(1)).ok());
  }
  const std::string second = encodeEvent(makeEvent(2));
  appendRaw(file(), second.substr(0, second.size() / 2));  // the crash came mid-write

  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_TRUE(contents->tornTail);
  ASSERT_EQ(contents->events.size(), 1u);
  EXPECT_EQ(contents->events[0], makeEvent(1));
}

TEST_F(JournalTest, CompleteJsonWithoutNewlineIsStillATornTail) {
  appendRaw(file(), encodeEvent(makeEvent(1)) + "\n" + encodeEvent(makeEvent(2)));
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_TRUE(contents->tornTail);
  EXPECT_EQ(contents->events.size(), 1u);
}

TEST_F(JournalTest, ReopeningCutsATornTailSoTheNextAppendStaysReadable) {
  const std::string first = encodeEvent(makeEvent(1)) + "\n";
  const std::string fragment = encodeEvent(makeEvent(2)).substr(0, 17);
  appendRaw(file(), first + fragment);
  {
    Result<Journal> journal = Journal::open(file());
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    EXPECT_EQ(journal->discardedTornBytes(), fragment.size());
    ASSERT_TRUE(journal->append(makeEvent(3)).ok());
  }
  EXPECT_EQ(fileText(file()), first + encodeEvent(makeEvent(3)) + "\n");
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_FALSE(contents->tornTail);
  ASSERT_EQ(contents->events.size(), 2u);
  EXPECT_EQ(contents->events[1].seq, 3u);
}

TEST_F(JournalTest, ReopeningAFileThatIsOnlyATornLineEmptiesIt) {
  appendRaw(file(), std::string(100000, 'x'));  // longer than one read chunk
  Result<Journal> journal = Journal::open(file());
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(journal->discardedTornBytes(), 100000u);
  EXPECT_EQ(fileText(file()), "");
}

TEST_F(JournalTest, CorruptMiddleLineIsAnErrorNamingTheLine) {
  appendRaw(file(), encodeEvent(makeEvent(1)) + "\n" + "{\"v\":1,\"agent\":\"x\"\n" +
                        encodeEvent(makeEvent(3)) + "\n");
  Result<JournalContents> contents = readJournal(file());
  ASSERT_FALSE(contents.ok());
  EXPECT_THAT(contents.error().message, HasSubstr(file().string() + ":2: "));
}

TEST_F(JournalTest, InvalidEventInTheMiddleNamesLineAndField) {
  Event bad = makeEvent(2);
  std::string line = encodeEvent(bad);
  line.replace(line.find("\"seq\":2"), 7, "\"seq\":-2");
  appendRaw(file(), encodeEvent(makeEvent(1)) + "\n" + line + "\n");
  Result<JournalContents> contents = readJournal(file());
  ASSERT_FALSE(contents.ok());
  EXPECT_THAT(contents.error().message, HasSubstr(":2: event field \"seq\""));
}

TEST_F(JournalTest, EmptyLineInTheMiddleIsAnError) {
  appendRaw(file(), encodeEvent(makeEvent(1)) + "\n\n" + encodeEvent(makeEvent(3)) + "\n");
  Result<JournalContents> contents = readJournal(file());
  ASSERT_FALSE(contents.ok());
  EXPECT_THAT(contents.error().message, HasSubstr(":2: "));
}

TEST_F(JournalTest, EmptyFileHasNoEvents) {
  ASSERT_TRUE(Journal::open(file()).ok());
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok());
  EXPECT_TRUE(contents->events.empty());
  EXPECT_FALSE(contents->tornTail);
}

TEST_F(JournalTest, MissingFileOrDirectoryIsAnError) {
  Result<JournalContents> contents = readJournal(file());
  ASSERT_FALSE(contents.ok());
  EXPECT_THAT(contents.error().message, HasSubstr(file().string()));

  Result<Journal> journal = Journal::open(dir_ / "no-such-run" / kJournalFileName);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(journal.error().message, HasSubstr("no-such-run"));
}

TEST_F(JournalTest, RefusesAnOverlongEventAndWritesNothing) {
  Result<Journal> journal = Journal::open(file());
  ASSERT_TRUE(journal.ok());
  Event big = makeEvent(1);
  big.data = boost::json::object{{"text", std::string(kMaxEventLineBytes, 'x')}};
  Result<Done> appended = journal->append(big);
  ASSERT_FALSE(appended.ok());
  EXPECT_THAT(appended.error().message, HasSubstr("over the journal's line limit"));
  EXPECT_EQ(fileText(file()), "");
  EXPECT_TRUE(journal->append(makeEvent(2)).ok());  // the journal is still usable
}

TEST_F(JournalTest, MovedJournalKeepsAppending) {
  Result<Journal> opened = Journal::open(file());
  ASSERT_TRUE(opened.ok());
  Journal journal = std::move(*opened);
  ASSERT_TRUE(journal.append(makeEvent(1)).ok());
  Journal other = std::move(journal);
  ASSERT_TRUE(other.append(makeEvent(2)).ok());
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->events.size(), 2u);
}

// What a test can check about durability: that once append() has returned, the
// line is in the kernel (no user-space buffering), so an agent killed with
// SIGKILL right after leaves the event readable. That the fsync makes it
// survive a power loss cannot be observed without cutting the power; the
// contract rests on append() calling fsync(2) before returning (journal.cpp).
TEST_F(JournalTest, EventSurvivesSigkillRightAfterAppendReturned) {
  const pid_t child = ::fork();  // the test process is small; fork is fine here
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<Journal> journal = Journal::open(file());
    if (!journal.ok() || !journal->append(makeEvent(7)).ok()) {
      ::_exit(3);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  Result<JournalContents> contents = readJournal(file());
  ASSERT_TRUE(contents.ok()) << contents.error().message;
  EXPECT_FALSE(contents->tornTail);
  ASSERT_EQ(contents->events.size(), 1u);
  EXPECT_EQ(contents->events[0], makeEvent(7));
}

}  // namespace
}  // namespace lifeboat::journal
