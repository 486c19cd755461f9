#pragma once
// Internal: calls to etcd's v3 HTTP/JSON gateway (POST of a JSON object,
// JSON answer) over the agent's HTTP client, trying each endpoint in turn.
// Encoding rules of the gateway: keys and values are base64, 64-bit numbers
// are JSON strings, and fields with default values (false, 0, "") are left
// out of answers.
//
// Threads: one EtcdGateway per owner; not safe for concurrent calls.

#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"
#include "lifeboat/locks/etcd_lock.hpp"

namespace lifeboat::locks::detail {

// Checks what acquire() and isCurrentHolder() need from the options.
Result<std::monostate> validateOptions(const EtcdOptions& options, std::string_view service);

struct GatewayAnswer {
  enum class Kind {
    ok,           // HTTP 200 with a JSON object: `body`
    rejected,     // etcd answered with an error: `grpcCode` (5 = not found)
    unreachable,  // no endpoint answered (down, TLS, timeout, before `notAfter`)
    cancelled,    // the caller's `cancelled` returned true
  };
  Kind kind = Kind::unreachable;
  boost::json::object body;
  int grpcCode = 0;
  Error error;  // set unless ok: names the endpoint(s) and what to check
};

class EtcdGateway {
 public:
  explicit EtcdGateway(const EtcdOptions& options) : options_(options) {}

  // POSTs `request` to `path` ("/v3/kv/txn"). Each endpoint gets
  // requestTimeout, cut short at `notAfter` when given; the first endpoint
  // that gives an HTTP answer decides (a rejection is not retried elsewhere).
  GatewayAnswer call(std::string_view path, const boost::json::object& request,
                     std::optional<std::chrono::steady_clock::time_point> notAfter = {},
                     const std::function<bool()>& cancelled = {});

  // "http://a:2379, http://b:2379", for messages.
  std::string endpointList() const;

 private:
  const EtcdOptions& options_;  // owned by the caller, outlives the gateway
  std::size_t preferred_ = 0;   // the endpoint that answered last
};

std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

// A 64-bit integer the gateway sent as a string (or, leniently, a number);
// `fallback` when the field is absent (the gateway omits zeros).
std::optional<std::int64_t> int64Field(const boost::json::object& object, std::string_view name,
                                       std::int64_t fallback = 0);

// The first key-value of a range answer (`response_range` inside a txn or a
// /v3/kv/range answer), if any.
struct KeyValue {
  std::int64_t createRevision = 0;
  std::int64_t lease = 0;
  std::string value;
};
std::optional<KeyValue> firstKeyValue(const boost::json::object& rangeAnswer);

// "20408a1f3e4c1d08": how etcdctl shows lease IDs.
std::string leaseHex(std::int64_t lease);

}  // namespace lifeboat::locks::detail
