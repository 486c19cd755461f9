#include "lifeboat/common/host.hpp"

#include <unistd.h>

#include <array>

namespace lifeboat {

std::string hostName() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') {
    return "unknown-host";
  }
  return name.data();
}

}  // namespace lifeboat
