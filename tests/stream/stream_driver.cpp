// lifeboat-stream-driver: appends N synthetic events (real sequence numbers,
// a journal, the spool) into a state directory and streams them until the
// coordinator acknowledged all of them. For fault tests: kill it at any time
// and start it again with the same state directory; it continues where it
// stopped. Prints "appended N" and "acked N" progress lines on stdout.
//
//   lifeboat-stream-driver --state-dir DIR --agent NAME --count N --url wss://...
//                          --ca CA --cert CERT --key KEY [--pin SHA256]
//                          [--spool-max BYTES] [--timeout SECONDS]

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "lifeboat/journal/journal.hpp"
#include "lifeboat/journal/sequence_store.hpp"
#include "lifeboat/stream/agent_stream.hpp"

namespace {

using namespace lifeboat;

int usage(const std::string& why) {
  std::cerr << "lifeboat-stream-driver: " << why
            << "\nusage: lifeboat-stream-driver --state-dir DIR --agent NAME --count N --url "
               "wss://HOST:PORT/v1/stream --ca CA --cert CERT --key KEY [--pin SHA256] "
               "[--spool-max BYTES] [--timeout SECONDS]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (!key.starts_with("--")) {
      return usage("unexpected " + key);
    }
    options[key.substr(2)] = argv[i + 1];
  }
  for (const char* required : {"state-dir", "agent", "count", "url", "ca", "cert", "key"}) {
    if (!options.contains(required)) {
      return usage(std::string("--") + required + " is missing");
    }
  }
  const std::filesystem::path state = options["state-dir"];
  const std::uint64_t count = std::stoull(options["count"]);
  std::filesystem::create_directories(state / "driver");

  Result<journal::SequenceStore> store = journal::SequenceStore::open(state);
  if (!store) {
    std::cerr << "lifeboat-stream-driver: " << store.error().message << '\n';
    return 1;
  }
  auto sequence = std::make_shared<journal::SharedSequence>(std::move(*store));

  // The journal says how far an earlier driver got (a torn last line is cut).
  const std::filesystem::path journalFile = state / "driver" / "journal.jsonl";
  std::uint64_t appended = 0;
  std::optional<Event> last;
  if (std::filesystem::exists(journalFile)) {
    Result<bool> scanned = journal::scanJournal(journalFile, [&](Event&& event) {
      ++appended;
      last = std::move(event);
      return Result<journal::Done>(journal::Done{});
    });
    if (!scanned) {
      std::cerr << "lifeboat-stream-driver: " << scanned.error().message << '\n';
      return 1;
    }
  }
  Result<journal::Journal> journal = journal::Journal::open(journalFile);
  if (!journal) {
    std::cerr << "lifeboat-stream-driver: " << journal.error().message << '\n';
    return 1;
  }

  stream::AgentStreamSettings settings;
  settings.stateDirectory = state;
  settings.agent = options["agent"];
  settings.agentVersion = "stream-driver";
  settings.url = options["url"];
  settings.tls.ca = options["ca"];
  settings.tls.certificate = options["cert"];
  settings.tls.privateKey = options["key"];
  settings.tls.pinSha256 = options.contains("pin") ? options["pin"] : "";
  settings.spoolMax =
      options.contains("spool-max") ? std::stoull(options["spool-max"]) : std::uint64_t{4} << 30;
  settings.sequence = sequence;
  settings.log = [](const std::string& line) {
    std::cerr << "lifeboat-stream-driver: " << line << std::endl;
  };
  Result<std::unique_ptr<stream::AgentStream>> started =
      stream::AgentStream::start(std::move(settings));
  if (!started) {
    std::cerr << "lifeboat-stream-driver: " << started.error().message << '\n';
    return 1;
  }
  stream::AgentStream& agentStream = **started;

  // A driver killed between its journal append and its spool append left the
  // last event in the journal only: spool it again (the coordinator keeps one
  // copy per seq).
  if (last) {
    agentStream.sink()->accept(*last, true, journalFile);
  }
  std::cout << "appended " << appended << std::endl;
  for (std::uint64_t n = appended; n < count; ++n) {
    Result<std::uint64_t> seq = sequence->next();
    if (!seq) {
      std::cerr << "lifeboat-stream-driver: " << seq.error().message << '\n';
      return 1;
    }
    Event event;
    event.agent = options["agent"];
    event.seq = *seq;
    event.time =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    event.type = "driver.event";
    event.data = {{"n", n}};
    const bool durable = (n + 1) % 100 == 0 || n + 1 == count;
    if (Result<journal::Done> done = journal->append(
            event, durable ? journal::Journal::Sync::now : journal::Journal::Sync::later);
        !done) {
      std::cerr << "lifeboat-stream-driver: " << done.error().message << '\n';
      return 1;
    }
    agentStream.sink()->accept(event, durable, journalFile);
    if ((n + 1) % 10'000 == 0 || n + 1 == count) {
      std::cout << "appended " << n + 1 << std::endl;
    }
  }
  const std::uint64_t total = std::max(appended, count);
  const double timeoutSeconds = options.contains("timeout") ? std::stod(options["timeout"]) : 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<std::int64_t>(timeoutSeconds * 1000));
  const std::filesystem::path spool = state / stream::kSpoolDirectoryName;
  std::uint64_t reported = ~std::uint64_t{0};
  for (;;) {
    const std::uint64_t pending = stream::pendingBytes(spool);
    const std::uint64_t acked = agentStream.status().ackedEvents;
    if (pending == 0) {
      break;
    }
    if (acked != reported) {
      std::cout << "acked " << acked << " (this process)" << std::endl;
      reported = acked;
    }
    if (timeoutSeconds > 0 && std::chrono::steady_clock::now() > deadline) {
      std::cerr << "lifeboat-stream-driver: timed out with " << pending
                << " bytes unacknowledged\n";
      agentStream.finish(std::chrono::milliseconds(0));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  agentStream.finish(std::chrono::milliseconds(1000));
  std::cout << "acked " << total << std::endl;
  return 0;
}
