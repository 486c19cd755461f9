// checkResponse: the pass/fail rule of an `http` step, without a network.

#include <gtest/gtest.h>

#include "lifeboat/http/client.hpp"

namespace lifeboat::http {
namespace {

Response response(int status, std::string body, bool truncated = false) {
  Response made;
  made.status = status;
  made.body = std::move(body);
  made.bodyTruncated = truncated;
  return made;
}

TEST(CheckResponseTest, PassesWithAnExpectedStatusAndNoBodyRule) {
  EXPECT_EQ(checkResponse(response(200, "anything"), {200}, ""), "");
  EXPECT_EQ(checkResponse(response(204, ""), {200, 204}, ""), "");
}

TEST(CheckResponseTest, NamesTheStatusAndTheExpectedOnes) {
  EXPECT_EQ(checkResponse(response(503, ""), {200}, ""), "status 503, expected 200");
  EXPECT_EQ(checkResponse(response(503, ""), {200, 204}, ""), "status 503, expected 200 or 204");
  EXPECT_EQ(checkResponse(response(404, ""), {200, 201, 204}, ""),
            "status 404, expected 200, 201 or 204");
}

TEST(CheckResponseTest, AnEmptyListMeansTheDefault200) {
  EXPECT_EQ(checkResponse(response(200, ""), {}, ""), "");
  EXPECT_EQ(checkResponse(response(500, ""), {}, ""), "status 500, expected 200");
}

TEST(CheckResponseTest, StatusIsCheckedBeforeTheBody) {
  EXPECT_EQ(checkResponse(response(503, "ok"), {200}, "healthy"), "status 503, expected 200");
}

TEST(CheckResponseTest, BodyMustContainTheExpectedText) {
  EXPECT_EQ(checkResponse(response(200, R"({"status":"ok"})"), {200}, R"("status":"ok")"), "");
  EXPECT_EQ(checkResponse(response(200, R"({"status":"down"})"), {200}, R"("status":"ok")"),
            "body does not contain the expected text");
}

TEST(CheckResponseTest, SaysWhenOnlyPartOfTheBodyWasSeen) {
  EXPECT_EQ(checkResponse(response(200, "xxxx", /*truncated=*/true), {200}, "needle"),
            "body does not contain the expected text (only its first 4 bytes were read)");
  EXPECT_EQ(checkResponse(response(200, "needle", /*truncated=*/true), {200}, "needle"), "");
}

TEST(CheckResponseTest, NeverQuotesTheBodyOrTheExpectedText) {
  const std::string reason = checkResponse(response(200, "secret-body"), {200}, "secret-expected");
  EXPECT_EQ(reason.find("secret"), std::string::npos) << reason;
}

TEST(FailureNameTest, NamesEveryFailure) {
  EXPECT_EQ(failureName(Failure::none), "none");
  EXPECT_EQ(failureName(Failure::invalidRequest), "invalidRequest");
  EXPECT_EQ(failureName(Failure::transport), "transport");
  EXPECT_EQ(failureName(Failure::timedOut), "timedOut");
  EXPECT_EQ(failureName(Failure::cancelled), "cancelled");
}

}  // namespace
}  // namespace lifeboat::http
