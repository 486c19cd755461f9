#pragma once
// What may go into an nsupdate script or a dig command line. Every name,
// value, zone, server and key is checked against these rules before any
// program starts, so that no parameter can add a line (a second update
// command) or a token to what nsupdate reads.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::dns_plugin {

// A domain name of labels [A-Za-z0-9_-] (1 to 63 characters, not starting or
// ending with '-'), at most 253 characters, with an optional final dot.
bool isHostName(std::string_view name);
bool isIpv4(std::string_view address);
bool isIpv6(std::string_view address);
// Base64 text (the TSIG secret), at most 512 characters.
bool isBase64(std::string_view text);

// The zone in canonical form: lower case, no final dot.
std::string canonicalZone(std::string_view zone);

// The fully qualified name (lower case, no final dot) of `name` in `zone`
// (canonical): "@" is the zone itself; a name ending with '.' or with
// ".<zone>" is taken as already qualified and must lie inside the zone;
// anything else is relative to the zone.
Result<std::string> qualify(std::string_view name, std::string_view zone);

// Empty when `value` fits record `type` (A: IPv4, AAAA: IPv6, CNAME: a host
// name, TXT: at most 255 printable ASCII characters without '"' or '\');
// otherwise what is wrong.
std::string valueProblem(std::string_view type, std::string_view value);

// Checks the request's target and params (those present with the right type;
// the SDK reports the rest). An Error lists every problem; the plugin then
// refuses the request (exit status 2) without starting nsupdate or dig. The
// key secret is never quoted.
std::optional<Error> checkRequestValues(const boost::json::object& target,
                                        const boost::json::object& params);

}  // namespace lifeboat::dns_plugin
