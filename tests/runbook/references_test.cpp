#include "lifeboat/runbook/references.hpp"

#include <gtest/gtest.h>

namespace lifeboat::runbook {
namespace {

TEST(References, FindsEveryKind) {
  const auto found = findReferences(
      "${vars.region} ${secret:env:PG_PASSWORD} ${secret:file:/run/secrets/token} ${run.id} "
      "${lock.fencing_token} ${steps.promote.outputs.address}");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 6U);
  EXPECT_EQ((*found)[0].kind, ReferenceKind::variable);
  EXPECT_EQ((*found)[0].name, "region");
  EXPECT_EQ((*found)[1].kind, ReferenceKind::secretEnv);
  EXPECT_EQ((*found)[1].name, "PG_PASSWORD");
  EXPECT_TRUE((*found)[1].isSecret());
  EXPECT_EQ((*found)[2].kind, ReferenceKind::secretFile);
  EXPECT_EQ((*found)[2].name, "/run/secrets/token");
  EXPECT_EQ((*found)[3].kind, ReferenceKind::run);
  EXPECT_EQ((*found)[4].kind, ReferenceKind::lock);
  EXPECT_EQ((*found)[5].kind, ReferenceKind::stepOutput);
  EXPECT_EQ((*found)[5].step, "promote");
  EXPECT_EQ((*found)[5].name, "address");
  EXPECT_EQ((*found)[0].offset, 0U);
  EXPECT_EQ((*found)[0].length, 14U);
}

TEST(References, EscapeAndPlainDollarsAreNotReferences) {
  const auto found = findReferences("cost $5, literal $${vars.x}, $HOME");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
}

TEST(References, MalformedOnesAreErrors) {
  for (const char* text :
       {"${vars.}", "${vars.a-b}", "${secret:env:}", "${secret:file:relative}", "${secret:vault:x}",
        "${run.nope}", "${lock.token}", "${steps.a.b}", "${what.x}", "${vars.x", "${}"}) {
    EXPECT_FALSE(findReferences(text).ok()) << text;
  }
  EXPECT_EQ(findReferences("a ${vars.x").error().message,
            "unterminated reference starting '${vars.x'");
}

TEST(References, ExpandsThroughTheResolver) {
  const auto expanded =
      expandReferences("host=${vars.host} token=${lock.fencing_token} keep $${this}",
                       [](const Reference& reference) -> Result<std::string> {
                         if (reference.kind == ReferenceKind::variable) {
                           return std::string("db1");
                         }
                         return std::string("42");
                       });
  ASSERT_TRUE(expanded.ok());
  EXPECT_EQ(*expanded, "host=db1 token=42 keep ${this}");
}

TEST(References, ResolverErrorsStopExpansion) {
  const auto expanded =
      expandReferences("${secret:env:NOPE}", [](const Reference&) -> Result<std::string> {
        return Error{"secret env:NOPE is not set", ""};
      });
  ASSERT_FALSE(expanded.ok());
  EXPECT_EQ(expanded.error().message, "secret env:NOPE is not set");
}

}  // namespace
}  // namespace lifeboat::runbook
