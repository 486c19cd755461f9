#pragma once
// A fresh temporary directory per test (dir_), removed afterwards.

#include <gtest/gtest.h>

#include <filesystem>

#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::journal {

class TempDirTest : public ::testing::Test {
 protected:
  test_support::TempDir temp_;
  std::filesystem::path dir_ = temp_.path();
};

}  // namespace lifeboat::journal
