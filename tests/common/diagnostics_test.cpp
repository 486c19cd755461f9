#include "lifeboat/common/diagnostics.hpp"

#include <gtest/gtest.h>

namespace lifeboat {
namespace {

TEST(Diagnostics, FormatsCompilerStyleWithHint) {
  const Diagnostic diagnostic{
      Severity::error, {12, 3}, "unknown key 'timout'", "did you mean 'timeout'?"};
  EXPECT_EQ(formatDiagnostic("rb.toml", diagnostic),
            "rb.toml:12:3: error: unknown key 'timout'\n"
            "rb.toml:12:3: hint: did you mean 'timeout'?");
}

TEST(Diagnostics, FormatsWarningsAndWholeFileLocations) {
  EXPECT_EQ(formatDiagnostic("rb.toml", {Severity::warning, {2, 1}, "careful", ""}),
            "rb.toml:2:1: warning: careful");
  EXPECT_EQ(formatDiagnostic("rb.toml", {Severity::error, {}, "too big", ""}),
            "rb.toml: error: too big");
}

TEST(Diagnostics, SinkCountsAndSortsBySourceOrder) {
  DiagnosticSink sink;
  sink.error({9, 1}, "late");
  sink.warning({2, 5}, "early warning");
  sink.error({2, 1}, "early");
  EXPECT_TRUE(sink.hasErrors());
  EXPECT_EQ(sink.errorCount(), 2U);
  EXPECT_EQ(sink.warningCount(), 1U);
  const std::vector<Diagnostic> sorted = sink.sorted();
  ASSERT_EQ(sorted.size(), 3U);
  EXPECT_EQ(sorted[0].message, "early");
  EXPECT_EQ(sorted[1].message, "early warning");
  EXPECT_EQ(sorted[2].message, "late");
}

}  // namespace
}  // namespace lifeboat
