#pragma once
// The two programs the `dns` plugin drives, both started through the
// project's process runner (argv, no shell): `dig` to read what the primary
// name server answers, `nsupdate` to send one signed RFC 2136 update. The
// TSIG secret travels only on nsupdate's stdin, never in argv.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/process/runner.hpp"

namespace lifeboat::dns_plugin {

// The target: a primary name server, its zone and the TSIG key that may
// update it. Every field was validated (names.hpp) before it gets here.
struct NameServer {
  std::string address;
  int port = 53;
  std::string zone;  // canonical: lower case, no final dot
  std::string keyName;
  std::string keySecret;
  std::string keyAlgorithm = "hmac-sha256";
  std::string nsupdatePath = "/usr/bin/nsupdate";
  std::string digPath = "/usr/bin/dig";
  std::chrono::milliseconds timeout{5000};

  std::string where() const;  // "127.0.0.1 port 5353"
};

// The record data the server holds for `fqdn` (no final dot) and `type`,
// asked without recursion straight from the server: addresses as dig prints
// them, CNAME targets in lower case without the final dot, TXT strings
// without their quotes. Empty for NXDOMAIN or no such RRset; an Error when
// the server cannot be reached or answers with another status (REFUSED,
// SERVFAIL, ...).
Result<std::vector<std::string>> queryRecords(const NameServer& server, process::Runner& runner,
                                              const std::string& fqdn, const std::string& type);

// Sends `updates` ("update delete ..." / "update add ..." lines, built from
// validated values) as one signed update message: the server applies all of
// them or none. An Error quotes nsupdate's complaint (the secret removed) and
// hints at the likely cause: wrong key, updates not allowed, unreachable.
std::optional<Error> sendUpdate(const NameServer& server, process::Runner& runner,
                                const std::vector<std::string>& updates, const std::string& what);

}  // namespace lifeboat::dns_plugin
