#include <limits>

#include "store_impl.hpp"

namespace lifeboat::store::detail {

std::optional<std::string> stringMember(const boost::json::object& data, std::string_view key) {
  const boost::json::value* value = data.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return std::string(value->get_string());
}

std::optional<std::int64_t> integerMember(const boost::json::object& data, std::string_view key) {
  const boost::json::value* value = data.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_uint64() &&
      value->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  return std::nullopt;
}

std::optional<bool> boolMember(const boost::json::object& data, std::string_view key) {
  const boost::json::value* value = data.if_contains(key);
  if (value == nullptr || !value->is_bool()) {
    return std::nullopt;
  }
  return value->get_bool();
}

std::optional<std::int64_t> timeMember(const boost::json::object& data, std::string_view key) {
  const std::optional<std::string> text = stringMember(data, key);
  if (!text) {
    return std::nullopt;
  }
  const Result<Timestamp> time = parseTimestamp(*text);
  if (!time) {
    return std::nullopt;
  }
  return toMillis(*time);
}

std::int64_t toMillis(Timestamp time) {
  return time.time_since_epoch().count();
}

Timestamp fromMillis(std::int64_t millis) {
  return Timestamp(std::chrono::milliseconds(millis));
}

boost::json::value timeJson(const std::optional<std::int64_t>& millis) {
  if (!millis) {
    return nullptr;
  }
  return boost::json::value(formatTimestamp(fromMillis(*millis)));
}

boost::json::value integerJson(const std::optional<std::int64_t>& value) {
  if (!value) {
    return nullptr;
  }
  return *value;
}

boost::json::value textJson(const std::optional<std::string>& text) {
  if (!text) {
    return nullptr;
  }
  return boost::json::value(*text);
}

boost::json::value nonEmptyJson(const std::string& text) {
  if (text.empty()) {
    return nullptr;
  }
  return boost::json::value(text);
}

}  // namespace lifeboat::store::detail
