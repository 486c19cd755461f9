#pragma once
// Making messages: the facts of an incident, the plan's rules and
// templates, the routing of an audience (drill channels, held, approval)
// and the cadence bookkeeping. Runs inside the caller's transaction.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/comms/message.hpp"
#include "lifeboat/comms/plan.hpp"
#include "outbox.hpp"

namespace lifeboat::comms::detail {

// What happened, beyond the incident's own state.
struct Occasion {
  Trigger trigger = Trigger::opened;
  // Makes the dedup key unique per occasion: a step id, an objective, the
  // event's store id, a cadence period.
  std::string discriminator{};
  Facts extra{};  // step, decision, options, message, objective
  // notify: only this audience, and this text when no template is named.
  std::optional<std::string> audience{};
  std::optional<TemplateText> text{};
};

class Composer {
 public:
  Composer(const Plan& plan, std::string statusPageUrl)
      : plan_(plan), statusPageUrl_(std::move(statusPageUrl)) {}

  Facts facts(const Incident& incident, std::int64_t now, std::string_view audience,
              Connection& db) const;

  // Queues the messages the rules make for `occasion`; returns how many
  // were new (a replayed occasion makes none).
  std::size_t announce(Connection& db, const Incident& incident, const Occasion& occasion,
                       std::int64_t now) const;

  // A message to a role of the plan (incident commander, spokesperson) on
  // its channels: missed updates, failing channels, approvals waiting.
  std::size_t alertRole(Connection& db, std::string_view role, const Incident* incident,
                        std::string_view kind, std::string_view discriminator,
                        const std::string& subject, const std::string& body,
                        std::int64_t now) const;

  // Starts the cadence of every audience with `every` for a new incident.
  void startCadence(Connection& db, const Incident& incident, std::int64_t now) const;

  // A message left the outbox (sent, published or held in a drill).
  static void delivered(Connection& db, const MessageRow& row, std::int64_t now);

  const Plan& plan() const { return plan_; }

 private:
  std::size_t queue(Connection& db, const Incident& incident, const AudienceSpec& audience,
                    const Occasion& occasion, const TemplateText& text, std::int64_t now) const;
  std::vector<const RuleSpec*> rulesFor(const Occasion& occasion) const;
  // A resolved incident closes the pages its role alerts opened on
  // PagerDuty (a `resolve` with the incident's dedup key).
  std::size_t resolveRolePages(Connection& db, const Incident& incident, std::int64_t now) const;

  const Plan& plan_;
  std::string statusPageUrl_;
};

// The facts' written forms (formatFactDuration, formatFactTime) from
// milliseconds; a negative duration counts as 0.
std::string humanDuration(std::int64_t millis);
// A drill message's subject and body carry the drill marking; these add it
// when it is missing (an edited text keeps it).
std::string markDrillSubject(std::string subject);
std::string markDrillBody(std::string body);
std::string humanTime(std::int64_t millis);

}  // namespace lifeboat::comms::detail
