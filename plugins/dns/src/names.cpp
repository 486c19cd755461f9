#include "names.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "lifeboat/common/text.hpp"

namespace lifeboat::dns_plugin {
namespace {

constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxTxtLength = 255;
constexpr std::size_t kMaxSecretLength = 512;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const boost::json::string* stringMember(const boost::json::object& from, std::string_view key) {
  const boost::json::value* value = from.if_contains(key);
  return value != nullptr && value->is_string() ? &value->get_string() : nullptr;
}

}  // namespace

bool isHostName(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > kMaxLabelLength || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

bool isIpv4(std::string_view address) {
  in_addr parsed{};
  return !address.empty() && address.size() < INET_ADDRSTRLEN &&
         ::inet_pton(AF_INET, std::string(address).c_str(), &parsed) == 1;
}

bool isIpv6(std::string_view address) {
  in6_addr parsed{};
  return !address.empty() && address.size() < INET6_ADDRSTRLEN &&
         ::inet_pton(AF_INET6, std::string(address).c_str(), &parsed) == 1;
}

bool isBase64(std::string_view text) {
  if (text.empty() || text.size() > kMaxSecretLength || text.size() % 4 != 0) {
    return false;
  }
  const std::size_t padding = text.size() - text.find_last_not_of('=') - 1;
  if (padding > 2) {
    return false;
  }
  for (char c : text.substr(0, text.size() - padding)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') {
      return false;
    }
  }
  return true;
}

std::string canonicalZone(std::string_view zone) {
  std::string out = lower(zone);
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

Result<std::string> qualify(std::string_view name, std::string_view zone) {
  if (name == "@") {
    return std::string(zone);
  }
  if (!isHostName(name)) {
    return Error{"record name " + quotedSafely(name) + " is not a domain name",
                 "use letters, digits, '-' and '_' in dot-separated labels"};
  }
  const std::string canonical = lower(name);
  const bool absolute = canonical.back() == '.';
  std::string bare = absolute ? canonical.substr(0, canonical.size() - 1) : canonical;
  const std::string suffix = "." + std::string(zone);
  const bool inside = bare == zone || (bare.size() > suffix.size() && bare.ends_with(suffix));
  if (absolute && !inside) {
    return Error{"record name " + quotedSafely(name) + " is not inside zone " + inQuotes(zone),
                 "give a name relative to the zone, or a fully qualified name ending in ." +
                     std::string(zone) + "."};
  }
  std::string full = inside ? bare : bare + suffix;
  if (full.size() > kMaxNameLength) {
    return Error{"record name " + quotedSafely(name) + " is longer than 253 characters in zone " +
                     inQuotes(zone),
                 ""};
  }
  return full;
}

std::string valueProblem(std::string_view type, std::string_view value) {
  if (type == "A") {
    return isIpv4(value) ? "" : "is " + quotedSafely(value) + ", not an IPv4 address";
  }
  if (type == "AAAA") {
    return isIpv6(value) ? "" : "is " + quotedSafely(value) + ", not an IPv6 address";
  }
  if (type == "CNAME") {
    return isHostName(value) ? "" : "is " + quotedSafely(value) + ", not a host name";
  }
  if (type == "TXT") {
    if (value.size() > kMaxTxtLength) {
      return "is longer than 255 characters (one TXT string)";
    }
    for (char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
        return "is " + quotedSafely(value) +
               ", but TXT values here are printable ASCII without quotes or backslashes";
      }
    }
    return "";
  }
  return "is for an unsupported record type " + inQuotes(type);
}

std::optional<Error> checkRequestValues(const boost::json::object& target,
                                        const boost::json::object& params) {
  std::string problems;
  const auto add = [&problems](const std::string& problem) {
    problems += problems.empty() ? "" : "; ";
    problems += problem;
  };
  if (const auto* server = stringMember(target, "server");
      server != nullptr && !isIpv4(*server) && !isIpv6(*server)) {
    add("target 'server' is " + quotedSafely(*server) + ", not an IPv4 or IPv6 address");
  }
  const auto* zone = stringMember(target, "zone");
  const bool zoneValid = zone != nullptr && isHostName(*zone);
  if (zone != nullptr && !zoneValid) {
    add("target 'zone' is " + quotedSafely(*zone) + ", not a domain name");
  }
  if (const auto* keyName = stringMember(target, "key_name");
      keyName != nullptr && !isHostName(*keyName)) {
    add("target 'key_name' is " + quotedSafely(*keyName) + ", not a key name (a domain name)");
  }
  if (const auto* secret = stringMember(target, "key_secret");
      secret != nullptr && !isBase64(*secret)) {
    add("target 'key_secret' is not base64 text (the value is not shown)");
  }
  if (const auto* name = stringMember(params, "name"); name != nullptr && zoneValid) {
    if (auto full = qualify(*name, canonicalZone(*zone)); !full) {
      add("param 'name': " + full.error().message);
    }
  } else if (name != nullptr && name->empty()) {
    add("param 'name' is empty");
  }
  const auto* type = stringMember(params, "type");
  const std::string recordType = type != nullptr ? std::string(*type) : "A";
  const bool knownType =
      recordType == "A" || recordType == "AAAA" || recordType == "CNAME" || recordType == "TXT";
  if (const auto* value = stringMember(params, "value"); value != nullptr && knownType) {
    if (const std::string problem = valueProblem(recordType, *value); !problem.empty()) {
      add("param 'value' " + problem + " (type " + recordType + ")");
    }
  }
  if (problems.empty()) {
    return std::nullopt;
  }
  return Error{"invalid request: " + problems,
               "nothing was sent to the name server; fix the runbook's values"};
}

}  // namespace lifeboat::dns_plugin
