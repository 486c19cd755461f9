#pragma once
// The communication plan (docs/communications.md): who is told what, on
// which channels, how often, and who must approve it. One TOML file named by
// the coordinator's config (`[comms] plan = "..."`); loadPlan() reports every
// problem at once as `file:line:col: error: ...`.
//
// Secrets (webhook URLs, HMAC keys, routing keys, SMTP passwords) are kept
// here as the reference the plan wrote (`${secret:env:NAME}`,
// `${secret:file:PATH}`) or as a literal; resolveSecret() reads them at
// delivery time. A Plan never holds a resolved secret.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/common/duration.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::comms {

// The built-in channel every audience may list: the coordinator's public
// status page (HTML, JSON, Atom).
inline constexpr std::string_view kStatusPageChannel = "status_page";

enum class ChannelKind { slack, teams, webhook, email, pagerduty };
std::string_view channelKindName(ChannelKind kind);

struct ChannelSpec {
  std::string name;
  ChannelKind kind = ChannelKind::webhook;
  SourceLocation where{};
  // slack, teams, webhook: the endpoint; pagerduty: the Events API v2
  // enqueue URL (default https://events.pagerduty.com/v2/enqueue). May be a
  // secret reference (a Slack webhook URL is a credential).
  std::string url{};
  // webhook: the HMAC-SHA256 key; pagerduty: the integration's routing key.
  // A secret reference or a literal.
  std::string secret{};
  // email: smtp://host:port (STARTTLS, required) or smtps://host:port.
  std::string smtpUrl{};
  std::string from{};
  std::vector<std::string> to{};
  std::string username{};
  std::string password{};  // secret reference or literal
  // Trust for TLS (HTTPS endpoints, SMTP): a PEM CA file; "" = system store.
  std::string caFile{};
  // pagerduty: payload.severity (critical, error, warning, info).
  std::string severity = "critical";
  // Delivery: at most `perMinute` messages a minute to this channel; each
  // attempt gives up after `timeout`; after `giveUpAfter` of failures the
  // message is marked failed and the incident commander is told.
  double perMinute = 30;
  Milliseconds timeout{10'000};
  Milliseconds giveUpAfter{std::chrono::hours(1)};
};

struct AudienceSpec {
  std::string name;
  SourceLocation where{};
  std::vector<std::string> channels{};  // [channels] names or kStatusPageChannel
  // In a drill: these channels instead; empty = messages are held (recorded
  // and shown in the drill report, never sent).
  std::vector<std::string> drillChannels{};
  // drill = "real": a drill's messages go to `channels` (the plan says so
  // explicitly; default false).
  bool drillUsesRealChannels = false;
  bool external = false;  // customer-facing
  // Messages wait for the spokesperson's approval (or edit) before they go.
  bool approval = false;
  // While an incident is open: an update at least this often, even when
  // nothing changed. nullopt: only event-driven messages.
  std::optional<Milliseconds> every{};
};

struct TemplateText {
  SourceLocation where{};
  std::string subject{};  // one line; `{{fact}}` placeholders
  std::string body{};     // `{{fact}}` placeholders
};

struct TemplateSpec {
  std::string name;
  TemplateText text{};                               // the default
  std::map<std::string, TemplateText> byAudience{};  // [templates.NAME.AUDIENCE]
  // The text for `audience`: its own variant, else the default.
  const TemplateText& forAudience(std::string_view audience) const;
};

// What makes a message (docs/communications.md, "Rules").
enum class Trigger {
  opened,     // run.started of a run, or outage.declared: an incident opens
  milestone,  // step.finished (ok) of one of the rule's `steps`
  breached,   // objective.evaluated with verdict "breached"
  decision,   // decision.requested: a decision is needed
  restored,   // step.finished (ok) of a step with restores_service
  resolved,   // run.finished: the incident closes
  update,     // the audience's cadence came due
  notify,     // a runbook's notify step (notify.requested)
};
std::string_view triggerName(Trigger trigger);
std::optional<Trigger> parseTrigger(std::string_view name);

struct RuleSpec {
  SourceLocation where{};
  Trigger on = Trigger::opened;
  std::vector<std::string> audiences{};
  std::string templateName{};        // [templates] name
  std::vector<std::string> steps{};  // milestone: which steps; empty = none
};

// A role of the plan: incident_commander, spokesperson, approver.
struct RoleSpec {
  std::string role;
  SourceLocation where{};
  std::string person{};  // display name
  std::string email{};
  std::vector<std::string> channels{};  // where alerts to this role go
  // The coordinator API token names (docs/coordinator.md) that act as this
  // role: a spokesperson approves customer messages with one of them.
  std::vector<std::string> tokens{};
};

struct ServiceSpec {
  std::string name;  // the runbook's `service`
  std::string displayName{};
  std::string impact{};  // what users notice, for {{impact}}
};

struct StatusPageSpec {
  std::string title = "Service status";
  // Services shown publicly; empty = every service an external audience hears of.
  std::vector<std::string> services{};
};

struct Plan {
  std::map<std::string, ChannelSpec> channels;
  std::map<std::string, AudienceSpec> audiences;
  std::map<std::string, TemplateSpec> templates;
  std::vector<RuleSpec> rules;
  std::map<std::string, RoleSpec> roles;
  std::map<std::string, ServiceSpec> services;
  StatusPageSpec statusPage;
};

// Parses and checks a plan. Every problem goes to `sink` (unknown keys with
// did-you-mean, unknown channel/audience/template names, placeholders that
// name no fact, `${secret:...}` inside templates, bad durations). Returns
// nullopt when there were errors.
std::optional<Plan> parsePlan(std::string_view text, DiagnosticSink& sink);

// Reads `file` (input guard: size, UTF-8) and parses it; the Error's message
// holds every diagnostic formatted `file:line:col: error: ...`, one per line.
Result<Plan> loadPlan(const std::filesystem::path& file);

// `${secret:env:NAME}` -> the variable's value, `${secret:file:PATH}` -> the
// file's content (one trailing newline removed), anything else as written.
// Errors name the reference, never a value.
Result<std::string> resolveSecret(std::string_view value);

}  // namespace lifeboat::comms
