#include "lifeboat/test_support/files.hpp"

#include <fstream>
#include <sstream>

namespace lifeboat::test_support {

std::string readText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string fileTail(const std::filesystem::path& file, std::size_t maxBytes) {
  const std::string all = readText(file);
  return all.size() > maxBytes ? all.substr(all.size() - maxBytes) : all;
}

}  // namespace lifeboat::test_support
