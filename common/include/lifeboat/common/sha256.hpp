#pragma once

#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat {

// Lower-case hex SHA-256 of `data` (OpenSSL EVP). Fails only when OpenSSL
// does (out of memory, a broken installation).
Result<std::string> sha256Hex(std::string_view data);

}  // namespace lifeboat
