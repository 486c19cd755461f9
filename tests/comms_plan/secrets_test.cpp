#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "lifeboat/comms/plan.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::comms {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Sets an environment variable for one test and removes it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

std::string fullText(const Error& error) {
  return error.message + "\n" + error.hint;
}

TEST(ResolveSecretTest, EnvironmentVariable) {
  ScopedEnv env("LIFEBOAT_COMMS_TEST_KEY", "s3cr3t-value-4711");
  Result<std::string> value = resolveSecret("${secret:env:LIFEBOAT_COMMS_TEST_KEY}");
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(*value, "s3cr3t-value-4711");
}

TEST(ResolveSecretTest, UnsetOrEmptyVariableNamesTheReference) {
  ::unsetenv("LIFEBOAT_COMMS_TEST_UNSET");
  Result<std::string> unset = resolveSecret("${secret:env:LIFEBOAT_COMMS_TEST_UNSET}");
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().message, "secret env:LIFEBOAT_COMMS_TEST_UNSET is not set");

  ScopedEnv env("LIFEBOAT_COMMS_TEST_EMPTY", "");
  Result<std::string> empty = resolveSecret("${secret:env:LIFEBOAT_COMMS_TEST_EMPTY}");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "secret env:LIFEBOAT_COMMS_TEST_EMPTY is empty");
}

TEST(ResolveSecretTest, FileWithoutItsTrailingNewline) {
  test_support::TempDir temp;
  const auto unix = temp.write("key", "file-secret-0815\n");
  const auto dos = temp.write("dos", "dos-secret\r\n");
  const auto two = temp.write("two", "two-lines\n\n");
  Result<std::string> value = resolveSecret("${secret:file:" + unix.string() + "}");
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(*value, "file-secret-0815");
  EXPECT_EQ(*resolveSecret("${secret:file:" + dos.string() + "}"), "dos-secret");
  EXPECT_EQ(*resolveSecret("${secret:file:" + two.string() + "}"), "two-lines\n");
}

TEST(ResolveSecretTest, FileErrorsNameThePathOnly) {
  test_support::TempDir temp;
  const std::string missing = (temp.path() / "missing").string();
  Result<std::string> absent = resolveSecret("${secret:file:" + missing + "}");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().message, "secret file:" + missing + ": No such file or directory");

  Result<std::string> directory = resolveSecret("${secret:file:" + temp.path().string() + "}");
  ASSERT_FALSE(directory);
  EXPECT_THAT(directory.error().message, HasSubstr("is a directory, not a regular file"));

  const auto empty = temp.write("empty", "\n");
  Result<std::string> blank = resolveSecret("${secret:file:" + empty.string() + "}");
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.error().message, "secret file:" + empty.string() + " is empty");

  const std::string big(70 * 1024, 'k');
  const auto large = temp.write("large", "marker-in-large-file" + big);
  Result<std::string> tooLarge = resolveSecret("${secret:file:" + large.string() + "}");
  ASSERT_FALSE(tooLarge);
  EXPECT_THAT(tooLarge.error().message, HasSubstr("larger than 65536 bytes"));
  EXPECT_THAT(fullText(tooLarge.error()), Not(HasSubstr("marker-in-large-file")));
}

TEST(ResolveSecretTest, LiteralsAreReturnedAsWritten) {
  EXPECT_EQ(*resolveSecret("https://127.0.0.1:8443/hook"), "https://127.0.0.1:8443/hook");
  EXPECT_EQ(*resolveSecret(""), "");
}

TEST(ResolveSecretTest, AMalformedReferenceIsNeverQuoted) {
  for (const std::string value :
       {"hunter2-${secret:env:KEY}", "${secret:env:KEY}hunter2", "${secret:env:hunter2-x}",
        "${secret:file:hunter2/relative}", "${secret:vault:hunter2}", "hunter2${"}) {
    Result<std::string> resolved = resolveSecret(value);
    ASSERT_FALSE(resolved) << value;
    EXPECT_THAT(fullText(resolved.error()), Not(HasSubstr("hunter2"))) << value;
    EXPECT_THAT(resolved.error().message, HasSubstr("not one secret reference"));
  }
}

TEST(ResolveSecretTest, ReferenceForms) {
  EXPECT_TRUE(isSecretReference("${secret:env:SLACK_URL}"));
  EXPECT_TRUE(isSecretReference("${secret:env:_X1}"));
  EXPECT_TRUE(isSecretReference("${secret:file:/run/secrets/key}"));
  EXPECT_FALSE(isSecretReference("${secret:env:1X}"));
  EXPECT_FALSE(isSecretReference("${secret:env:}"));
  EXPECT_FALSE(isSecretReference("${secret:file:relative/key}"));
  EXPECT_FALSE(isSecretReference("${secret:file:/}"));
  EXPECT_FALSE(isSecretReference("x${secret:env:A}"));
  EXPECT_FALSE(isSecretReference("${secret:env:A}${secret:env:B}"));
  EXPECT_FALSE(isSecretReference("plain"));
}

}  // namespace
}  // namespace lifeboat::comms
