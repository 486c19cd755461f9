#pragma once
// The typed model of a runbook (docs/runbook-reference.md is the contract).
// A Runbook is only ever produced by loadRunbook() (load.hpp), which has
// checked everything the types cannot say: ids unique, `after` names known
// steps, no cycles, references resolvable, plugin parameters valid, policy
// respected. Every user-written element keeps where it was written so later
// stages (engine, reports) can point back at the file.
//
// Values that may contain references (`${vars.X}`, `${secret:env:NAME}`, ...)
// are kept as written: they are resolved at run time, and secrets never are
// before then (see references.hpp).

#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"

namespace lifeboat::runbook {

using Milliseconds = std::chrono::milliseconds;

struct Metadata {
  std::string name;         // required; [a-z0-9][a-z0-9_.-]*
  std::string service;      // required; the lock and the coordinator group by it
  std::string owner;        // optional; who is paged about this runbook
  std::string description;  // optional
  SourceLocation where;
};

struct Objectives {
  std::optional<Milliseconds> rto;  // outage start -> last restores_service step ok
  std::optional<Milliseconds> rpo;  // data-loss window, from steps with measures = "rpo"
  SourceLocation rtoWhere;          // line 0 when not written
  SourceLocation rpoWhere;
};

struct Policy {
  bool automatic = false;                   // may a trigger start it without a human?
  std::vector<std::string> dataResidency;   // globs every target region must match
  int maxParallel = 4;                      // steps running at once
  Milliseconds defaultTimeout{5 * 60'000};  // for steps without `timeout`
  std::optional<Milliseconds> runTimeout;   // whole run; none = unlimited
  bool drillMayTouchProduction = false;
  SourceLocation where;
};

// [targets.NAME]: something steps act on. `plugin` is optional: a target
// without one is only a name, a region and a production flag that exec and
// http steps refer to for drill safety.
struct Target {
  std::string name;
  std::string plugin;
  std::string region;
  bool production = false;
  std::string description;
  // The remaining keys, passed to the plugin as the request's "target"
  // (checked against the plugin's described target parameters).
  boost::json::object fields;
  std::vector<std::pair<std::string, SourceLocation>> fieldLocations;
  SourceLocation where;
  SourceLocation pluginWhere;
  SourceLocation regionWhere;
};

enum class TriggerKind { http, tcp, exec, plugin, alertmanager };

// [[trigger]]: how `lifeboat watch` detects an outage (acted on by the watch
// daemon; parsed and validated here).
struct Trigger {
  TriggerKind kind = TriggerKind::http;
  // http
  std::string url;
  std::string method = "GET";
  int expectStatus = 200;
  // tcp
  std::string host;
  int port = 0;
  // exec: healthy when it exits 0
  std::vector<std::string> command;
  // plugin: a probe action of a target's plugin, run with op "check"
  std::string target;
  std::string action;
  boost::json::object with;
  // alertmanager: fires when a webhook delivers a firing alert matching all labels
  std::string alertname;
  std::vector<std::pair<std::string, std::string>> matchLabels;
  // thresholds (not used by alertmanager)
  Milliseconds interval{10'000};
  Milliseconds timeout{5'000};
  int failures = 3;                    // consecutive failed checks that declare an outage
  int recoveries = 2;                  // consecutive good checks that end it
  Milliseconds cooldown{10 * 60'000};  // after a failover, ignore this trigger for so long
  SourceLocation where;
};

enum class StepKind { exec, http, plugin, decision, notify };
enum class OnFailure { abort, continueRun, rollback };
enum class When { always, drill, real };
enum class Measures { none, rpo };

struct ExecSpec {
  std::vector<std::string> argv;  // exec = ["cmd", "arg"] or exec = { argv = [...] }
  std::vector<std::pair<std::string, std::string>> environment;
  std::string workingDirectory;
  bool shell = false;  // argv = ["script text"] run by /bin/sh -c; off by default
};

struct HttpSpec {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<int> expectStatus{200};
  std::string expectBody;  // substring the response body must contain; empty = any
  std::string caFile;
  std::string clientCertificate;
  std::string clientKey;
  bool insecureSkipVerify = false;
};

struct PluginActionSpec {
  std::string target;  // a key of [targets]
  std::string action;
  SourceLocation targetWhere;
  SourceLocation actionWhere;
  boost::json::object with;
  std::vector<std::pair<std::string, SourceLocation>> withLocations;
};

struct DecisionOption {
  std::string id;
  std::string label;
  std::string impact;  // what choosing it costs or risks (shown to the approver)
};

struct DecisionSpec {
  std::string question;
  std::vector<DecisionOption> options;
  std::vector<std::string> approvers;  // names or roles allowed to choose (at least one)
  std::optional<Milliseconds> deadline;
  std::string defaultOption;  // taken when the deadline passes; requires `deadline`
  bool requireRationale = true;
};

struct NotifySpec {
  std::string audience;
  std::string templateName;
  std::string message;  // inline text when no template
};

using StepAction = std::variant<ExecSpec, HttpSpec, PluginActionSpec, DecisionSpec, NotifySpec>;

// `wait = { within = "60s", every = "1s" }`: repeat the step's check until it
// passes or `within` expires.
struct WaitModifier {
  Milliseconds within{0};
  Milliseconds every{1'000};
};

struct RetryPolicy {
  int attempts = 1;  // total tries, the first included
  Milliseconds backoff{1'000};
  double multiplier = 2.0;  // backoff grows by this factor each retry
  Milliseconds maxBackoff{60'000};
  bool jitter = true;
};

// What undoes a completed step when a later failure rolls the run back:
// a plugin action (target + action + with) or an exec command.
struct RollbackSpec {
  std::variant<PluginActionSpec, ExecSpec> action;
  SourceLocation where;
};

struct Step {
  std::string id;
  std::string name;  // human label; defaults to id
  StepKind kind = StepKind::exec;
  StepAction action;
  std::string target;  // for plugin steps the acted-on target; for exec/http what they touch
  std::vector<std::string> after;
  std::vector<SourceLocation> afterLocations;
  std::optional<Milliseconds> timeout;  // none = policy.default_timeout
  RetryPolicy retry;
  OnFailure onFailure = OnFailure::abort;
  std::optional<RollbackSpec> rollback;
  When when = When::always;
  bool cleanup = false;
  bool idempotent = false;
  bool restoresService = false;
  Measures measures = Measures::none;
  std::optional<WaitModifier> wait;
  SourceLocation where;
  SourceLocation kindWhere;  // the key that chose the kind (exec, http, action, ...)
  SourceLocation targetWhere;
  SourceLocation measuresWhere;

  Milliseconds effectiveTimeout(const Policy& policy) const {
    return timeout.value_or(policy.defaultTimeout);
  }
};

struct Runbook {
  std::string path;    // as given on the command line
  std::string sha256;  // of the file's bytes; the journal records it
  Metadata metadata;
  Objectives objectives;
  Policy policy;
  std::vector<std::pair<std::string, std::string>> variables;  // [vars], after --var overrides
  std::vector<Target> targets;
  std::vector<Trigger> triggers;
  std::vector<Step> steps;  // in file order

  const Target* findTarget(std::string_view name) const;
  const Step* findStep(std::string_view id) const;
};

std::string_view stepKindName(StepKind kind);
std::string_view whenName(When when);
std::string_view onFailureName(OnFailure onFailure);
std::string_view triggerKindName(TriggerKind kind);

}  // namespace lifeboat::runbook
