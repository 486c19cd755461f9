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

bool canBind(const std::string& address, int port, int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in socketAddress{};
  socketAddress.sin_family = AF_INET;
  socketAddress.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &socketAddress.sin_addr) != 1) {
    ::close(fd);
    throw std::invalid_argument("not an IPv4 address: " + address);
  }
  const bool bound =
      ::bind(fd, reinterpret_cast<sockaddr*>(&socketAddress), sizeof(socketAddress)) == 0;
  ::close(fd);
  return bound;
}

}  // namespace

bool portFree(const std::string& address, int port, bool udp) {
  return canBind(address, port, SOCK_STREAM) && (!udp || canBind(address, port, SOCK_DGRAM));
}

bool acceptsConnections(const std::string& address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in socketAddress{};
  socketAddress.sin_family = AF_INET;
  socketAddress.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &socketAddress.sin_addr) != 1) {
    ::close(fd);
    throw std::invalid_argument("not an IPv4 address: " + address);
  }
  const bool connected =
      ::connect(fd, reinterpret_cast<sockaddr*>(&socketAddress), sizeof(socketAddress)) == 0;
  ::close(fd);
  return connected;
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
