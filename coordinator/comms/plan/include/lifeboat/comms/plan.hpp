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
std::optional<ChannelKind> parseChannelKind(std::string_view name);

// A pagerduty channel without `url` sends here.
inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";

struct ChannelSpec {
  std::string name;
  ChannelKind kind = ChannelKind::webhook;
  SourceLocation where{};
  // slack, teams, webhook: the endpoint; pagerduty: the Events API v2
  // enqueue URL (default kPagerDutyEventsUrl). May be a secret reference (a
  // Slack webhook URL is a credential); a literal is http:// or https://.
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
  // Trust for TLS (HTTPS endpoints, SMTP): a PEM CA file (absolute path);
  // "" = system store.
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
  // [channels] names, or kStatusPageChannel (external audiences only).
  std::vector<std::string> channels{};
  // In a drill (drill = "drill_channels", the default when drill_channels is
  // written): these channels instead; empty = messages are held (drill =
  // "held": recorded and shown in the drill report, never sent). Never
  // holds kStatusPageChannel.
  std::vector<std::string> drillChannels{};
  // drill = "real": a drill's messages go to `channels` (the plan says so
  // explicitly; default false). drillChannels is then empty.
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
  TemplateText text{};  // the default
  // [templates.NAME.AUDIENCE]; a key the variant leaves out is the default's.
  std::map<std::string, TemplateText> byAudience{};
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
  std::vector<std::string> steps{};  // milestone only: step ids (never empty)
};

// A role of the plan: incident_commander (required; alerts about missed
// updates and failing channels go to its channels), spokesperson (required
// when an audience has approval), approver.
struct RoleSpec {
  std::string role;
  SourceLocation where{};
  std::string person{};  // display name
  std::string email{};
  std::vector<std::string> channels{};  // where alerts to this role go (no status page)
  // The coordinator API token names (docs/coordinator.md) that act as this
  // role: a spokesperson approves customer messages with one of them.
  std::vector<std::string> tokens{};
};

struct ServiceSpec {
  std::string name;           // the runbook's `service`
  std::string displayName{};  // default: the name
  std::string impact{};       // what users notice, for {{impact}}; "" = not written
};

struct StatusPageSpec {
  std::string title = "Service status";
  // Services shown publicly; empty = every service an external audience hears of.
  std::vector<std::string> services{};
};

// Names the plan's tables use for roles.
inline constexpr std::string_view kIncidentCommander = "incident_commander";
inline constexpr std::string_view kSpokesperson = "spokesperson";
inline constexpr std::string_view kApprover = "approver";

struct Plan {
  std::map<std::string, ChannelSpec> channels;
  std::map<std::string, AudienceSpec> audiences;
  std::map<std::string, TemplateSpec> templates;
  std::vector<RuleSpec> rules;
  std::map<std::string, RoleSpec> roles;
  std::map<std::string, ServiceSpec> services;
  StatusPageSpec statusPage;
};

// Parses and checks a plan (docs/communications.md, "Validation"). Every
// problem goes to `sink` (unknown keys with did-you-mean, unknown
// channel/audience/template/role names, placeholders that name no fact,
// `${secret:...}` inside templates, bad durations, ...); doubtful but
// workable things are warnings. Returns nullopt when there were errors.
// Error texts never quote a value that may be a secret (url, secret,
// password).
std::optional<Plan> parsePlan(std::string_view text, DiagnosticSink& sink);

// Reads `file` (input guard: 1 MiB, UTF-8) and parses it; the Error's
// message holds every error formatted `file:line:col: error: ...`, one per
// line. Warnings, formatted the same way, go to `warnings` when given.
Result<Plan> loadPlan(const std::filesystem::path& file,
                      std::vector<std::string>* warnings = nullptr);

// True when `value` is exactly one secret reference (`${secret:env:NAME}`
// with NAME letters, digits and '_', not starting with a digit, or
// `${secret:file:/absolute/path}`).
bool isSecretReference(std::string_view value);

// `${secret:env:NAME}` -> the variable's value, `${secret:file:PATH}` -> the
// file's content (one trailing newline removed; at most 64 KiB), a value
// without `${` as written. Errors: an unset or empty variable, an unreadable,
// empty or too large file, a value with `${` that is not exactly one
// reference. Errors name the reference, never a value.
Result<std::string> resolveSecret(std::string_view value);

}  // namespace lifeboat::comms
