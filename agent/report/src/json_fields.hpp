#pragma once
// Tolerant readers for members of an event's `data`: a member that is missing
// or has the wrong type reads as absent, so that a journal from a newer (or
// buggy) writer still gives a report.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/event.hpp"

namespace lifeboat::report::detail {

// The string member, or "" when absent or not a string.
std::string stringField(const boost::json::object& data, std::string_view key);

// An integer member; also an integral double (1e3) and a uint64 that fits.
std::optional<std::int64_t> intField(const boost::json::object& data, std::string_view key);

bool boolField(const boost::json::object& data, std::string_view key, bool fallback);

// A time in the `ts` form (parseTimestamp); absent when missing or malformed.
std::optional<Timestamp> timeField(const boost::json::object& data, std::string_view key);

const boost::json::object* objectField(const boost::json::object& data, std::string_view key);
const boost::json::array* arrayField(const boost::json::object& data, std::string_view key);

// The string elements of an array member; a lone string member counts as one.
std::vector<std::string> stringsField(const boost::json::object& data, std::string_view key);

// A scalar as text: strings as they are, numbers and booleans in JSON form.
std::string scalarText(const boost::json::value& value);

}  // namespace lifeboat::report::detail
