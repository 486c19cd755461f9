#pragma once
// Small POSIX file helpers shared by the journal and the sequence store
// (private to lifeboat_journal).

#include <filesystem>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::journal::detail {

// "<what> <path>: <strerror(errno)>", with errno read at the call.
Error systemError(std::string_view what, const std::filesystem::path& path, std::string hint = "");

// Makes a directory entry (a created or renamed file) durable by fsyncing the
// directory that holds it. Returns an empty message on success.
std::string fsyncDirectory(const std::filesystem::path& directory);

// Writes all of `bytes` to `fd`, retrying on EINTR and short writes. Returns
// false with errno set on failure.
bool writeAll(int fd, std::string_view bytes);

// The whole file, or an Error naming it.
Result<std::string> readWholeFile(const std::filesystem::path& path);

}  // namespace lifeboat::journal::detail
