#pragma once
// What Store's source files share: the connection, and JSON helpers for
// reading event data leniently and writing nullable columns.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/store/sqlite.hpp"
#include "lifeboat/store/store.hpp"

namespace lifeboat::store {

struct Store::Impl {
  Impl(const std::filesystem::path& file, int flags) : db(file, flags) {}
  detail::Connection db;
  Access access = Access::ReadWrite;
  int schemaVersion = 0;
};

namespace detail {

// Runs `body` and turns a SqliteFailure into its Error. Every public Store
// function goes through here, so no exception leaves the store.
template <class T, class Body>
Result<T> guarded(Body&& body) {
  try {
    return body();
  } catch (const SqliteFailure& failure) {
    return failure.error;
  }
}

// Members of an event's `data`, read leniently: a missing member or one of
// another type is nullopt (a newer agent may change nothing, but a summary
// must never refuse a batch for a member it only displays).
std::optional<std::string> stringMember(const boost::json::object& data, std::string_view key);
std::optional<std::int64_t> integerMember(const boost::json::object& data, std::string_view key);
std::optional<bool> boolMember(const boost::json::object& data, std::string_view key);
// A member holding a time in the `ts` form, as milliseconds since 1970.
std::optional<std::int64_t> timeMember(const boost::json::object& data, std::string_view key);

std::int64_t toMillis(Timestamp time);
Timestamp fromMillis(std::int64_t millis);

// Nullable values for the API: null when absent.
boost::json::value timeJson(const std::optional<std::int64_t>& millis);
boost::json::value integerJson(const std::optional<std::int64_t>& value);
boost::json::value textJson(const std::optional<std::string>& text);
// "" counts as absent too (agents' hostname, version, address).
boost::json::value nonEmptyJson(const std::string& text);

}  // namespace detail
}  // namespace lifeboat::store
