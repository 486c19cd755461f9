#pragma once
// A real PostgreSQL 15 server for tests (Debian's postgresql-15 package),
// on a loopback address and a free port below 32768, run as the OS user
// `postgres` (PostgreSQL refuses root) through runuser.
//
//   TempDir temp;
//   auto primary = PostgresServer::primary(temp.path() / "a");
//   auto standby = PostgresServer::standbyOf(*primary, temp.path() / "b");
//   primary->query("SELECT 1");
//
// Layout of a node directory `dir` (created, owned by postgres): dir/data is
// the data directory, the unix socket lives in dir, the server's log is
// dir/server.log. Every per-node setting (port, listen_addresses, socket
// directory, cluster_name) is in dir/data/postgresql.conf, like a real
// installation whose config lives in the data directory.
//
// Clusters: initdb --data-checksums (so pg_rewind works), user postgres,
// trust authentication for local sockets and 127.0.0.0/8 (replication
// included), wal_level=replica, max_wal_senders=10, wal_keep_size=256MB,
// hot_standby=on, wal_retrieve_retry_interval=200ms,
// wal_receiver_status_interval=1s, shared_buffers=32MB, max_connections=50.
// fsync and synchronous_commit keep their defaults: tests measure real data
// loss. The primary's cluster_name is "primary"; a standby's is its slot
// name, so it shows as that application_name in pg_stat_replication.
//
// Failures (missing binaries, a server that does not start) fail the current
// test with the reason and the log's tail; the factories then return null.
// Not thread-safe; one test thread drives a server.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lifeboat::test_servers {

// Whether process `pid` exists and is not a zombie (killed servers may stay
// zombies for a while when PID 1 is slow to reap them).
bool processRuns(pid_t pid);

class PostgresServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  // initdb + start a primary listening on `address`. Its directory's parent
  // is made traversable (o+x) so that user postgres reaches it.
  static std::unique_ptr<PostgresServer> primary(const std::filesystem::path& dir,
                                                 const std::string& address = "127.0.0.1");
  // pg_basebackup -R -X stream -C -S slotName from `primary`, start, and wait
  // (up to 20 s) until the primary shows it streaming.
  static std::unique_ptr<PostgresServer> standbyOf(const PostgresServer& primary,
                                                   const std::filesystem::path& dir,
                                                   const std::string& address = "127.0.0.2",
                                                   const std::string& slotName = "standby1");

  ~PostgresServer();  // stop()
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  const std::string& address() const { return address_; }
  const std::filesystem::path& dataDir() const { return dataDir_; }
  const std::filesystem::path& logFile() const { return logFile_; }
  // "host=ADDRESS port=PORT user=postgres dbname=postgres"
  std::string dsn() const;
  // From data/postmaster.pid; 0 when there is none.
  pid_t postmasterPid() const;

  // pg_ctl start -w (false, with a test failure, when it does not start).
  bool start();
  // pg_ctl stop -m immediate, when running. Leaves nothing running.
  void stop();
  // SIGKILL the postmaster and all its children at once (a crash, a pulled
  // plug), then wait until the port refuses connections.
  void kill9();

  // The walsender serving `applicationName` (pg_stat_replication on this
  // server), 0 when there is none. For SIGSTOP/SIGCONT in tests.
  pid_t walSenderPid(const std::string& applicationName) const;
  // Runs `sql` with psql -XAt; one string per row, columns separated by '|'.
  // A failing statement fails the test and returns no rows.
  std::vector<std::string> query(const std::string& sql) const;
  // The first row of query(sql), "" when none.
  std::string queryValue(const std::string& sql) const;
  // Polls `sql` until it returns "t" or `timeout` passes.
  bool waitFor(const std::string& sql,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Whether the primary shows `applicationName` streaming.
  bool waitForStreaming(const std::string& applicationName,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

 private:
  PostgresServer(std::filesystem::path dir, std::string address);
  bool startOnFreePort();
  void appendSettings(const std::string& settings) const;

  std::filesystem::path dir_;
  std::filesystem::path dataDir_;
  std::filesystem::path logFile_;
  std::string address_;
  int port_ = 0;
};

}  // namespace lifeboat::test_servers
