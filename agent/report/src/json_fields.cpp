#include "json_fields.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>

namespace lifeboat::report::detail {

namespace json = boost::json;

std::string stringField(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return std::string(value->get_string());
}

std::optional<std::int64_t> intField(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_uint64()) {
    std::uint64_t number = value->get_uint64();
    if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(number);
    }
    return std::nullopt;
  }
  if (value->is_double()) {
    double number = value->get_double();
    // The bounds keep the conversion defined (UBSan checks it).
    if (std::isfinite(number) && std::trunc(number) == number && number > -9.2e18 &&
        number < 9.2e18) {
      return static_cast<std::int64_t>(number);
    }
  }
  return std::nullopt;
}

bool boolField(const json::object& data, std::string_view key, bool fallback) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr || !value->is_bool()) {
    return fallback;
  }
  return value->get_bool();
}

std::optional<Timestamp> timeField(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  Result<Timestamp> time = parseTimestamp(value->get_string());
  if (!time.ok()) {
    return std::nullopt;
  }
  return *time;
}

const json::object* objectField(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

const json::array* arrayField(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  return value != nullptr ? value->if_array() : nullptr;
}

std::vector<std::string> stringsField(const json::object& data, std::string_view key) {
  std::vector<std::string> strings;
  const json::value* value = data.if_contains(key);
  if (value == nullptr) {
    return strings;
  }
  if (value->is_string()) {
    strings.emplace_back(value->get_string());
  } else if (const json::array* array = value->if_array()) {
    for (const json::value& element : *array) {
      if (element.is_string()) {
        strings.emplace_back(element.get_string());
      }
    }
  }
  return strings;
}

std::string scalarText(const json::value& value) {
  if (value.is_string()) {
    return std::string(value.get_string());
  }
  return json::serialize(value);
}

}  // namespace lifeboat::report::detail
