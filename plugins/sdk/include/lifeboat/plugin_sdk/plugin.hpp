#pragma once
// The plugin SDK: write a Lifeboat plugin (protocol v1, docs/plugins.md) by
// declaring it and registering one handler per action.
//
//   lifeboat::plugin_sdk::Plugin plugin(describeMyPlugin());
//   plugin.on("promote", [](const Request& request, Reporter& reporter) { ... });
//   return lifeboat::plugin_sdk::runMain(plugin);
//
// The SDK owns the protocol: it reads the one request from stdin, answers
// `describe` from the declaration, checks the action and every parameter
// against the schema (unknown names get a "did you mean", defaults are
// filled in), calls the handler, and writes the final line. A handler sees
// only requests that passed those checks. Single-threaded: a plugin process
// handles exactly one request.

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::plugin_sdk {

// Largest request a plugin reads from stdin.
inline constexpr std::size_t kMaxRequestBytes = 4 * 1024 * 1024;

// Exit statuses of a plugin process.
inline constexpr int kExitOk = 0;        // the final line is {"ok":true,...}
inline constexpr int kExitFailed = 1;    // the action ran (or the plugin is broken) and failed
inline constexpr int kExitRejected = 2;  // the request was refused before any action started

// Target fields every Lifeboat target has; the agent may send them in
// `target`, and they are never checked against the plugin's target schema.
inline constexpr std::string_view kCommonTargetFields[] = {"plugin", "region", "production",
                                                           "description"};

struct Context {
  std::string run;
  std::string step;
  bool drill = false;
  // The failover lock's fencing token as text (the agent may send a number).
  std::string fencingToken;
};

// One checked request. `target` and `params` hold every declared parameter
// that was given or has a default, with the declared type; nothing else.
struct Request {
  plugin::Operation operation = plugin::Operation::run;
  std::string action;
  boost::json::object target;
  boost::json::object params;
  Context context;

  // Typed access to checked values. The getters return the fallback when the
  // parameter is absent (optional without default); they never throw.
  std::optional<std::string> stringParam(std::string_view name) const;
  std::optional<bool> boolParam(std::string_view name) const;
  std::optional<std::int64_t> integerParam(std::string_view name) const;
  std::optional<double> numberParam(std::string_view name) const;
  std::optional<std::string> targetString(std::string_view name) const;
};

// What a successful action returns: becomes {"ok":true,"outputs":...,
// "measurements":...}. Outputs should match the action's declared outputs.
struct ActionResult {
  boost::json::object outputs;
  boost::json::object measurements;  // e.g. {"rpo_seconds": 2.5}
};

// Writes progress lines to the agent and log lines to stderr. Every text that
// leaves through it has the request's secret values replaced by "[redacted]".
class Reporter {
 public:
  Reporter(std::ostream& out, std::ostream& log, std::vector<std::string> secrets);

  // One {"progress": text} line on stdout, flushed at once.
  void progress(std::string_view text);
  // One line on stderr (the agent keeps it for the run's log).
  void log(std::string_view text);
  // `text` with every secret value replaced.
  std::string redact(std::string_view text) const;

 private:
  std::ostream& out_;
  std::ostream& log_;
  std::vector<std::string> secrets_;
};

// Errors are values: return lifeboat::Error{message, hint} to answer
// {"ok":false,...}. The SDK redacts secret values from both.
using Handler = std::function<Result<ActionResult>(const Request&, Reporter&)>;

// Checks the values of a request (`run` or `check`) beyond what the schema
// can say: a name that must not carry a newline, an address that must parse.
// Runs after the schema checks and before the handler; an Error refuses the
// request (exit status 2) with nothing done. The SDK redacts secret values.
using RequestCheck = std::function<std::optional<Error>(const Request&)>;

class Plugin {
 public:
  explicit Plugin(plugin::PluginDescription description);

  // Registers the handler of a declared action (replacing an earlier one).
  // A declared action without a handler, or a handler for an undeclared
  // action, makes every request fail with an error naming it.
  Plugin& on(std::string action, Handler handler);
  // Sets the check every run/check request passes before its handler
  // (replacing an earlier one).
  Plugin& checkRequests(RequestCheck check);

  const plugin::PluginDescription& description() const { return description_; }

  // Handles one request given as text, writes the protocol lines to `out` and
  // logs to `log`, and returns the process exit status. runMain is this with
  // stdin, stdout and stderr; tests call it directly.
  int handle(std::string_view requestText, std::ostream& out, std::ostream& log) const;

 private:
  std::optional<Error> checkRegistrations() const;

  plugin::PluginDescription description_;
  std::map<std::string, Handler, std::less<>> handlers_;
  RequestCheck requestCheck_;
};

// Reads one request from stdin (at most kMaxRequestBytes), handles it, and
// returns the exit status for main() to return.
int runMain(const Plugin& plugin);

}  // namespace lifeboat::plugin_sdk
