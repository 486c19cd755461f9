#pragma once
// The servers of one HAProxy backend as `show servers state BACKEND` reports
// them (HAProxy 2.6: a version line "1", a '#' header line naming the
// columns, then one row per server, fields separated by single spaces).

#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::haproxy_plugin {

// Administrative state, from the srv_admin_state bit field.
enum class AdminState { ready, maint, drain };
// Operational state, from srv_op_state: 0 stopped, 1 starting, 2 running,
// 3 stopping.
enum class OperationalState { down, starting, up, stopping };

std::string_view adminStateName(AdminState state);              // "ready", "maint", "drain"
std::string_view operationalStateName(OperationalState state);  // "down", "starting", ...

struct ServerState {
  std::string name;
  std::string address;
  int port = 0;
  AdminState admin = AdminState::ready;
  OperationalState operational = OperationalState::down;
  bool hasCheck = false;  // a health check is configured ("check" on the server line)
  int checkStatus = 0;    // srv_check_status (HAProxy's HCHK_STATUS_* number)
  int checkResult = 0;    // srv_check_result: 0 unknown, 1 neutral, 2 failed, 3 passed, 4 cond.

  // Takes new connections: ready (not maint, not drain) and running.
  bool active() const { return admin == AdminState::ready && operational == OperationalState::up; }
  // Running, and when it has a health check, the last check since it left
  // maintenance passed (right after `state ready` HAProxy may report it
  // running before its first check; that does not count).
  bool provenUp() const;
  // "disabled" (no check), "enabled" (configured, no result yet), or the last
  // check's status as HAProxy names it: "L4OK", "L4CON", "L7STS", ...
  std::string checkText() const;
};

// Parses the reply of `show servers state BACKEND`, keeping the rows of
// `backend`. An Error quotes HAProxy's own message for an unknown backend or
// a refused command, and says what was unexpected in a malformed reply.
Result<std::vector<ServerState>> parseServersState(std::string_view reply,
                                                   std::string_view backend);

}  // namespace lifeboat::haproxy_plugin
