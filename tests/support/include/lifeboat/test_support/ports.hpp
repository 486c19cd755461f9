#pragma once
// Free TCP ports for servers that tests start on loopback. Servers that
// cannot bind port 0 and report it back (PostgreSQL, HAProxy, BIND9) get a
// port chosen here: below the kernel's outgoing range (32768-60999), so an
// outgoing connection of someone else cannot take it meanwhile, and free on
// every address asked for at the time of the call. A server that then fails
// to bind (another test won the race) should be started again on new ports.

#include <string>
#include <vector>

namespace lifeboat::test_support {

// Whether `port` can be bound on IPv4 `address` ("127.0.0.1") right now, for
// TCP and, when `udp`, for UDP too.
bool portFree(const std::string& address, int port, bool udp = false);

// Whether something listens on IPv4 `address`:`port`: a TCP connection is
// accepted. Use this, not portFree(), to check that a server has gone: the
// connections it closed leave TIME_WAIT entries that keep the port from
// being bound (without SO_REUSEADDR) for a while after it stopped.
bool acceptsConnections(const std::string& address, int port);

// `count` consecutive ports in [20000, 32000) free on every one of
// `addresses` (TCP, and UDP when `udp`); the first of them is returned.
int freePorts(int count, const std::vector<std::string>& addresses = {"127.0.0.1"},
              bool udp = false);

}  // namespace lifeboat::test_support
