// libFuzzer target for what the coordinator reads from the network: a
// websocket message from an agent (decodeBatch → decodeEvent, timestamps
// included) and what the agent reads back (decodeStreamReply). Properties
// beyond "no crash": a decoded event encodes to a line that decodes to the
// same event (the codec is one canonical form), and a batch never holds more
// events than the limit. Run it with scripts/fuzz.sh event.
//
// "The same" allows one difference: Boost.JSON 1.81 reads some decimal
// fractions one unit in the last place off (300001e30 becomes
// 3.0000100000000002E35, which reads back as 3.00001E35; found by this
// fuzzer), so floating-point members of `data` are compared within a few
// units in the last place. docs/protocol.md tells producers to use integers.

#include <boost/json/value.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lifeboat/common/event.hpp"
#include "lifeboat/common/stream_message.hpp"

namespace {

bool sameValue(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 4 * std::fabs(x) * 2.220446049250313e-16;
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  if (a.is_object()) {
    const auto& left = a.get_object();
    const auto& right = b.get_object();
    if (left.size() != right.size()) {
      return false;
    }
    for (const auto& member : left) {
      const boost::json::value* other = right.if_contains(member.key());
      if (other == nullptr || !sameValue(member.value(), *other)) {
        return false;
      }
    }
    return true;
  }
  if (a.is_array()) {
    const auto& left = a.get_array();
    const auto& right = b.get_array();
    if (left.size() != right.size()) {
      return false;
    }
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!sameValue(left[i], right[i])) {
        return false;
      }
    }
    return true;
  }
  return a == b;
}

bool sameEvent(const lifeboat::Event& a, const lifeboat::Event& b) {
  return a.version == b.version && a.agent == b.agent && a.run == b.run && a.seq == b.seq &&
         a.time == b.time && a.type == b.type && a.step == b.step &&
         sameValue(boost::json::value(a.data), boost::json::value(b.data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto batch = lifeboat::decodeBatch(text);
  if (batch) {
    if (batch->empty() || batch->size() > lifeboat::kMaxBatchEvents) {
      __builtin_trap();
    }
    for (const lifeboat::Event& event : *batch) {
      auto again = lifeboat::decodeEvent(lifeboat::encodeEvent(event));
      if (!again || !sameEvent(*again, event)) {
        __builtin_trap();
      }
    }
  } else if (batch.error().message.empty()) {
    __builtin_trap();
  }
  auto reply = lifeboat::decodeStreamReply(text);
  if (reply && reply->kind == lifeboat::StreamReply::Kind::error) {
    auto again =
        lifeboat::decodeStreamReply(lifeboat::encodeStreamError(reply->error, reply->fatal));
    if (!again || !(*again == *reply)) {
      __builtin_trap();
    }
  }
  return 0;
}
