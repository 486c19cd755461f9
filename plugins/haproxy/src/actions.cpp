#include "actions.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <initializer_list>
#include <thread>

#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/text.hpp"
#include "runtime_api.hpp"
#include "server_state.hpp"

namespace lifeboat::haproxy_plugin {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// How often `switch` looks at the new server while it waits for it to be up.
constexpr std::chrono::milliseconds kPollInterval{100};

// One backend behind one runtime-API socket: what every action works on.
class Backend {
 public:
  Backend(std::string socket, std::string name, std::chrono::milliseconds timeout)
      : api_(std::move(socket), timeout), name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  std::string serverPath(std::string_view server) const {
    return name_ + "/" + std::string(server);
  }

  Result<std::vector<ServerState>> servers() const {
    auto reply = api_.send("show servers state " + name_);
    if (!reply) {
      return reply.error();
    }
    return parseServersState(*reply, name_);
  }

  // Runs a command whose success reply is empty or starts with one of
  // `fine`; anything else is HAProxy refusing it.
  std::optional<Error> run(const std::string& command,
                           std::initializer_list<std::string_view> fine = {}) const {
    auto reply = api_.send(command);
    if (!reply) {
      return reply.error();
    }
    std::string text = *reply;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    if (text.empty()) {
      return std::nullopt;
    }
    for (std::string_view prefix : fine) {
      if (text.starts_with(prefix)) {
        return std::nullopt;
      }
    }
    std::string hint = "check the backend and server names against haproxy.cfg";
    if (text.starts_with("Permission denied")) {
      hint = "the stats socket needs 'level admin' in haproxy.cfg";
    }
    return Error{"HAProxy refused '" + command + "' on " + api_.socketPath() + ": " + text,
                 std::move(hint)};
  }

 private:
  RuntimeApi api_;
  std::string name_;
};

Result<Backend> backendOf(const Request& request) {
  const std::string timeoutText = request.targetString("timeout").value_or("2s");
  auto timeout = parseDuration(timeoutText);
  if (!timeout) {
    return Error{"target 'timeout': " + timeout.error().message, timeout.error().hint};
  }
  return Backend(request.targetString("socket").value_or(""),
                 request.targetString("backend").value_or(""), *timeout);
}

std::string serverNames(const std::vector<ServerState>& servers) {
  std::string names;
  for (const ServerState& server : servers) {
    names += names.empty() ? "" : ", ";
    names += server.name;
  }
  return names.empty() ? "none" : names;
}

Result<const ServerState*> findServer(const std::vector<ServerState>& servers,
                                      const Backend& backend, std::string_view name) {
  for (const ServerState& server : servers) {
    if (server.name == name) {
      return &server;
    }
  }
  return Error{"backend " + inQuotes(backend.name()) + " has no server " + inQuotes(name) +
                   " (its servers: " + serverNames(servers) + ")",
               "check the server name against the backend's server lines in haproxy.cfg"};
}

json::array activeNames(const std::vector<ServerState>& servers) {
  json::array names;
  for (const ServerState& server : servers) {
    if (server.active()) {
      names.emplace_back(server.name);
    }
  }
  return names;
}

json::object describeServers(const std::vector<ServerState>& servers) {
  json::object all;
  for (const ServerState& server : servers) {
    all[server.name] = json::object{
        {"address", server.address},
        {"port", server.port},
        {"admin", adminStateName(server.admin)},
        {"operational", operationalStateName(server.operational)},
        {"check", server.checkText()},
    };
  }
  return all;
}

std::string describeServer(const ServerState& server) {
  return std::string(adminStateName(server.admin)) + ", " +
         std::string(operationalStateName(server.operational)) + ", check " + server.checkText();
}

std::string utcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(millis));
  return text;
}

std::string stateCommand(const Backend& backend, std::string_view server, std::string_view state) {
  return "set server " + backend.serverPath(server) + " state " + std::string(state);
}

// Puts `server` in maintenance and closes the sessions it still holds, so
// their clients reconnect (to whichever server is ready now).
std::optional<Error> takeOut(const Backend& backend, const ServerState& server) {
  if (server.admin != AdminState::maint) {
    if (auto error = backend.run(stateCommand(backend, server.name, "maint"))) {
      return error;
    }
  }
  return backend.run("shutdown sessions server " + backend.serverPath(server.name));
}

}  // namespace

Result<ActionResult> showStatus(const Request& request, Reporter&) {
  auto backend = backendOf(request);
  if (!backend) {
    return backend.error();
  }
  auto servers = backend->servers();
  if (!servers) {
    return servers.error();
  }
  ActionResult result;
  result.outputs["servers"] = describeServers(*servers);
  result.outputs["active"] = activeNames(*servers);
  return result;
}

Result<ActionResult> switchServer(const Request& request, Reporter& reporter) {
  auto backend = backendOf(request);
  if (!backend) {
    return backend.error();
  }
  const std::string to = request.stringParam("to").value_or("");
  const std::string others = request.stringParam("others").value_or("maint");
  auto waitUp = parseDuration(request.stringParam("wait_up").value_or("5s"));
  if (!waitUp) {
    return Error{"param 'wait_up': " + waitUp.error().message, waitUp.error().hint};
  }
  auto before = backend->servers();
  if (!before) {
    return before.error();
  }
  auto target = findServer(*before, *backend, to);
  if (!target) {
    return target.error();
  }
  const AdminState targetWas = (*target)->admin;
  json::array previous = activeNames(*before);

  if (targetWas != AdminState::ready) {
    reporter.progress("setting " + backend->serverPath(to) + " ready (was " +
                      std::string(adminStateName(targetWas)) + ")");
    if (auto error = backend->run(stateCommand(*backend, to, "ready"))) {
      return *error;
    }
  }
  const auto deadline = Clock::now() + *waitUp;
  ServerState last = **target;
  for (;;) {
    auto now = backend->servers();
    if (!now) {
      return now.error();
    }
    auto found = findServer(*now, *backend, to);
    if (!found) {
      return found.error();
    }
    last = **found;
    if (last.provenUp()) {
      break;
    }
    if (Clock::now() >= deadline) {
      std::string undone;
      if (targetWas != AdminState::ready) {
        // Leave the backend as it was: the others still serve.
        const auto restored = backend->run(stateCommand(*backend, to, adminStateName(targetWas)));
        undone = restored ? "; putting it back in " + std::string(adminStateName(targetWas)) +
                                " failed too: " + restored->message
                          : "; it was put back in " + std::string(adminStateName(targetWas));
      }
      return Error{
          "server " + backend->serverPath(to) + " (" + last.address + ":" +
              std::to_string(last.port) + ") did not come up within " + formatDuration(*waitUp) +
              " (now " + describeServer(last) + "); the other servers were left untouched" + undone,
          "check that the server listens on " + last.address + ":" + std::to_string(last.port) +
              " and passes its health check, or raise 'wait_up'"};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  reporter.progress(backend->serverPath(to) + " is up (" + describeServer(last) + ")");

  for (const ServerState& server : *before) {
    if (server.name == to) {
      continue;
    }
    if (others == "maint") {
      if (auto error = takeOut(*backend, server)) {
        return *error;
      }
    } else if (server.admin != AdminState::drain) {
      if (auto error = backend->run(stateCommand(*backend, server.name, "drain"))) {
        return *error;
      }
    }
    reporter.progress(backend->serverPath(server.name) + " set to " + others);
  }
  const std::string switchedAt = utcNow();
  auto after = backend->servers();
  if (!after) {
    return after.error();
  }
  ActionResult result;
  result.outputs["previous"] = std::move(previous);
  result.outputs["active"] = activeNames(*after);
  result.outputs["switched_at"] = switchedAt;
  return result;
}

namespace {

// Runs `apply` on the named server of the request's backend and reports the
// server's administrative state afterwards.
template <class Apply>
Result<ActionResult> changeServer(const Request& request, Apply apply) {
  auto backend = backendOf(request);
  if (!backend) {
    return backend.error();
  }
  const std::string name = request.stringParam("server").value_or("");
  auto servers = backend->servers();
  if (!servers) {
    return servers.error();
  }
  auto server = findServer(*servers, *backend, name);
  if (!server) {
    return server.error();
  }
  if (auto error = apply(*backend, **server)) {
    return *error;
  }
  auto after = backend->servers();
  if (!after) {
    return after.error();
  }
  auto changed = findServer(*after, *backend, name);
  if (!changed) {
    return changed.error();
  }
  ActionResult result;
  result.outputs["server"] = name;
  result.outputs["admin"] = adminStateName((*changed)->admin);
  result.outputs["address"] = (*changed)->address;
  result.outputs["port"] = (*changed)->port;
  result.outputs["previous_address"] = (*server)->address;
  result.outputs["previous_port"] = (*server)->port;
  return result;
}

}  // namespace

Result<ActionResult> drainServer(const Request& request, Reporter& reporter) {
  auto result = changeServer(request, [&](const Backend& backend, const ServerState& server) {
    reporter.progress("draining " + backend.serverPath(server.name));
    return backend.run(stateCommand(backend, server.name, "drain"));
  });
  if (result) {
    json::object& outputs = result->outputs;
    outputs = {{"server", outputs["server"]}, {"admin", outputs["admin"]}};
  }
  return result;
}

Result<ActionResult> disableServer(const Request& request, Reporter& reporter) {
  auto result = changeServer(request, [&](const Backend& backend, const ServerState& server) {
    reporter.progress("taking " + backend.serverPath(server.name) + " out (maint)");
    return takeOut(backend, server);
  });
  if (result) {
    json::object& outputs = result->outputs;
    outputs = {{"server", outputs["server"]}, {"admin", outputs["admin"]}};
  }
  return result;
}

Result<ActionResult> setAddress(const Request& request, Reporter& reporter) {
  const std::string address = request.stringParam("address").value_or("");
  const std::int64_t port = request.integerParam("port").value_or(0);
  if (port < 1 || port > 65535) {
    return Error{"param 'port' is " + std::to_string(port) + ", not a port (1 to 65535)",
                 "give the port the server should be reached on"};
  }
  auto result = changeServer(request, [&](const Backend& backend, const ServerState& server) {
    reporter.progress("pointing " + backend.serverPath(server.name) + " at " + address + ":" +
                      std::to_string(port));
    return backend.run("set server " + backend.serverPath(server.name) + " addr " + address +
                           " port " + std::to_string(port),
                       {"IP changed from", "no need to change", "port changed from"});
  });
  if (result) {
    json::object& outputs = result->outputs;
    outputs.erase("admin");
  }
  return result;
}

Result<ActionResult> verifyActive(const Request& request, Reporter&) {
  auto backend = backendOf(request);
  if (!backend) {
    return backend.error();
  }
  const std::string expected = request.stringParam("active").value_or("");
  const bool requireUp = request.boolParam("require_up").value_or(true);
  auto servers = backend->servers();
  if (!servers) {
    return servers.error();
  }
  auto server = findServer(*servers, *backend, expected);
  if (!server) {
    return server.error();
  }
  std::vector<std::string> problems;
  if ((*server)->admin != AdminState::ready) {
    problems.push_back(expected + " is " + std::string(adminStateName((*server)->admin)) +
                       ", not ready");
  } else if (requireUp && (*server)->operational != OperationalState::up) {
    problems.push_back(expected + " is ready but " +
                       std::string(operationalStateName((*server)->operational)) + " (check " +
                       (*server)->checkText() + ")");
  }
  for (const ServerState& other : *servers) {
    if (other.name != expected && other.admin == AdminState::ready) {
      problems.push_back(other.name + " is ready too (" + describeServer(other) + ")");
    }
  }
  if (!problems.empty()) {
    std::string message = "backend " + inQuotes(backend->name()) + " is not served by " +
                          inQuotes(expected) + " alone: ";
    for (std::size_t index = 0; index < problems.size(); ++index) {
      message += (index == 0 ? "" : "; ") + problems[index];
    }
    const json::array active = activeNames(*servers);
    message +=
        " (active now: " + (active.empty() ? std::string("none") : json::serialize(active)) + ")";
    return Error{std::move(message),
                 "run the switch action to " + expected + ", or look at 'status'"};
  }
  ActionResult result;
  result.outputs["servers"] = describeServers(*servers);
  result.outputs["active"] = activeNames(*servers);
  return result;
}

}  // namespace lifeboat::haproxy_plugin
