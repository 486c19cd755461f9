#include "postgres_server.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::test_servers {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string tool(const std::string& name) {
  return std::string(PostgresServer::kBinDir) + "/" + name;
}

// Runs a PostgreSQL program as user postgres, from "/" (our working
// directory may be closed to that user).
test_support::ProcessResult runAsPostgres(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return test_support::runProcess(argv, {}, "/");
}

bool giveToPostgres(const fs::path& path) {
  const passwd* user = ::getpwnam("postgres");
  if (user == nullptr) {
    ADD_FAILURE() << "there is no OS user postgres (apt-get install postgresql-15)";
    return false;
  }
  if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    ADD_FAILURE() << "cannot chown " << path << " to postgres: " << std::strerror(errno);
    return false;
  }
  return true;
}

bool binariesPresent() {
  for (const char* name : {"initdb", "pg_ctl", "pg_basebackup", "psql", "postgres"}) {
    if (::access(tool(name).c_str(), X_OK) != 0) {
      ADD_FAILURE() << tool(name) << " is missing: install postgresql-15 "
                    << "(scripts/install-deps.sh)";
      return false;
    }
  }
  return true;
}

// Creates `dir` for user postgres and lets that user traverse its parent.
bool prepareNodeDirectory(const fs::path& dir) {
  std::error_code code;
  fs::create_directories(dir, code);
  if (code) {
    ADD_FAILURE() << "cannot create " << dir << ": " << code.message();
    return false;
  }
  fs::permissions(dir.parent_path(), fs::perms::others_exec, fs::perm_options::add, code);
  return giveToPostgres(dir);
}

bool portRefuses(const std::string& address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in socketAddress{};
  socketAddress.sin_family = AF_INET;
  socketAddress.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &socketAddress.sin_addr);
  const bool connected =
      ::connect(fd, reinterpret_cast<sockaddr*>(&socketAddress), sizeof(socketAddress)) == 0;
  ::close(fd);
  return !connected;
}

}  // namespace

bool processRuns(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  const std::size_t afterName = text.rfind(')');
  return afterName == std::string::npos || afterName + 2 >= text.size() ||
         text[afterName + 2] != 'Z';
}

namespace {

// Children of `parent`, from /proc/*/stat.
std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    const std::size_t afterName = text.rfind(')');
    if (afterName == std::string::npos) {
      continue;
    }
    std::istringstream fields(text.substr(afterName + 2));
    char state = 0;
    pid_t parentPid = 0;
    fields >> state >> parentPid;
    if (parentPid == parent) {
      children.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return children;
}

}  // namespace

PostgresServer::PostgresServer(fs::path dir, std::string address)
    : dir_(std::move(dir)),
      dataDir_(dir_ / "data"),
      logFile_(dir_ / "server.log"),
      address_(std::move(address)) {}

PostgresServer::~PostgresServer() {
  stop();
}

std::unique_ptr<PostgresServer> PostgresServer::primary(const fs::path& dir,
                                                        const std::string& address) {
  if (!binariesPresent() || !prepareNodeDirectory(dir)) {
    return nullptr;
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer(dir, address));
  // -N: initdb's own files need no fsync in a test; the server keeps fsync on.
  auto initialized = runAsPostgres({tool("initdb"), "-D", server->dataDir_.string(),
                                    "--data-checksums", "-U", "postgres", "-A", "trust", "-N"});
  if (initialized.exitCode != 0) {
    ADD_FAILURE() << "initdb failed: " << initialized.err << initialized.out;
    return nullptr;
  }
  std::ofstream(server->dataDir_ / "pg_hba.conf", std::ios::trunc)
      << "local all all trust\n"
         "local replication all trust\n"
         "host all all 127.0.0.0/8 trust\n"
         "host replication all 127.0.0.0/8 trust\n";
  server->appendSettings(
      "wal_level = replica\n"
      "max_wal_senders = 10\n"
      "wal_keep_size = '256MB'\n"
      "hot_standby = on\n"
      "wal_retrieve_retry_interval = '200ms'\n"
      "wal_receiver_status_interval = '1s'\n"
      "shared_buffers = '32MB'\n"
      "max_connections = 50\n"
      "logging_collector = off\n"
      "cluster_name = 'primary'\n");
  if (!server->startOnFreePort()) {
    return nullptr;
  }
  return server;
}

std::unique_ptr<PostgresServer> PostgresServer::standbyOf(const PostgresServer& primary,
                                                          const fs::path& dir,
                                                          const std::string& address,
                                                          const std::string& slotName) {
  if (!binariesPresent() || !prepareNodeDirectory(dir)) {
    return nullptr;
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer(dir, address));
  auto copied = runAsPostgres({tool("pg_basebackup"), "-h", primary.address(), "-p",
                               std::to_string(primary.port()), "-U", "postgres", "-D",
                               server->dataDir_.string(), "-R", "-X", "stream", "-C", "-S",
                               slotName, "-c", "fast"});
  if (copied.exitCode != 0) {
    ADD_FAILURE() << "pg_basebackup from " << primary.dsn() << " failed: " << copied.err;
    return nullptr;
  }
  server->appendSettings("cluster_name = '" + slotName + "'\n");
  if (!server->startOnFreePort()) {
    return nullptr;
  }
  if (!primary.waitForStreaming(slotName)) {
    ADD_FAILURE() << "standby " << server->dsn() << " does not stream from " << primary.dsn()
                  << "; its log:\n"
                  << test_support::fileTail(server->logFile_);
    return nullptr;
  }
  return server;
}

void PostgresServer::appendSettings(const std::string& settings) const {
  std::ofstream(dataDir_ / "postgresql.conf", std::ios::app) << "\n# test fixture\n" << settings;
}

bool PostgresServer::startOnFreePort() {
  appendSettings("listen_addresses = '" + address_ + "'\nunix_socket_directories = '" +
                 dir_.string() + "'\n");
  for (int attempt = 0; attempt < 4; ++attempt) {
    port_ = test_support::freePorts(1, {address_});
    appendSettings("port = " + std::to_string(port_) + "\n");
    fs::remove(logFile_);
    auto started = runAsPostgres({tool("pg_ctl"), "start", "-D", dataDir_.string(), "-w", "-t",
                                  "30", "-l", logFile_.string()});
    if (started.exitCode == 0) {
      return true;
    }
    const std::string log = test_support::fileTail(logFile_);
    if (log.find("could not bind") == std::string::npos &&
        log.find("could not create any TCP/IP sockets") == std::string::npos) {
      ADD_FAILURE() << "PostgreSQL in " << dataDir_ << " did not start: " << started.err
                    << "\nits log:\n"
                    << log;
      return false;
    }
  }
  ADD_FAILURE() << "PostgreSQL in " << dataDir_ << " found no free port; its log:\n"
                << test_support::fileTail(logFile_);
  return false;
}

std::string PostgresServer::dsn() const {
  return "host=" + address_ + " port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

pid_t PostgresServer::postmasterPid() const {
  std::ifstream in(dataDir_ / "postmaster.pid");
  long pid = 0;
  return in >> pid ? static_cast<pid_t>(pid) : 0;
}

bool PostgresServer::start() {
  // A killed postmaster that is still a zombie makes PostgreSQL take its
  // postmaster.pid for a live server's.
  if (const pid_t old = postmasterPid(); old > 0 && !processRuns(old)) {
    fs::remove(dataDir_ / "postmaster.pid");
  }
  auto started = runAsPostgres({tool("pg_ctl"), "start", "-D", dataDir_.string(), "-w", "-t", "30",
                                "-l", logFile_.string()});
  if (started.exitCode != 0) {
    ADD_FAILURE() << "PostgreSQL in " << dataDir_ << " did not start: " << started.err
                  << "\nits log:\n"
                  << test_support::fileTail(logFile_);
    return false;
  }
  return true;
}

void PostgresServer::stop() {
  const pid_t pid = postmasterPid();
  if (pid <= 0 || !processRuns(pid)) {
    return;
  }
  auto stopped = runAsPostgres(
      {tool("pg_ctl"), "stop", "-D", dataDir_.string(), "-m", "immediate", "-w", "-t", "20"});
  if (stopped.exitCode != 0) {
    kill9();
  }
}

void PostgresServer::kill9() {
  const pid_t postmaster = postmasterPid();
  if (postmaster <= 0 || !processRuns(postmaster)) {
    return;
  }
  // Freeze the postmaster first so that it starts no new child while its
  // children are collected, then kill them all in one sweep.
  ::kill(postmaster, SIGSTOP);
  std::vector<pid_t> victims = childrenOf(postmaster);
  victims.push_back(postmaster);
  for (pid_t pid : victims) {
    ::kill(pid, SIGKILL);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (pid_t pid : victims) {
    while (processRuns(pid) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  while (!portRefuses(address_, port_) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(portRefuses(address_, port_)) << dsn() << " still answers after kill9";
}

std::vector<std::string> PostgresServer::query(const std::string& sql) const {
  auto result = test_support::runProcess({tool("psql"), "-XAt", "-v", "ON_ERROR_STOP=1", "-h",
                                          address_, "-p", std::to_string(port_), "-U", "postgres",
                                          "-d", "postgres", "-c", sql});
  if (result.exitCode != 0) {
    ADD_FAILURE() << "psql on " << dsn() << " failed for `" << sql << "`: " << result.err;
    return {};
  }
  return result.lines();
}

std::string PostgresServer::queryValue(const std::string& sql) const {
  const auto rows = query(sql);
  return rows.empty() ? std::string() : rows.front();
}

bool PostgresServer::waitFor(const std::string& sql, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (queryValue(sql) == "t") {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool PostgresServer::waitForStreaming(const std::string& applicationName,
                                      std::chrono::milliseconds timeout) const {
  return waitFor("SELECT count(*) > 0 FROM pg_stat_replication WHERE application_name = '" +
                     applicationName + "' AND state = 'streaming'",
                 timeout);
}

pid_t PostgresServer::walSenderPid(const std::string& applicationName) const {
  const std::string pid = queryValue(
      "SELECT pid FROM pg_stat_replication WHERE application_name = '" + applicationName + "'");
  return pid.empty() ? 0 : static_cast<pid_t>(std::stol(pid));
}

}  // namespace lifeboat::test_servers
