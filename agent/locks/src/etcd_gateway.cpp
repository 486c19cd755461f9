#include "etcd_gateway.hpp"

#include <array>
#include <charconv>
#include <cstdio>

#include "lifeboat/http/client.hpp"

namespace lifeboat::locks::detail {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The gateway's error object: {"error": "...", "message": "...", "code": 5}.
// etcd's own words, never ours or the user's, so safe to quote.
std::string etcdReason(const json::object& body) {
  for (const std::string_view name : {"message", "error"}) {
    if (const json::value* field = body.if_contains(name); field && field->is_string()) {
      return std::string(field->get_string());
    }
  }
  return "no reason given";
}

std::string trimSlash(std::string_view endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') {
    endpoint.remove_suffix(1);
  }
  return std::string(endpoint);
}

const std::string kTlsHint =
    "for https endpoints check caFile (the CA that signed etcd's certificate) and, when etcd "
    "requires client certificates, clientCertificate and clientKey";

}  // namespace

Result<std::monostate> validateOptions(const EtcdOptions& options, std::string_view service) {
  if (options.endpoints.empty()) {
    return Error{"etcd lock: no endpoints configured",
                 "list etcd's client URLs, e.g. http://127.0.0.1:2379"};
  }
  for (const std::string& endpoint : options.endpoints) {
    const bool http = endpoint.starts_with("http://");
    const bool https = endpoint.starts_with("https://");
    const std::string_view rest = std::string_view(endpoint).substr(http ? 7 : (https ? 8 : 0));
    const std::string_view authority = rest.substr(0, rest.find('/'));
    if (!http && !https) {
      return Error{"etcd lock: endpoint '" + endpoint + "' is not an http:// or https:// URL",
                   "write etcd's client URL, e.g. http://127.0.0.1:2379"};
    }
    if (authority.find('@') != std::string_view::npos) {
      // Never echo it: the part before '@' is a credential.
      return Error{"etcd lock: an endpoint carries user information (user:password@)",
                   "etcd user/password authentication is not supported; use TLS client "
                   "certificates (clientCertificate, clientKey)"};
    }
    if (authority.empty() || rest.find_first_not_of('/', authority.size()) != std::string::npos) {
      return Error{"etcd lock: endpoint '" + endpoint + "' must be scheme://host:port",
                   "write etcd's client URL without a path, e.g. http://127.0.0.1:2379"};
    }
  }
  if (options.leaseTtl < std::chrono::seconds(1)) {
    return Error{"etcd lock: leaseTtl must be at least 1s",
                 "a failed agent's lock frees itself after the TTL; 10s is usual"};
  }
  if (options.requestTimeout <= std::chrono::milliseconds(0)) {
    return Error{"etcd lock: requestTimeout must be more than 0", ""};
  }
  if (options.prefix.empty()) {
    return Error{"etcd lock: the key prefix is empty", "use e.g. /lifeboat/locks/"};
  }
  if (service.empty()) {
    return Error{"etcd lock: the service name is empty", ""};
  }
  return std::monostate{};
}

GatewayAnswer EtcdGateway::call(std::string_view path, const json::object& request,
                                std::optional<Clock::time_point> notAfter,
                                const std::function<bool()>& cancelled) {
  GatewayAnswer answer;
  std::string failures;
  const std::string body = json::serialize(request);
  const std::size_t count = options_.endpoints.size();
  for (std::size_t tried = 0; tried < count; ++tried) {
    const std::size_t index = (preferred_ + tried) % count;
    const std::string endpoint = trimSlash(options_.endpoints[index]);
    auto timeout = options_.requestTimeout;
    if (notAfter) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*notAfter - Clock::now());
      if (left <= std::chrono::milliseconds(0)) {
        if (failures.empty()) {
          failures = "no time left to ask etcd";
        }
        break;
      }
      timeout = std::min(timeout, left);
    }
    http::Request httpRequest;
    httpRequest.method = "POST";
    httpRequest.url = endpoint + std::string(path);
    httpRequest.headers = {{"Content-Type", "application/json"}};
    httpRequest.body = body;
    httpRequest.caFile = options_.caFile;
    httpRequest.clientCertificate = options_.clientCertificate;
    httpRequest.clientKey = options_.clientKey;
    httpRequest.timeout = timeout;
    httpRequest.cancelled = cancelled;
    const http::Outcome outcome = http::perform(httpRequest);
    if (outcome.failure == http::Failure::cancelled) {
      answer.kind = GatewayAnswer::Kind::cancelled;
      answer.error = Error{"etcd lock: cancelled while waiting for etcd at " + endpoint, ""};
      return answer;
    }
    if (!outcome.result.ok()) {
      // The URL holds no credential (validateOptions), so the client's
      // message may be quoted.
      failures += (failures.empty() ? "" : "; ") + outcome.result.error().message;
      continue;
    }
    const http::Response& response = *outcome.result;
    boost::system::error_code parseError;
    json::value parsed = json::parse(response.body, parseError);
    if (parseError || !parsed.is_object()) {
      failures += (failures.empty() ? "" : "; ") + endpoint + " answered POST " +
                  std::string(path) + " with status " + std::to_string(response.status) +
                  " and a body that is not a JSON object (is it etcd's client port?)";
      continue;
    }
    preferred_ = index;
    answer.body = std::move(parsed.as_object());
    if (response.status == 200 && !answer.body.contains("error")) {
      answer.kind = GatewayAnswer::Kind::ok;
      return answer;
    }
    answer.kind = GatewayAnswer::Kind::rejected;
    answer.grpcCode = static_cast<int>(int64Field(answer.body, "code").value_or(0));
    answer.error = Error{"etcd at " + endpoint + " refused POST " + std::string(path) + ": " +
                             etcdReason(answer.body),
                         ""};
    return answer;
  }
  answer.kind = GatewayAnswer::Kind::unreachable;
  answer.error = Error{"etcd lock: cannot reach etcd at " + endpointList() + ": " + failures,
                       "check that etcd is running and listening on these client URLs, and "
                       "that this host can reach them; " +
                           kTlsHint};
  return answer;
}

std::string EtcdGateway::endpointList() const {
  std::string list;
  for (const std::string& endpoint : options_.endpoints) {
    list += (list.empty() ? "" : ", ") + trimSlash(endpoint);
  }
  return list;
}

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto triple = (static_cast<unsigned char>(bytes[i]) << 16) |
                        (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                        static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) {
      out += kBase64Alphabet[(triple >> shift) & 0x3f];
    }
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const unsigned first = static_cast<unsigned char>(bytes[i]);
    const unsigned second = rest == 2 ? static_cast<unsigned char>(bytes[i + 1]) : 0U;
    const unsigned triple = (first << 16) | (second << 8);
    out += kBase64Alphabet[(triple >> 18) & 0x3f];
    out += kBase64Alphabet[(triple >> 12) & 0x3f];
    out += rest == 2 ? kBase64Alphabet[(triple >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::size_t digit = kBase64Alphabet.find(c);
    if (digit == std::string_view::npos || padding > 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (padding > 2 || (text.size() % 4 != 0 && padding > 0)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> int64Field(const json::object& object, std::string_view name,
                                       std::int64_t fallback) {
  const json::value* field = object.if_contains(name);
  if (field == nullptr) {
    return fallback;
  }
  if (field->is_int64()) {
    return field->get_int64();
  }
  if (field->is_string()) {
    const json::string& text = field->get_string();
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size()) {
      return number;
    }
  }
  return std::nullopt;
}

std::optional<KeyValue> firstKeyValue(const json::object& rangeAnswer) {
  const json::value* kvs = rangeAnswer.if_contains("kvs");
  if (kvs == nullptr || !kvs->is_array() || kvs->get_array().empty() ||
      !kvs->get_array().front().is_object()) {
    return std::nullopt;
  }
  const json::object& first = kvs->get_array().front().get_object();
  KeyValue kv;
  kv.createRevision = int64Field(first, "create_revision").value_or(0);
  kv.lease = int64Field(first, "lease").value_or(0);
  if (const json::value* value = first.if_contains("value"); value && value->is_string()) {
    kv.value = base64Decode(value->get_string()).value_or("");
  }
  return kv;
}

std::string leaseHex(std::int64_t lease) {
  std::array<char, 24> text{};
  std::snprintf(text.data(), text.size(), "%llx",
                static_cast<unsigned long long>(lease));  // NOLINT: printf of a fixed format
  return text.data();
}

}  // namespace lifeboat::locks::detail
