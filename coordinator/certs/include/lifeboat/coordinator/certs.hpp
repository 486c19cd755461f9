#pragma once
// `lifeboat-coordinator certs init DIR [--agent NAME]... [--host NAME]...`:
// a development CA and the coordinator's and agents' certificates
// (docs/coordinator.md, "Certificates for a dev set-up").

#include <ostream>
#include <span>
#include <string>

namespace lifeboat::coordinator {

// Runs `certs` with `args`, the words after "certs" ({"init", DIR, ...}).
// Writes into DIR (created with mode 0700 when missing): ca.pem + ca-key.pem,
// coordinator.pem + coordinator-key.pem (SANs localhost, 127.0.0.1, ::1 and
// every --host), agent-NAME.pem + agent-NAME-key.pem per --agent (common
// name NAME). Keys are mode 0600, certificates 0644. Files already there are
// kept (an existing CA signs what is added); a certificate without its key,
// or the reverse, is an error. Reports each file written or kept on `out`,
// problems on `err`. Returns the exit code: 0 done, 1 failure (unreadable
// or unwritable files, a broken CA), 2 usage (unknown option, missing DIR,
// an agent name other than 1-64 letters, digits, '.', '-', '_', a --host
// that is neither a host name nor an IP address).
int runCertsCommand(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace lifeboat::coordinator
