#pragma once
// The messages of the event stream between agent and coordinator
// (docs/protocol.md, "Streaming to the coordinator"): batches of event lines
// one way, acknowledgements and errors the other. Both sides and the fuzzer
// use these, so the wire format is decided in one place.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat {

inline constexpr std::size_t kMaxBatchEvents = 1000;
inline constexpr std::size_t kMaxBatchBytes = std::size_t{4} * 1024 * 1024;

// A websocket message from an agent: one or more event lines separated by
// '\n' (a trailing '\n' is tolerated). Strict: an empty message, an empty
// line, more than kMaxBatchEvents lines, more than kMaxBatchBytes bytes or
// any invalid line refuses the whole batch; the error names the line (1-based).
Result<std::vector<Event>> decodeBatch(std::string_view message);

// What the coordinator answers.
struct StreamReply {
  enum class Kind { ack, error };
  Kind kind = Kind::ack;
  std::uint64_t ack = 0;  // Kind::ack: the last seq of the committed batch
  std::string error{};    // Kind::error: why, for the agent's log
  bool fatal = false;     // Kind::error: the coordinator closes after it

  friend bool operator==(const StreamReply&, const StreamReply&) = default;
};

std::string encodeAck(std::uint64_t seq);
std::string encodeStreamError(std::string_view message, bool fatal);
Result<StreamReply> decodeStreamReply(std::string_view message);

}  // namespace lifeboat
