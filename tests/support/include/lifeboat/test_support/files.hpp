#pragma once
// Reading what servers and agents left in files, for assertions and
// failure messages.

#include <cstddef>
#include <filesystem>
#include <string>

namespace lifeboat::test_support {

// The whole file; "" when it cannot be read.
std::string readText(const std::filesystem::path& file);
// Its last `maxBytes` bytes (a server's log for a failure message).
std::string fileTail(const std::filesystem::path& file, std::size_t maxBytes = 3000);

}  // namespace lifeboat::test_support
