#include "lifeboat/test_support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <stdexcept>

namespace lifeboat::test_support {
namespace {

sockaddr_in ipv4(const std::string& address, int port) {
  sockaddr_in socketAddress{};
  socketAddress.sin_family = AF_INET;
  socketAddress.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &socketAddress.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + address);
  }
  return socketAddress;
}

// bind(2) or connect(2) a fresh socket of `type` to address:port; whether it
// worked.
template <class Call>
bool tryOn(const std::string& address, int port, int type, Call call) {
  const sockaddr_in socketAddress = ipv4(address, port);
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const bool worked =
      call(fd, reinterpret_cast<const sockaddr*>(&socketAddress), sizeof(socketAddress)) == 0;
  ::close(fd);
  return worked;
}

bool canBind(const std::string& address, int port, int type) {
  return tryOn(address, port, type, ::bind);
}

}  // namespace

bool portFree(const std::string& address, int port, bool udp) {
  return canBind(address, port, SOCK_STREAM) && (!udp || canBind(address, port, SOCK_DGRAM));
}

bool acceptsConnections(const std::string& address, int port) {
  return tryOn(address, port, SOCK_STREAM, ::connect);
}

int freePorts(int count, const std::vector<std::string>& addresses, bool udp) {
  static std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20'000, 32'000 - count);
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    const int first = pick(random);
    bool free = true;
    for (int port = first; free && port < first + count; ++port) {
      for (const std::string& address : addresses) {
        if (!portFree(address, port, udp)) {
          free = false;
          break;
        }
      }
    }
    if (free) {
      return first;
    }
  }
  throw std::runtime_error("no free run of " + std::to_string(count) + " loopback ports");
}

}  // namespace lifeboat::test_support
