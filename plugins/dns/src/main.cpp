// The `dns` plugin: wires its declaration to its handlers. Names, values,
// the zone, the server and the key, which end up in an nsupdate script or a
// dig command line, are checked first, so that a request carrying anything
// else is refused (exit status 2) before the SDK runs an action.

#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <iostream>

#include "actions.hpp"
#include "description.hpp"
#include "lifeboat/plugin_sdk/plugin.hpp"
#include "names.hpp"

namespace {

namespace json = boost::json;
using namespace lifeboat;

// Reads stdin, at most one byte more than the SDK accepts (so it still
// recognises an oversized request).
std::string readRequest() {
  std::string request;
  char buffer[65536];
  while (request.size() <= plugin_sdk::kMaxRequestBytes) {
    const ssize_t count = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (count == 0 || (count < 0 && errno != EINTR)) {
      break;
    }
    if (count > 0) {
      request.append(buffer, static_cast<std::size_t>(count));
    }
  }
  return request;
}

// The value check of an action request; requests that are not
// JSON objects with objects for target and params are left to the SDK.
std::optional<Error> precheck(std::string_view text) {
  boost::system::error_code error;
  const json::value request = json::parse(text, error);
  if (error || !request.is_object()) {
    return std::nullopt;
  }
  const json::object& object = request.get_object();
  const json::value* op = object.if_contains("op");
  if (op == nullptr || !op->is_string() || op->get_string() == "describe") {
    return std::nullopt;
  }
  static const json::object kEmpty;
  const json::value* target = object.if_contains("target");
  const json::value* params = object.if_contains("params");
  return dns_plugin::checkRequestValues(
      target != nullptr && target->is_object() ? target->get_object() : kEmpty,
      params != nullptr && params->is_object() ? params->get_object() : kEmpty);
}

}  // namespace

int main() {
  using namespace lifeboat::dns_plugin;
  plugin_sdk::Plugin plugin(describeDnsPlugin());
  plugin.on("set_record", setRecord).on("delete_record", deleteRecord).on("verify", verifyRecord);
  const std::string request = readRequest();
  if (auto refused = precheck(request)) {
    std::cerr << "dns: " << refused->message << '\n';
    std::cout << json::serialize(json::object{
                     {"ok", false}, {"error", refused->message}, {"hint", refused->hint}})
              << '\n'
              << std::flush;
    return plugin_sdk::kExitRejected;
  }
  return plugin.handle(request, std::cout, std::cerr);
}
