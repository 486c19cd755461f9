#include "lifeboat_binary.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>

namespace lifeboat::testing {

std::filesystem::path sourceDir() {
  const char* value = std::getenv("LIFEBOAT_SOURCE_DIR");
  return value != nullptr ? value : LIFEBOAT_TEST_SOURCE_DIR;
}

std::filesystem::path binaryDir() {
  const char* value = std::getenv("LIFEBOAT_BINARY_DIR");
  return value != nullptr ? value : LIFEBOAT_TEST_BINARY_DIR;
}

Invocation runLifeboat(const std::vector<std::string>& arguments,
                       const std::filesystem::path& workingDirectory,
                       std::vector<std::pair<std::string, std::string>> environment) {
  process::Command command;
  command.argv.push_back((binaryDir() / "bin" / "lifeboat").string());
  command.argv.insert(command.argv.end(), arguments.begin(), arguments.end());
  command.workingDirectory = workingDirectory.string();
  command.environment = std::move(environment);
  command.timeout = std::chrono::seconds(60);
  command.maxCapturedBytes = 8 * 1024 * 1024;
  process::PosixRunner runner;
  Result<process::Outcome> outcome = runner.run(command);
  EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
  if (!outcome) {
    return {};
  }
  EXPECT_FALSE(outcome->timedOut) << "lifeboat timed out";
  return Invocation{outcome->exitCode, outcome->signal, outcome->standardOutput,
                    outcome->standardError};
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lifeboat-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write(const std::string& name, std::string_view content) const {
  std::filesystem::path file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return file;
}

}  // namespace lifeboat::testing
