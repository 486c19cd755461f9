#include "lifeboat/common/stream_message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace lifeboat {
namespace {

using ::testing::HasSubstr;

Event eventWithSeq(std::uint64_t seq) {
  Event event;
  event.agent = "db-eu-1";
  event.run = "20261124T225610Z-k3f9";
  event.seq = seq;
  event.time = Timestamp{std::chrono::milliseconds{1'764'000'000'000}};
  event.type = "step.output";
  event.step = "promote";
  event.data = boost::json::object{{"stream", "stdout"}, {"text", "line\nwith newline"}};
  return event;
}

TEST(StreamMessage, BatchKeepsEveryEventInOrder) {
  std::string message;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    message += encodeEvent(eventWithSeq(seq * 10)) + "\n";
  }
  Result<std::vector<Event>> batch = decodeBatch(message);
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[0], eventWithSeq(10));
  EXPECT_EQ((*batch)[2].seq, 30u);
  // A newline inside a string is escaped by the encoder, so it cannot split a line.
  EXPECT_EQ((*batch)[1].data.at("text").as_string(), "line\nwith newline");
}

TEST(StreamMessage, OneBadLineRefusesTheBatchAndNamesTheLine) {
  const std::string message =
      encodeEvent(eventWithSeq(1)) + "\n{\"v\":1}\n" + encodeEvent(eventWithSeq(3));
  Result<std::vector<Event>> batch = decodeBatch(message);
  ASSERT_FALSE(batch);
  EXPECT_THAT(batch.error().message, HasSubstr("batch line 2"));
  EXPECT_THAT(batch.error().message, HasSubstr("agent"));
}

TEST(StreamMessage, EmptyMessagesAndLinesAreRefused) {
  EXPECT_FALSE(decodeBatch(""));
  EXPECT_FALSE(decodeBatch("\n"));
  const std::string gap = encodeEvent(eventWithSeq(1)) + "\n\n" + encodeEvent(eventWithSeq(2));
  Result<std::vector<Event>> batch = decodeBatch(gap);
  ASSERT_FALSE(batch);
  EXPECT_THAT(batch.error().message, HasSubstr("line 2 is empty"));
}

TEST(StreamMessage, BatchLimitsAreEnforced) {
  std::string message;
  for (std::size_t i = 0; i <= kMaxBatchEvents; ++i) {
    message += encodeEvent(eventWithSeq(i + 1)) + "\n";
  }
  Result<std::vector<Event>> tooMany = decodeBatch(message);
  ASSERT_FALSE(tooMany);
  EXPECT_THAT(tooMany.error().message, HasSubstr("more than 1000"));
  EXPECT_FALSE(decodeBatch(std::string(kMaxBatchBytes + 1, 'x')));
}

TEST(StreamMessage, RepliesRoundTrip) {
  Result<StreamReply> ack = decodeStreamReply(encodeAck(18'446'744'073'709'551'615u));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->kind, StreamReply::Kind::ack);
  EXPECT_EQ(ack->ack, 18'446'744'073'709'551'615u);

  Result<StreamReply> error = decodeStreamReply(encodeStreamError("event for \"x\"", true));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, StreamReply::Kind::error);
  EXPECT_EQ(error->error, "event for \"x\"");
  EXPECT_TRUE(error->fatal);
}

TEST(StreamMessage, MalformedRepliesAreErrors) {
  EXPECT_FALSE(decodeStreamReply("ack 5"));
  EXPECT_FALSE(decodeStreamReply("{\"ack\":-1}"));
  EXPECT_FALSE(decodeStreamReply("{\"ack\":1.5}"));
  EXPECT_FALSE(decodeStreamReply("{\"error\":5}"));
  EXPECT_FALSE(decodeStreamReply("{\"error\":\"x\",\"fatal\":\"yes\"}"));
  EXPECT_FALSE(decodeStreamReply("{}"));
}

}  // namespace
}  // namespace lifeboat
