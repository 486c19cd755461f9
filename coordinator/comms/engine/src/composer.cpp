#include "composer.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace lifeboat::comms::detail {

namespace {

constexpr std::string_view kDrillSubject = "[DRILL] ";
constexpr std::string_view kDrillBody =
    "DRILL: this message is part of a failover drill; no service was affected.\n\n";

std::string stateText(std::string_view state) {
  if (state == "failing_over") {
    return "failing over";
  }
  if (state == "failed") {
    return "failover failed";
  }
  return std::string(state);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += out.empty() ? "" : ",";
    out += item;
  }
  return out;
}

std::string factsJson(const Facts& facts) {
  boost::json::object object;
  for (const auto& [name, value] : facts) {
    object[name] = value;
  }
  return boost::json::serialize(object);
}

}  // namespace

std::string humanDuration(std::int64_t millis) {
  return formatFactDuration(Milliseconds{std::max<std::int64_t>(millis, 0)});
}

std::string markDrillSubject(std::string subject) {
  if (!subject.starts_with(kDrillSubject)) {
    subject.insert(0, kDrillSubject);
  }
  return subject;
}

std::string markDrillBody(std::string body) {
  if (!body.starts_with(kDrillBody)) {
    body.insert(0, kDrillBody);
  }
  return body;
}

std::string humanTime(std::int64_t millis) {
  return formatFactTime(fromMillis(millis));
}

Facts Composer::facts(const Incident& incident, std::int64_t now, std::string_view audience,
                      Connection& /*db*/) const {
  Facts facts;
  facts["incident"] = incident.key;
  facts["service"] = incident.service;
  facts["service_name"] = incident.service;
  facts["impact"] = "unknown";
  if (auto service = plan_.services.find(incident.service); service != plan_.services.end()) {
    if (!service->second.displayName.empty()) {
      facts["service_name"] = service->second.displayName;
    }
    if (!service->second.impact.empty()) {
      facts["impact"] = service->second.impact;
    }
  }
  facts["state"] = stateText(incident.state);
  facts["runbook"] = incident.runbook.empty() ? "unknown" : incident.runbook;
  facts["run"] = incident.run.empty() ? "none yet" : incident.run;
  facts["agent"] = incident.agent.empty() ? "unknown" : incident.agent;
  facts["drill"] = incident.drill ? "yes" : "no";
  facts["started_at"] = humanTime(incident.openedAt);
  const std::int64_t outageStart = incident.outageStart.value_or(incident.openedAt);
  facts["outage_start"] = humanTime(outageStart);
  const std::int64_t end = incident.restoredAt.value_or(incident.resolvedAt.value_or(now));
  facts["elapsed"] = humanDuration(end - outageStart);
  if (incident.rtoTargetMs) {
    facts["rto_target"] = humanDuration(*incident.rtoTargetMs);
    const std::int64_t left = *incident.rtoTargetMs - (end - outageStart);
    facts["rto_budget_left"] =
        left >= 0 ? humanDuration(left) : "none (exceeded by " + humanDuration(-left) + ")";
    facts["eta"] = humanTime(outageStart + *incident.rtoTargetMs);
  } else {
    facts["rto_target"] = "none";
    facts["rto_budget_left"] = "unknown";
    facts["eta"] = "unknown";
  }
  facts["rpo_target"] = incident.rpoTargetMs ? humanDuration(*incident.rpoTargetMs) : "none";
  facts["rpo_measured"] = incident.rpoMs ? humanDuration(*incident.rpoMs) : "not measured yet";
  facts["rto_measured"] = incident.rtoMs ? humanDuration(*incident.rtoMs) : "not measured yet";
  facts["next_update"] = "when there is news";
  if (auto spec = plan_.audiences.find(std::string(audience)); spec != plan_.audiences.end()) {
    if (spec->second.every && incident.state != "resolved") {
      facts["next_update"] = humanTime(now + spec->second.every->count());
    }
  }
  for (std::string_view role : {kIncidentCommander, kSpokesperson, kApprover}) {
    auto found = plan_.roles.find(std::string(role));
    facts[std::string(role)] = found != plan_.roles.end() && !found->second.person.empty()
                                   ? found->second.person
                                   : "unknown";
  }
  facts["status_page_url"] = statusPageUrl_.empty() ? "unknown" : statusPageUrl_;
  return facts;
}

std::vector<const RuleSpec*> Composer::rulesFor(const Occasion& occasion) const {
  std::vector<const RuleSpec*> rules;
  for (const RuleSpec& rule : plan_.rules) {
    if (rule.on != occasion.trigger) {
      continue;
    }
    if (rule.on == Trigger::milestone) {
      const auto step = occasion.extra.find("step");
      if (step == occasion.extra.end() ||
          std::find(rule.steps.begin(), rule.steps.end(), step->second) == rule.steps.end()) {
        continue;
      }
    }
    rules.push_back(&rule);
  }
  return rules;
}

std::size_t Composer::announce(Connection& db, const Incident& incident, const Occasion& occasion,
                               std::int64_t now) const {
  std::size_t made = 0;
  if (occasion.trigger == Trigger::resolved) {
    made += resolveRolePages(db, incident, now);
  }
  if (occasion.audience) {
    // A notify step: its audience gets the step's template when the plan
    // has it, else the template of the `notify` rule covering the audience,
    // else the step's own message.
    auto audience = plan_.audiences.find(*occasion.audience);
    if (audience == plan_.audiences.end()) {
      return 0;
    }
    const TemplateText* text = occasion.text ? &*occasion.text : nullptr;
    for (const RuleSpec* rule : rulesFor(occasion)) {
      if (std::find(rule->audiences.begin(), rule->audiences.end(), audience->first) !=
          rule->audiences.end()) {
        if (auto spec = plan_.templates.find(rule->templateName); spec != plan_.templates.end()) {
          text = &spec->second.forAudience(audience->first);
          break;
        }
      }
    }
    if (auto name = occasion.extra.find("template"); name != occasion.extra.end()) {
      if (auto spec = plan_.templates.find(name->second); spec != plan_.templates.end()) {
        text = &spec->second.forAudience(audience->first);
      }
    }
    return text != nullptr ? queue(db, incident, audience->second, occasion, *text, now) : 0;
  }
  for (const RuleSpec* rule : rulesFor(occasion)) {
    auto spec = plan_.templates.find(rule->templateName);
    for (const std::string& name : rule->audiences) {
      auto audience = plan_.audiences.find(name);
      if (audience == plan_.audiences.end() || spec == plan_.templates.end()) {
        continue;
      }
      made += queue(db, incident, audience->second, occasion,
                    spec->second.forAudience(audience->first), now);
    }
  }
  return made;
}

std::size_t Composer::queue(Connection& db, const Incident& incident, const AudienceSpec& audience,
                            const Occasion& occasion, const TemplateText& text,
                            std::int64_t now) const {
  // An update goes only to the audience whose cadence came due.
  if (occasion.trigger == Trigger::update) {
    auto due = occasion.extra.find("audience");
    if (due != occasion.extra.end() && due->second != audience.name) {
      return 0;
    }
  }
  Facts facts = this->facts(incident, now, audience.name, db);
  for (const auto& [name, value] : occasion.extra) {
    facts[name] = value;
  }
  std::string subject = render(text.subject, facts);
  std::string body = render(text.body, facts);
  if (incident.drill) {
    subject = markDrillSubject(std::move(subject));
    body = markDrillBody(std::move(body));
  }

  // Where it goes: a drill uses the drill channels, holds the messages, or
  // (drill = "real" in the plan) the real channels.
  struct Route {
    std::string channel;
    std::string state;
    std::string wouldGoTo;
  };
  std::vector<Route> routes;
  const std::string initial = audience.approval ? "awaiting_approval" : "pending";
  if (!incident.drill || audience.drillUsesRealChannels) {
    for (const std::string& channel : audience.channels) {
      routes.push_back({channel, initial, ""});
    }
  } else if (!audience.drillChannels.empty()) {
    for (const std::string& channel : audience.drillChannels) {
      routes.push_back({channel, initial, join(audience.channels)});
    }
  } else {
    for (const std::string& channel : audience.channels) {
      routes.push_back({channel, "held", channel});
    }
  }

  const std::string group = incident.key + "/" + std::string(triggerName(occasion.trigger)) + "/" +
                            occasion.discriminator + "/" + audience.name;
  std::size_t made = 0;
  bool awaitingApproval = false;
  for (const Route& route : routes) {
    MessageRow row;
    row.dedupKey = group + "/" + route.channel;
    row.groupKey = group;
    row.incident = incident.key;
    row.audience = audience.name;
    row.channel = route.channel;
    row.trigger = std::string(triggerName(occasion.trigger));
    row.drill = incident.drill;
    row.resolves = occasion.trigger == Trigger::resolved;
    row.subject = subject;
    row.body = body;
    row.facts = factsJson(facts);
    row.state = route.state;
    row.wouldGoTo = route.wouldGoTo;
    row.createdAt = now;
    row.nextAttemptAt = now;
    // The status page is the coordinator's own: publishing is storing.
    if (route.channel == kStatusPageChannel && row.state == "pending") {
      row.state = "sent";
      row.sentAt = now;
    }
    if (!insertMessage(db, row)) {
      continue;
    }
    ++made;
    awaitingApproval = awaitingApproval || row.state == "awaiting_approval";
    if (row.state == "sent" || row.state == "held") {
      delivered(db, row, now);
    }
  }
  if (made > 0 && audience.every) {
    Statement cadence = db.prepare(
        "UPDATE cadence SET next_due_at = ?3, updates = updates + ?4 WHERE incident = ?1 AND "
        "audience = ?2");
    cadence.bind(1, std::string_view(incident.key))
        .bind(2, std::string_view(audience.name))
        .bind(3, now + audience.every->count())
        .bind(4, std::int64_t{occasion.trigger == Trigger::update ? 1 : 0});
    cadence.run();
  }
  if (awaitingApproval) {
    alertRole(db, "spokesperson", &incident, "approval_needed", group,
              "Approval needed: message to " + audience.name + " about " + incident.service,
              "A message to " + audience.name + " waits for your approval:\n\n" + subject +
                  "\n\nApprove or edit it in the coordinator's dashboard (incident " +
                  incident.key + ").",
              now);
  }
  return made;
}

std::size_t Composer::alertRole(Connection& db, std::string_view role, const Incident* incident,
                                std::string_view kind, std::string_view discriminator,
                                const std::string& subject, const std::string& body,
                                std::int64_t now) const {
  auto spec = plan_.roles.find(std::string(role));
  if (spec == plan_.roles.end()) {
    return 0;
  }
  const bool drill = incident != nullptr && incident->drill;
  const std::string key = incident != nullptr ? incident->key : "coordinator";
  std::size_t made = 0;
  for (const std::string& channel : spec->second.channels) {
    if (channel == kStatusPageChannel) {
      continue;
    }
    MessageRow row;
    row.groupKey = key + "/" + std::string(kind) + "/" + std::string(discriminator) +
                   "/role:" + std::string(role);
    row.dedupKey = row.groupKey + "/" + channel;
    row.incident = key;
    row.audience = "role:" + std::string(role);
    row.channel = channel;
    row.trigger = std::string(kind);
    row.drill = drill;
    row.subject = drill ? std::string(kDrillSubject) + subject : subject;
    row.body = drill ? std::string(kDrillBody) + body : body;
    row.createdAt = now;
    row.nextAttemptAt = now;
    if (insertMessage(db, row)) {
      ++made;
    }
  }
  return made;
}

std::size_t Composer::resolveRolePages(Connection& db, const Incident& incident,
                                       std::int64_t now) const {
  std::size_t made = 0;
  for (const auto& [role, spec] : plan_.roles) {
    for (const std::string& channel : spec.channels) {
      auto found = plan_.channels.find(channel);
      if (found == plan_.channels.end() || found->second.kind != ChannelKind::pagerduty) {
        continue;
      }
      Statement paged = db.prepare(
          "SELECT 1 FROM messages WHERE incident = ?1 AND channel = ?2 AND audience = ?3 AND "
          "resolves = 0 LIMIT 1");
      paged.bind(1, std::string_view(incident.key))
          .bind(2, std::string_view(channel))
          .bind(3, std::string_view("role:" + role));
      if (!paged.step()) {
        continue;
      }
      MessageRow row;
      row.groupKey = incident.key + "/resolved//role:" + role;
      row.dedupKey = row.groupKey + "/" + channel;
      row.incident = incident.key;
      row.audience = "role:" + role;
      row.channel = channel;
      row.trigger = "resolved";
      row.drill = incident.drill;
      row.resolves = true;
      row.subject = "Resolved: " + incident.service;
      row.body = "The incident " + incident.key + " is resolved.";
      if (incident.drill) {
        row.subject = markDrillSubject(std::move(row.subject));
        row.body = markDrillBody(std::move(row.body));
      }
      row.createdAt = now;
      row.nextAttemptAt = now;
      if (insertMessage(db, row)) {
        ++made;
      }
    }
  }
  return made;
}

void Composer::startCadence(Connection& db, const Incident& incident, std::int64_t now) const {
  for (const auto& [name, audience] : plan_.audiences) {
    if (!audience.every) {
      continue;
    }
    Statement insert = db.prepare(
        "INSERT OR IGNORE INTO cadence (incident, audience, every_ms, next_due_at, "
        "last_delivered_at, alerted_until, updates, missed, max_gap_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0)");
    insert.bind(1, std::string_view(incident.key))
        .bind(2, std::string_view(name))
        .bind(3, audience.every->count())
        .bind(4, now + audience.every->count())
        .bind(5, now);
    insert.run();
  }
}

void Composer::delivered(Connection& db, const MessageRow& row, std::int64_t now) {
  Statement update = db.prepare(
      "UPDATE cadence SET max_gap_ms = max(max_gap_ms, ?3 - last_delivered_at), "
      "last_delivered_at = ?3 WHERE incident = ?1 AND audience = ?2 AND last_delivered_at < ?3");
  update.bind(1, std::string_view(row.incident))
      .bind(2, std::string_view(row.audience))
      .bind(3, now);
  update.run();
}

}  // namespace lifeboat::comms::detail
