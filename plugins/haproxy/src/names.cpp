#include "names.hpp"

#include <arpa/inet.h>

#include <string>

#include "lifeboat/common/text.hpp"

namespace lifeboat::haproxy_plugin {
namespace {

constexpr std::size_t kMaxNameLength = 128;

}  // namespace

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  for (char c : name) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

bool isIpAddress(std::string_view address) {
  if (address.empty() || address.size() > INET6_ADDRSTRLEN) {
    return false;
  }
  const std::string text(address);
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::optional<Error> checkCommandArguments(const boost::json::object& target,
                                           const boost::json::object& params) {
  std::string problems;
  const auto add = [&problems](std::string problem) {
    problems += problems.empty() ? "" : "; ";
    problems += problem;
  };
  const auto checkName = [&](const boost::json::object& from, std::string_view where,
                             std::string_view key) {
    const boost::json::value* value = from.if_contains(key);
    if (value != nullptr && value->is_string() && !isValidName(value->get_string())) {
      add(std::string(where) + " '" + std::string(key) + "' is " +
          quotedSafely(value->get_string()) +
          ", not an HAProxy name ([A-Za-z0-9_.:-]+, at most 128 characters)");
    }
  };
  checkName(target, "target", "backend");
  checkName(params, "param", "to");
  checkName(params, "param", "server");
  checkName(params, "param", "active");
  if (const boost::json::value* address = params.if_contains("address");
      address != nullptr && address->is_string() && !isIpAddress(address->get_string())) {
    add("param 'address' is " + quotedSafely(address->get_string()) +
        ", not an IPv4 or IPv6 address in numeric form");
  }
  if (problems.empty()) {
    return std::nullopt;
  }
  return Error{"invalid request: " + problems,
               "names are those of haproxy.cfg's backend and server lines; nothing was sent to "
               "HAProxy"};
}

}  // namespace lifeboat::haproxy_plugin
