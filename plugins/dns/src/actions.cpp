#include "actions.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"
#include "names.hpp"
#include "tools.hpp"

namespace lifeboat::dns_plugin {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxTtl = 2147483647;

Result<NameServer> nameServerOf(const Request& request) {
  NameServer server;
  server.address = request.targetString("server").value_or("");
  const std::int64_t port = request.target.contains("port") && request.target.at("port").is_int64()
                                ? request.target.at("port").as_int64()
                                : 53;
  if (port < 1 || port > 65535) {
    return Error{"target 'port' is " + std::to_string(port) + ", not a port (1 to 65535)", ""};
  }
  server.port = static_cast<int>(port);
  server.zone = canonicalZone(request.targetString("zone").value_or(""));
  server.keyName = request.targetString("key_name").value_or("");
  server.keySecret = request.targetString("key_secret").value_or("");
  server.keyAlgorithm = request.targetString("key_algorithm").value_or("hmac-sha256");
  server.nsupdatePath = request.targetString("nsupdate").value_or("/usr/bin/nsupdate");
  server.digPath = request.targetString("dig").value_or("/usr/bin/dig");
  auto timeout = parseDuration(request.targetString("timeout").value_or("5s"));
  if (!timeout) {
    return Error{"target 'timeout': " + timeout.error().message, timeout.error().hint};
  }
  server.timeout = *timeout;
  return server;
}

// The record data as the server would answer it, for comparison: IPv6 in
// canonical text, host names lower case without the final dot.
std::string normalized(const std::string& type, const std::string& value) {
  if (type == "AAAA") {
    in6_addr address{};
    char text[INET6_ADDRSTRLEN];
    if (::inet_pton(AF_INET6, value.c_str(), &address) == 1 &&
        ::inet_ntop(AF_INET6, &address, text, sizeof text) != nullptr) {
      return text;
    }
  }
  if (type == "CNAME") {
    std::string name = value;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!name.empty() && name.back() == '.') {
      name.pop_back();
    }
    return name;
  }
  return value;
}

// The record data as nsupdate reads it on an "update add" line.
std::string updateData(const std::string& type, const std::string& value) {
  if (type == "TXT") {
    return "\"" + value + "\"";
  }
  if (type == "CNAME") {
    return normalized(type, value) + ".";
  }
  return value;
}

json::array toArray(const std::vector<std::string>& values) {
  json::array array;
  for (const std::string& value : values) {
    array.emplace_back(value);
  }
  return array;
}

std::string listed(const std::vector<std::string>& values) {
  return values.empty() ? std::string("nothing") : json::serialize(toArray(values));
}

// What every action starts with: the server, the record's full name and type.
struct RecordRequest {
  NameServer server;
  std::string fqdn;
  std::string type;
};

Result<RecordRequest> recordRequestOf(const Request& request) {
  auto server = nameServerOf(request);
  if (!server) {
    return server.error();
  }
  auto fqdn = qualify(request.stringParam("name").value_or(""), server->zone);
  if (!fqdn) {
    return fqdn.error();
  }
  return RecordRequest{std::move(*server), std::move(*fqdn),
                       request.stringParam("type").value_or("A")};
}

}  // namespace

Result<ActionResult> setRecord(const Request& request, Reporter& reporter) {
  auto record = recordRequestOf(request);
  if (!record) {
    return record.error();
  }
  const std::string value = request.stringParam("value").value_or("");
  if (const std::string problem = valueProblem(record->type, value); !problem.empty()) {
    return Error{"param 'value' " + problem, ""};
  }
  const std::int64_t ttl = request.integerParam("ttl").value_or(30);
  if (ttl < 0 || ttl > kMaxTtl) {
    return Error{"param 'ttl' is " + std::to_string(ttl) + ", not 0 to " + std::to_string(kMaxTtl),
                 "give the time to live in seconds"};
  }
  process::PosixRunner runner;
  auto previous = queryRecords(record->server, runner, record->fqdn, record->type);
  if (!previous) {
    return previous.error();
  }
  reporter.progress(record->fqdn + " " + record->type + " was " + listed(*previous) +
                    "; setting it to " + value);
  const std::string what = record->fqdn + " " + record->type;
  const std::vector<std::string> updates = {"update delete " + record->fqdn + ". " + record->type,
                                            "update add " + record->fqdn + ". " +
                                                std::to_string(ttl) + " " + record->type + " " +
                                                updateData(record->type, value)};
  if (auto error = sendUpdate(record->server, runner, updates, what)) {
    return *error;
  }
  ActionResult result;
  result.outputs["fqdn"] = record->fqdn;
  result.outputs["previous"] = toArray(*previous);
  result.outputs["value"] = normalized(record->type, value);
  return result;
}

Result<ActionResult> deleteRecord(const Request& request, Reporter& reporter) {
  auto record = recordRequestOf(request);
  if (!record) {
    return record.error();
  }
  process::PosixRunner runner;
  auto previous = queryRecords(record->server, runner, record->fqdn, record->type);
  if (!previous) {
    return previous.error();
  }
  const std::string what = record->fqdn + " " + record->type;
  reporter.progress("deleting " + what + " (was " + listed(*previous) + ")");
  if (auto error = sendUpdate(record->server, runner,
                              {"update delete " + record->fqdn + ". " + record->type}, what)) {
    return *error;
  }
  ActionResult result;
  result.outputs["fqdn"] = record->fqdn;
  result.outputs["previous"] = toArray(*previous);
  result.outputs["removed"] = !previous->empty();
  return result;
}

Result<ActionResult> verifyRecord(const Request& request, Reporter&) {
  auto record = recordRequestOf(request);
  if (!record) {
    return record.error();
  }
  const std::optional<std::string> value = request.stringParam("value");
  const bool absent = request.boolParam("absent").value_or(false);
  if (absent && value) {
    return Error{"params 'value' and 'absent = true' contradict each other",
                 "give either the expected value or absent = true"};
  }
  if (value) {
    if (const std::string problem = valueProblem(record->type, *value); !problem.empty()) {
      return Error{"param 'value' " + problem, ""};
    }
  }
  process::PosixRunner runner;
  auto answers = queryRecords(record->server, runner, record->fqdn, record->type);
  if (!answers) {
    return answers.error();
  }
  const std::string what = record->fqdn + " " + record->type + " at " + record->server.where();
  if (absent && !answers->empty()) {
    return Error{what + " should be absent but the server answers " + listed(*answers),
                 "delete the record (delete_record), or wait for the change to reach it"};
  }
  if (value) {
    const std::string expected = normalized(record->type, *value);
    if (answers->size() != 1 || answers->front() != expected) {
      return Error{what + " should be exactly [\"" + expected + "\"] but the server answers " +
                       listed(*answers),
                   "set it with set_record, or check which server the target names"};
    }
  }
  if (!absent && !value && answers->empty()) {
    return Error{what + " has no record", "set it with set_record"};
  }
  ActionResult result;
  result.outputs["fqdn"] = record->fqdn;
  result.outputs["answers"] = toArray(*answers);
  return result;
}

}  // namespace lifeboat::dns_plugin
