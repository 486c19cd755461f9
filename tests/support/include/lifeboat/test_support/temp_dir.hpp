#pragma once
// A fresh directory under the system's temp dir, removed with everything in
// it when the TempDir is destroyed.

#include <filesystem>
#include <string>
#include <string_view>

namespace lifeboat::test_support {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` (parent directories created) and returns its path.
  std::filesystem::path write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace lifeboat::test_support
