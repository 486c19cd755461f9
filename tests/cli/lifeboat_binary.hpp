#pragma once
// Runs the built `lifeboat` binary for integration tests.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lifeboat/process/runner.hpp"

namespace lifeboat::testing {

std::filesystem::path sourceDir();
std::filesystem::path binaryDir();

struct Invocation {
  int exitCode = -1;
  int signal = 0;
  std::string out;
  std::string err;
};

Invocation runLifeboat(const std::vector<std::string>& arguments,
                       const std::filesystem::path& workingDirectory = {},
                       std::vector<std::pair<std::string, std::string>> environment = {});

// A fresh directory under the system's temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace lifeboat::testing
