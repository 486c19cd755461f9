#pragma once

#include <string>
#include <string_view>

namespace lifeboat {

// Lower-case hex SHA-256 of `data` (OpenSSL EVP).
std::string sha256Hex(std::string_view data);

}  // namespace lifeboat
