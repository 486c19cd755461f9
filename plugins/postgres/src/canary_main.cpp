// lifeboat-pg-canary: writes one canary row to the primary every interval and
// records, per server, the newest row whose commit was acknowledged (see
// canary.hpp and docs/plugin-postgres.md). The `data_loss` action of the
// postgres plugin compares that record with what survived a failover.

#include <signal.h>
#include <time.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "canary.hpp"
#include "connection.hpp"
#include "lifeboat/common/duration.hpp"
#include "timestamps.hpp"

namespace {

using namespace lifeboat;
using namespace lifeboat::postgres;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t stopRequested = 0;

void onStopSignal(int) {
  stopRequested = 1;
}

constexpr const char* kUsage =
    "usage: lifeboat-pg-canary --dsn CONNINFO --state FILE [--interval 200ms] [--writer NAME]\n"
    "                          [--keep 1h] [--password-file PATH]\n"
    "\n"
    "Writes one row into lifeboat.canary on the PostgreSQL server CONNINFO reaches, every\n"
    "interval, and after each acknowledged commit replaces FILE with the newest acknowledged\n"
    "canary per server (origin). The postgres plugin's data_loss action reads FILE.\n"
    "\n"
    "  --dsn CONNINFO        libpq connection string, without the password\n"
    "  --state FILE          state file (JSON), replaced atomically after each write\n"
    "  --interval DURATION   time between writes (default 200ms)\n"
    "  --writer NAME         value of the rows' writer column (default lifeboat-pg-canary)\n"
    "  --keep DURATION       delete canaries older than this now and then (default 1h)\n"
    "  --password-file PATH  read the password from PATH (else PGPASSWORD is used)\n"
    "  --help                show this\n"
    "\n"
    "Stops and exits 0 on SIGTERM or SIGINT. Exit status 2: bad usage.\n";

struct Options {
  std::string dsn;
  std::string statePath;
  Milliseconds interval{200};
  std::string writer = "lifeboat-pg-canary";
  Milliseconds keep = std::chrono::hours(1);
  std::string password;
};

int usageError(const std::string& message) {
  std::cerr << "lifeboat-pg-canary: " << message << "\n"
            << "run lifeboat-pg-canary --help for usage\n";
  return 2;
}

// Parses argv; an int is the exit status to return at once.
std::variant<Options, int> parseOptions(int argc, char** argv) {
  Options options;
  std::optional<std::string> passwordFile;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--help" || name == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      return usageError(name.rfind("--", 0) == 0 ? name + " needs a value"
                                                 : "unexpected argument '" + name + "'");
    }
    const std::string value = argv[++i];
    auto duration = [&](Milliseconds& into) -> std::optional<int> {
      auto parsed = parseDuration(value);
      if (!parsed || parsed->count() <= 0) {
        return usageError(name + ": " + (parsed ? "must be positive" : parsed.error().message));
      }
      into = *parsed;
      return std::nullopt;
    };
    if (name == "--dsn") {
      options.dsn = value;
    } else if (name == "--state") {
      options.statePath = value;
    } else if (name == "--writer") {
      options.writer = value;
    } else if (name == "--password-file") {
      passwordFile = value;
    } else if (name == "--interval") {
      if (auto status = duration(options.interval)) {
        return *status;
      }
    } else if (name == "--keep") {
      if (auto status = duration(options.keep)) {
        return *status;
      }
    } else {
      return usageError("unknown option '" + name + "'");
    }
  }
  if (options.dsn.empty()) {
    return usageError("--dsn is required");
  }
  if (options.statePath.empty()) {
    return usageError("--state is required");
  }
  if (auto parsed = parseDsn(options.dsn); !parsed) {
    return usageError("--dsn: " + parsed.error().message);
  }
  if (passwordFile) {
    std::ifstream in(*passwordFile);
    if (!in) {
      return usageError("cannot read the password file " + *passwordFile);
    }
    std::getline(in, options.password);
  } else if (const char* fromEnvironment = std::getenv("PGPASSWORD")) {
    options.password = fromEnvironment;
  }
  return options;
}

// Sleeps until `until` or a stop signal, whichever comes first.
void sleepUntil(Clock::time_point until) {
  while (stopRequested == 0) {
    const auto left = until - Clock::now();
    if (left <= Clock::duration::zero()) {
      return;
    }
    const auto step = std::min<Clock::duration>(left, std::chrono::milliseconds(100));
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(step).count();
    timespec pause{static_cast<time_t>(nanos / 1'000'000'000),
                   static_cast<long>(nanos % 1'000'000'000)};
    ::nanosleep(&pause, nullptr);
  }
}

class CanaryWriter {
 public:
  explicit CanaryWriter(Options options)
      : options_(std::move(options)), label_(serverLabel(options_.dsn)) {
    // Keep what an earlier writer recorded: after a restart of the writer the
    // former primary's last acknowledged canary must still be there.
    if (auto earlier = readCanaryState(options_.statePath)) {
      state_ = std::move(*earlier);
    }
    state_.writer = options_.writer;
    state_.intervalMs = options_.interval.count();
  }

  int run() {
    auto nextCleanup = Clock::now();
    const Milliseconds cleanupEvery =
        std::min<Milliseconds>(std::chrono::minutes(1), options_.keep / 10 + Milliseconds(1));
    while (stopRequested == 0) {
      const auto tick = Clock::now();
      writeOnce();
      if (connection_ && tick >= nextCleanup) {
        deleteOldCanaries();
        nextCleanup = tick + cleanupEvery;
      }
      sleepUntil(tick + options_.interval);
    }
    std::cerr << "lifeboat-pg-canary: stopping\n";
    return 0;
  }

 private:
  void writeOnce() {
    if (!connection_ || !connection_->ok()) {
      connection_.reset();
      ConnectOptions connect;
      connect.dsn = options_.dsn;
      connect.password = options_.password;
      connect.connectTimeout = std::chrono::seconds(2);
      connect.applicationName = "lifeboat-pg-canary";
      auto opened = Connection::open(connect);
      if (!opened) {
        failed(opened.error().message);
        return;
      }
      if (auto error = ensureCanaryTable(*opened)) {
        failed(error->message);
        return;
      }
      connection_.emplace(std::move(*opened));
    }
    const Milliseconds timeout =
        std::max<Milliseconds>(options_.interval * 5, std::chrono::seconds(2));
    auto row = insertCanary(*connection_, options_.writer, timeout);
    if (!row) {
      // A failed write may come from a server that turned read-only or into
      // a standby: connect afresh next time (the dsn may lead elsewhere).
      connection_.reset();
      failed(row.error().message);
      return;
    }
    const std::string acknowledgedAt = formatTimestamp(nowMicroseconds());
    state_.origins[row->origin] = AcknowledgedCanary{row->id, row->writtenAt, acknowledgedAt};
    if (auto error = writeCanaryState(options_.statePath, state_)) {
      failed(error->message);
      return;
    }
    if (!healthy_ || row->origin != lastOrigin_) {
      std::cerr << "lifeboat-pg-canary: writing canaries to " << label_ << " (origin "
                << row->origin << "), first id " << row->id << "\n";
    }
    healthy_ = true;
    lastOrigin_ = row->origin;
  }

  void failed(const std::string& message) {
    if (healthy_ || !reportedFailure_) {
      std::cerr << "lifeboat-pg-canary: canary writes to " << label_ << " failing: " << message
                << "\n";
    }
    healthy_ = false;
    reportedFailure_ = true;
  }

  void deleteOldCanaries() {
    const std::string seconds =
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options_.keep).count());
    auto deleted = connection_->query(
        "DELETE FROM lifeboat.canary WHERE written_at < now() - make_interval(secs => $1::int)",
        {seconds}, std::chrono::seconds(10));
    if (!deleted) {
      std::cerr << "lifeboat-pg-canary: cannot delete old canaries: " << deleted.error().message
                << "\n";
    }
  }

  Options options_;
  std::string label_;
  CanaryState state_;
  std::optional<Connection> connection_;
  bool healthy_ = false;
  bool reportedFailure_ = false;
  std::string lastOrigin_;
};

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parseOptions(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) {
    return *status;
  }
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a signal cuts a sleep short
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  CanaryWriter writer(std::move(std::get<Options>(parsed)));
  return writer.run();
}
