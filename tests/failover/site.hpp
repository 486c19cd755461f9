#pragma once
// A whole site for the failover tests, on loopback, from Debian's packages:
// a PostgreSQL 15 primary (127.0.0.1) with a streaming standby (127.0.0.2)
// and, for drills, a drill replica (127.0.0.3); HAProxy in front (backend
// orders_db: primary ready, standby in maintenance; backend orders_db_drill
// with one server "copy" in maintenance); BIND9 serving db.example.test with
// orders -> 127.0.0.1 and a TSIG key for updates; the canary writer writing
// through HAProxy every 100 ms. The runbooks are the shipped ones; their
// [vars] point at this site through the agent config's [vars] or --var.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bind_server.hpp"
#include "haproxy_server.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "postgres_server.hpp"

namespace lifeboat::failover_test {

inline constexpr int kCanaryIntervalMs = 100;

class Site {
 public:
  // Builds the site; on failure the current test has failed and ready() is
  // false. `checkInterval` replaces the runbook trigger's interval.
  explicit Site(bool withDrillReplica, const std::string& checkInterval = "200ms");
  ~Site();
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  bool ready() const { return ready_; }
  const std::filesystem::path& directory() const { return temp_.path(); }

  test_servers::PostgresServer& primary() { return *primary_; }
  test_servers::PostgresServer& standby() { return *standby_; }
  test_servers::HaproxyServer& haproxy() { return *haproxy_; }
  test_servers::BindServer& dns() { return *dns_; }

  // Through HAProxy's production frontend.
  std::string serviceDsn() const;
  std::string drillParentDirectory() const;
  int drillPort() const { return drillPort_; }
  std::filesystem::path canaryState() const { return directory() / "canary.json"; }
  // runbooks/postgres-failover.toml with the trigger's interval (and only
  // that) changed, and runbooks/postgres-failback.toml as shipped.
  std::filesystem::path failoverRunbook() const { return directory() / "postgres-failover.toml"; }
  std::filesystem::path failbackRunbook() const;
  // Their [vars] for this site.
  std::map<std::string, std::string> failoverVariables() const;
  std::map<std::string, std::string> failbackVariables() const;
  // The agent's environment: the DNS key the runbooks read.
  std::vector<std::pair<std::string, std::string>> agentEnvironment() const;

  // The canary writer (build/bin/lifeboat-pg-canary) through HAProxy.
  void startCanaryWriter();
  void stopCanaryWriter();
  // The writer's log (stderr), for messages.
  std::string canaryLog() const;

 private:
  std::map<std::string, std::string> commonVariables() const;
  void writeFailoverRunbook(const std::string& checkInterval) const;

  test_support::TempDir temp_;
  std::unique_ptr<test_servers::PostgresServer> primary_;
  std::unique_ptr<test_servers::PostgresServer> standby_;
  std::unique_ptr<test_servers::PostgresServer> drillReplica_;
  std::unique_ptr<test_servers::HaproxyServer> haproxy_;
  std::unique_ptr<test_servers::BindServer> dns_;
  int drillPort_ = 0;
  pid_t canary_ = -1;
  bool ready_ = false;
};

// `--var NAME=VALUE` for each of `variables`.
std::vector<std::string> varArguments(const std::map<std::string, std::string>& variables);

}  // namespace lifeboat::failover_test
