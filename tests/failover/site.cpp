#include "site.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::failover_test {

namespace fs = std::filesystem;
using test_servers::BindServer;
using test_servers::HaproxyConfig;
using test_servers::HaproxyServer;
using test_servers::PostgresServer;

namespace {

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string postgresDsn(const std::string& address, int port) {
  return "host=" + address + " port=" + std::to_string(port) + " user=postgres dbname=postgres";
}

}  // namespace

Site::Site(bool withDrillReplica, const std::string& checkInterval) {
  // User postgres must reach the node directories below this one.
  ::chmod(directory().c_str(), 0755);
  primary_ = PostgresServer::primary(directory() / "primary", "127.0.0.1");
  if (!primary_) {
    return;
  }
  standby_ = PostgresServer::standbyOf(*primary_, directory() / "standby", "127.0.0.2", "standby1");
  if (!standby_) {
    return;
  }
  if (withDrillReplica) {
    drillReplica_ =
        PostgresServer::standbyOf(*primary_, directory() / "replica", "127.0.0.3", "drill1");
    if (!drillReplica_) {
      return;
    }
  }
  // Drill copies land here, as user postgres (who runs pg_basebackup).
  fs::create_directories(drillParentDirectory());
  test_support::runProcess({"chown", "postgres:postgres", drillParentDirectory()});
  drillPort_ = test_support::freePorts(1, {"127.0.0.1"});

  HaproxyConfig config;
  config.backends.push_back(
      {.name = "orders_db",
       .servers = {
           {.name = "primary", .address = "127.0.0.1", .port = primary_->port()},
           {.name = "standby", .address = "127.0.0.2", .port = standby_->port(), .ready = false}}});
  config.backends.push_back(
      {.name = "orders_db_drill",
       .servers = {{.name = "copy", .address = "127.0.0.1", .port = 1, .ready = false}}});
  fs::create_directories(directory() / "haproxy");
  fs::create_directories(directory() / "dns");
  haproxy_ = std::make_unique<HaproxyServer>(directory() / "haproxy", config);
  if (!haproxy_->running()) {
    return;
  }
  dns_ = std::make_unique<BindServer>(
      directory() / "dns", "db.example.test",
      std::vector<test_servers::DnsRecord>{{.name = "orders", .value = "127.0.0.1"}});
  if (!dns_->running()) {
    return;
  }
  writeFailoverRunbook(checkInterval);
  ready_ = true;
}

Site::~Site() {
  stopCanaryWriter();
}

std::string Site::serviceDsn() const {
  return postgresDsn("127.0.0.1", haproxy_->frontendPort("orders_db"));
}

std::string Site::drillParentDirectory() const {
  return (directory() / "drills").string();
}

std::vector<std::pair<std::string, std::string>> Site::agentEnvironment() const {
  return {{"LIFEBOAT_DNS_KEY", dns_->keySecret()}};
}

std::map<std::string, std::string> Site::commonVariables() const {
  return {
      {"primary_dsn", primary_->dsn()},
      {"primary_data_dir", primary_->dataDir().string()},
      {"standby_dsn", standby_->dsn()},
      {"service_dsn", serviceDsn()},
      {"haproxy_socket", haproxy_->socketPath().string()},
      {"haproxy_backend", "orders_db"},
      {"dns_server", "127.0.0.1"},
      {"dns_port", std::to_string(dns_->port())},
      {"dns_zone", dns_->zone()},
      {"dns_key_name", dns_->keyName()},
      {"canary_state", canaryState().string()},
  };
}

std::map<std::string, std::string> Site::failoverVariables() const {
  std::map<std::string, std::string> values = commonVariables();
  values["drill_source_dsn"] = drillReplica_ ? drillReplica_->dsn() : postgresDsn("127.0.0.3", 1);
  values["drill_parent_dir"] = drillParentDirectory();
  values["drill_port"] = std::to_string(drillPort_);
  values["drill_service_dsn"] = postgresDsn("127.0.0.1", haproxy_->frontendPort("orders_db_drill"));
  return values;
}

std::map<std::string, std::string> Site::failbackVariables() const {
  std::map<std::string, std::string> values = commonVariables();
  values["standby_data_dir"] = standby_->dataDir().string();
  return values;
}

std::filesystem::path Site::failbackRunbook() const {
  return test_support::sourceDir() / "runbooks" / "postgres-failback.toml";
}

std::vector<std::string> varArguments(const std::map<std::string, std::string>& variables) {
  std::vector<std::string> arguments;
  for (const auto& [name, value] : variables) {
    arguments.push_back("--var");
    arguments.push_back(name + "=" + value);
  }
  return arguments;
}

void Site::writeFailoverRunbook(const std::string& checkInterval) const {
  std::string text =
      test_support::readText(test_support::sourceDir() / "runbooks" / "postgres-failover.toml");
  const std::string checks = "interval = \"1s\"\ntimeout = \"1s\"";
  const std::size_t at = text.find(checks);
  if (at == std::string::npos) {
    ADD_FAILURE() << "postgres-failover.toml's trigger no longer checks every 1s";
  } else {
    text.replace(at, checks.size(),
                 "interval = \"" + checkInterval + "\"\ntimeout = \"" + checkInterval + "\"");
  }
  writeText(failoverRunbook(), text);
}

void Site::startCanaryWriter() {
  const fs::path log = directory() / "canary.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  canary_ = test_support::startBackground(
      {(test_support::binaryDir() / "bin" / "lifeboat-pg-canary").string(), "--dsn", serviceDsn(),
       "--state", canaryState().string(), "--interval", std::to_string(kCanaryIntervalMs) + "ms",
       "--writer", "failover-test"},
      {test_support::kDevNull, fd, fd});
  ::close(fd);
  if (canary_ <= 0) {
    ADD_FAILURE() << "cannot start lifeboat-pg-canary: " << -canary_;
  }
}

void Site::stopCanaryWriter() {
  if (canary_ > 0) {
    ::kill(canary_, SIGTERM);
    int status = 0;
    ::waitpid(canary_, &status, 0);
    canary_ = -1;
  }
}

std::string Site::canaryLog() const {
  return test_support::readText(directory() / "canary.log");
}

}  // namespace lifeboat::failover_test
