#pragma once
// What may go into a runtime-API command. Backend and server names and
// addresses are checked before anything is sent, so that no parameter can
// carry a second command (a newline or ';') or an extra argument (a space).

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "lifeboat/common/result.hpp"

namespace lifeboat::haproxy_plugin {

// [A-Za-z0-9_.:-]+, at most 128 characters.
bool isValidName(std::string_view name);
// An IPv4 or IPv6 address in numeric form.
bool isIpAddress(std::string_view address);

// Checks the names and addresses of a request's `target` and `params`
// (those present with the right type; the SDK reports the rest) before the
// SDK runs the action. An Error lists every bad value; the plugin refuses
// the request (exit status 2) and sends nothing to HAProxy.
std::optional<Error> checkCommandArguments(const boost::json::object& target,
                                           const boost::json::object& params);

}  // namespace lifeboat::haproxy_plugin
