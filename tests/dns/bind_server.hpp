#pragma once
// A real BIND9 name server (Debian's /usr/sbin/named, 9.18) in the foreground
// (-g), for integration tests: primary for one zone, listening on 127.0.0.1
// only (UDP and TCP, a port chosen free by test_support::freePorts; started
// again on another port if it could not bind), no IPv6, no rndc control
// channel, no recursion. A TSIG key generated per fixture (32 random bytes,
// hmac-sha256) may update the zone (allow-update), which is what the `dns`
// plugin needs. Every file (named.conf, the zone file, its journal, the
// pid and session key files, the log) lives in a directory the caller owns.
//
//   BindServer dns(dir, "example.test", {{.name = "db", .value = "127.0.0.10"}});
//   target: server 127.0.0.1, port dns.port(), zone dns.zone(),
//           key_name dns.keyName(), key_secret dns.keySecret()
//   dns.query("db", "A") == std::vector<std::string>{"127.0.0.10"}
//
// Not thread-safe; one object owns one named process, stopped (and reaped)
// by the destructor.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace lifeboat::test_servers {

// One record of the zone file. `name` is relative to the zone ("@" for the
// zone itself); `value` is written as is (TXT values get their quotes here).
struct DnsRecord {
  std::string name;
  std::string type = "A";
  std::string value;
  int ttl = 30;
};

class BindServer {
 public:
  // Writes named.conf and the zone file (SOA, NS ns.<zone>, ns A 127.0.0.1,
  // then `records`), starts named and waits (up to 15 s) until it answers
  // the zone's SOA. On failure the current test has failed (ADD_FAILURE,
  // naming the missing binary or quoting named's log) and running() is false.
  BindServer(const std::filesystem::path& directory, std::string zone,
             std::vector<DnsRecord> records);
  ~BindServer();  // stop()
  BindServer(const BindServer&) = delete;
  BindServer& operator=(const BindServer&) = delete;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& zone() const { return zone_; }  // without a final dot
  const std::string& keyName() const { return keyName_; }
  const std::string& keySecret() const { return keySecret_; }  // base64
  const std::string& keyAlgorithm() const { return keyAlgorithm_; }
  // The record data named answers (dig +short, no recursion) for `name`
  // (relative to the zone, "@", or fully qualified with a final dot) and
  // `type`, sorted; TXT strings keep dig's quotes.
  std::vector<std::string> query(const std::string& name, const std::string& type) const;
  // SIGTERM, then SIGKILL after 3 s; reaps the process.
  void stop();

 private:
  bool start(int attempt);

  std::filesystem::path directory_;
  std::string zone_;
  std::vector<DnsRecord> records_;
  std::string keyName_ = "lifeboat-test-key";
  std::string keySecret_;
  std::string keyAlgorithm_ = "hmac-sha256";
  std::filesystem::path log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace lifeboat::test_servers
