#include "server_state.hpp"

#include <array>
#include <charconv>
#include <optional>

#include "lifeboat/common/text.hpp"

namespace lifeboat::haproxy_plugin {
namespace {

// srv_admin_state bits (HAProxy 2.6). 0x04 (disabled by the configuration)
// stays set after `set server ... state ready` and alone does not mean
// maintenance; HAProxy's own "in maintenance" mask is forced | inherited |
// resolution.
constexpr int kAdminForcedMaint = 0x01;
constexpr int kAdminInheritedMaint = 0x02;
constexpr int kAdminResolutionMaint = 0x20;
constexpr int kAdminMaintMask = kAdminForcedMaint | kAdminInheritedMaint | kAdminResolutionMaint;
constexpr int kAdminForcedDrain = 0x08;
constexpr int kAdminInheritedDrain = 0x10;
constexpr int kAdminDrainMask = kAdminForcedDrain | kAdminInheritedDrain;

// srv_check_state bits.
constexpr int kCheckConfigured = 0x02;

// srv_check_status numbers (HAProxy 2.6's HCHK_STATUS_* in declaration order).
constexpr std::array<std::string_view, 21> kCheckStatusNames = {
    "UNK",     "INI",   "START",  "CHECKED", "HANA",    "SOCKERR",  "L4OK",
    "L4TOUT",  "L4CON", "L6OK",   "L6TOUT",  "L6RSP",   "L7TOUT",   "L7RSP",
    "L57DATA", "L7OKD", "L7OKCD", "L7STS",   "PROCERR", "PROCTOUT", "PROCOK"};
constexpr int kCheckStatusUnknown = 0;
constexpr int kCheckStatusInitializing = 1;
constexpr int kCheckResultPassed = 3;
constexpr int kCheckResultConditionallyPassed = 4;

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (start <= line.size()) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    if (end > start) {
      fields.push_back(line.substr(start, end - start));
    }
    start = end + 1;
  }
  return fields;
}

std::optional<int> toInt(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string firstLine(std::string_view text) {
  const std::size_t end = text.find('\n');
  std::string line(text.substr(0, end));
  return line.empty() ? std::string("(an empty reply)") : line;
}

}  // namespace

std::string_view adminStateName(AdminState state) {
  switch (state) {
    case AdminState::ready:
      return "ready";
    case AdminState::maint:
      return "maint";
    case AdminState::drain:
      return "drain";
  }
  return "unknown";
}

std::string_view operationalStateName(OperationalState state) {
  switch (state) {
    case OperationalState::down:
      return "down";
    case OperationalState::starting:
      return "starting";
    case OperationalState::up:
      return "up";
    case OperationalState::stopping:
      return "stopping";
  }
  return "unknown";
}

bool ServerState::provenUp() const {
  if (operational != OperationalState::up) {
    return false;
  }
  if (!hasCheck) {
    return true;
  }
  return checkStatus != kCheckStatusUnknown && checkStatus != kCheckStatusInitializing &&
         (checkResult == kCheckResultPassed || checkResult == kCheckResultConditionallyPassed);
}

std::string ServerState::checkText() const {
  if (!hasCheck) {
    return "disabled";
  }
  if (checkStatus == kCheckStatusUnknown || checkStatus == kCheckStatusInitializing) {
    return "enabled";
  }
  if (checkStatus > 0 && static_cast<std::size_t>(checkStatus) < kCheckStatusNames.size()) {
    return std::string(kCheckStatusNames[static_cast<std::size_t>(checkStatus)]);
  }
  return "status " + std::to_string(checkStatus);
}

Result<std::vector<ServerState>> parseServersState(std::string_view reply,
                                                   std::string_view backend) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < reply.size()) {
    std::size_t end = reply.find('\n', start);
    if (end == std::string_view::npos) {
      end = reply.size();
    }
    lines.push_back(reply.substr(start, end - start));
    start = end + 1;
  }
  if (lines.empty() || lines[0] != "1") {
    const std::string said = firstLine(reply);
    if (said.starts_with("Can't find backend")) {
      return Error{"HAProxy has no backend " + inQuotes(backend) + " (it answered: " + said + ")",
                   "check the target's 'backend' against the backend sections of haproxy.cfg"};
    }
    if (said.starts_with("Permission denied")) {
      return Error{"HAProxy refused 'show servers state' (" + said + ")",
                   "the stats socket needs 'level admin' in haproxy.cfg"};
    }
    return Error{"unexpected answer to 'show servers state " + std::string(backend) + "': " + said,
                 "this plugin understands HAProxy 2.x's format version 1"};
  }
  if (lines.size() < 2 || !lines[1].starts_with("# ")) {
    return Error{"the answer to 'show servers state' has no '#' header line", ""};
  }
  const std::vector<std::string_view> header = splitFields(lines[1].substr(2));
  const auto column = [&header](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t index = 0; index < header.size(); ++index) {
      if (header[index] == name) {
        return index;
      }
    }
    return std::nullopt;
  };
  const std::array<std::string_view, 9> needed = {
      "be_name",          "srv_name",         "srv_addr",        "srv_op_state", "srv_admin_state",
      "srv_check_status", "srv_check_result", "srv_check_state", "srv_port"};
  std::array<std::size_t, needed.size()> at{};
  for (std::size_t index = 0; index < needed.size(); ++index) {
    const auto found = column(needed[index]);
    if (!found) {
      return Error{"the answer to 'show servers state' has no column " + inQuotes(needed[index]),
                   "this plugin understands HAProxy 2.x's format version 1"};
    }
    at[index] = *found;
  }

  std::vector<ServerState> servers;
  for (std::size_t index = 2; index < lines.size(); ++index) {
    if (lines[index].empty() || lines[index].starts_with("#")) {
      continue;
    }
    const std::vector<std::string_view> fields = splitFields(lines[index]);
    if (fields.size() < header.size()) {
      return Error{
          "malformed row in the answer to 'show servers state': " + std::string(lines[index]), ""};
    }
    if (fields[at[0]] != backend) {
      continue;
    }
    const auto operational = toInt(fields[at[3]]);
    const auto admin = toInt(fields[at[4]]);
    const auto checkStatus = toInt(fields[at[5]]);
    const auto checkResult = toInt(fields[at[6]]);
    const auto checkState = toInt(fields[at[7]]);
    const auto port = toInt(fields[at[8]]);
    if (!operational || !admin || !checkStatus || !checkResult || !checkState || !port ||
        *operational < 0 || *operational > 3) {
      return Error{
          "malformed numbers in the answer to 'show servers state': " + std::string(lines[index]),
          ""};
    }
    ServerState server;
    server.name = std::string(fields[at[1]]);
    server.address = std::string(fields[at[2]]);
    server.port = *port;
    server.admin = (*admin & kAdminMaintMask) != 0   ? AdminState::maint
                   : (*admin & kAdminDrainMask) != 0 ? AdminState::drain
                                                     : AdminState::ready;
    server.operational = static_cast<OperationalState>(*operational);
    server.hasCheck = (*checkState & kCheckConfigured) != 0;
    server.checkStatus = *checkStatus;
    server.checkResult = *checkResult;
    servers.push_back(std::move(server));
  }
  return servers;
}

}  // namespace lifeboat::haproxy_plugin
