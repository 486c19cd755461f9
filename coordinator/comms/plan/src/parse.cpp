// parsePlan(): the plan's tables, read in the order their references need
// (services and channels, then roles and audiences, then templates, rules
// and the status page), and the checks across them
// (docs/communications.md, "Validation").

#include <algorithm>
#include <cctype>
#include <set>

#include "lifeboat/common/text.hpp"
#include "lifeboat/comms/message.hpp"
#include "lifeboat/config/input_guard.hpp"
#include "reading.hpp"

namespace lifeboat::comms {
namespace {

using config::Node;
using config::TableReader;
using detail::NameAt;

constexpr std::size_t kMaxPlanBytes = 1024 * 1024;

// Facts that only some triggers provide; every other fact is there for all.
struct TriggerFact {
  std::string_view fact;
  std::initializer_list<Trigger> triggers;
};
const TriggerFact kTriggerFacts[] = {
    {"step", {Trigger::milestone, Trigger::restored}},
    {"decision", {Trigger::decision}},
    {"options", {Trigger::decision}},
    {"message", {Trigger::notify}},
    {"objective", {Trigger::breached}},
};

std::string tableContext(std::string_view what, std::string_view name) {
  return std::string(what) + " " + inQuotes(name);
}

class PlanReader {
 public:
  explicit PlanReader(DiagnosticSink& sink) : sink_(sink) {}

  std::optional<Plan> read(const Node& root) {
    TableReader reader(
        root, "the communication plan",
        {"services", "channels", "roles", "audiences", "templates", "rules", "status_page"}, sink_);
    if (const Node* services = reader.table("services")) {
      readServices(*services);
    }
    if (const Node* channels = reader.table("channels")) {
      detail::readChannels(*channels, plan_, sink_);
    }
    const Node* roles = reader.table("roles");
    if (roles != nullptr) {
      readRoles(*roles);
    }
    if (const Node* audiences = reader.table("audiences")) {
      readAudiences(*audiences);
    }
    if (const Node* templates = reader.table("templates")) {
      readTemplates(*templates);
    }
    if (const Node* rules = reader.node("rules")) {
      readRules(*rules);
    }
    if (const Node* statusPage = reader.table("status_page")) {
      readStatusPage(*statusPage);
    }
    checkAcross(roles != nullptr ? roles->where : SourceLocation{1, 1});
    if (sink_.hasErrors()) {
      return std::nullopt;
    }
    return std::move(plan_);
  }

 private:
  // --- [services.NAME] ---
  void readServices(const Node& services) {
    for (const auto& [name, table] : services.members) {
      if (!table.isTable()) {
        sink_.error(table.where, "services." + name + " must be a table",
                    "write [services." + name + "] with display_name and impact");
        continue;
      }
      if (name.empty()) {
        sink_.error(table.where, "a service name is empty");
        continue;
      }
      const std::string context = tableContext("service", name);
      TableReader reader(table, context, {"display_name", "impact"}, sink_);
      ServiceSpec service;
      service.name = name;
      service.displayName = name;
      if (auto display = reader.string("display_name")) {
        if (checkPlainLine(reader, "display_name", *display)) {
          service.displayName = *display;
        }
      }
      if (auto impact = reader.string("impact")) {
        if (checkPlainLine(reader, "impact", *impact)) {
          service.impact = *impact;
        }
      }
      plan_.services.emplace(name, std::move(service));
    }
  }

  // A value shown to people as one line of plain text.
  bool checkPlainLine(TableReader& reader, std::string_view key, const std::string& value) {
    if (value.empty() || value.find_first_of("\r\n") != std::string::npos) {
      sink_.error(reader.where(key),
                  config::keyIn(key, reader.context()) + " must be one line of text, not empty");
      return false;
    }
    if (value.find("${") != std::string::npos || value.find("{{") != std::string::npos) {
      sink_.error(reader.where(key), config::keyIn(key, reader.context()) + " is shown as written",
                  "it cannot hold ${...} references or {{...}} placeholders");
      return false;
    }
    return true;
  }

  // Channel names of `key`, checked against [channels] (and the status page
  // when `statusPage`); only the known ones are returned.
  std::optional<std::vector<std::string>> channelList(TableReader& reader, std::string_view key,
                                                      bool required, bool statusPage) {
    std::optional<std::vector<NameAt>> names = detail::namesAt(reader, key, required);
    if (!names) {
      return std::nullopt;
    }
    std::vector<std::string> candidates = detail::keysOf(plan_.channels);
    candidates.emplace_back(kStatusPageChannel);
    std::vector<std::string> known;
    for (const NameAt& name : *names) {
      if (name.name == kStatusPageChannel) {
        if (!statusPage) {
          continue;  // the caller reports it with its own reason
        }
      } else if (plan_.channels.count(name.name) == 0) {
        detail::reportUnknown(sink_, name.where, "channel", name.name,
                              config::keyIn(key, reader.context()), candidates,
                              "define the channel as [channels." + name.name + "]");
        continue;
      }
      known.push_back(name.name);
    }
    detail::checkNoDuplicates(*names, key, reader.context(), sink_);
    return known;
  }

  void refuseStatusPage(TableReader& reader, std::string_view key, std::string_view why) {
    const Node* list = reader.node(key);
    if (list == nullptr || !list->isArray()) {
      return;
    }
    for (const Node& item : list->items) {
      if (item.isString() && item.text == kStatusPageChannel) {
        sink_.error(item.where,
                    config::keyIn(key, reader.context()) + " cannot list the status page",
                    std::string(why));
      }
    }
  }

  // --- [roles.NAME] ---
  void readRoles(const Node& roles) {
    const std::vector<std::string> known{std::string(kIncidentCommander),
                                         std::string(kSpokesperson), std::string(kApprover)};
    for (const auto& [name, table] : roles.members) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        detail::reportUnknown(sink_, table.where, "role", name, "[roles]", known, "");
        continue;
      }
      if (!table.isTable()) {
        sink_.error(table.where, "roles." + name + " must be a table",
                    "write [roles." + name + "] with person, email, channels and tokens");
        continue;
      }
      const std::string context = tableContext("role", name);
      TableReader reader(table, context, {"person", "email", "channels", "tokens"}, sink_);
      RoleSpec role;
      role.role = name;
      role.where = table.where;
      if (auto person = reader.string("person", true)) {
        if (checkPlainLine(reader, "person", *person)) {
          role.person = *person;
        }
      }
      if (auto email = reader.string("email")) {
        if (!detail::isEmailAddress(*email)) {
          sink_.error(reader.where("email"), config::keyIn("email", context) + " " +
                                                 quotedSafely(*email) + " is not an email address");
        } else {
          role.email = *email;
        }
      }
      const bool commander = name == kIncidentCommander;
      if (auto channels = channelList(reader, "channels", commander, false)) {
        role.channels = std::move(*channels);
        if (commander && reader.node("channels")->items.empty()) {
          sink_.error(reader.where("channels"), config::keyIn("channels", context) + " is empty",
                      "missed updates and failing channels are reported to the incident "
                      "commander on these channels: list at least one");
        }
      }
      refuseStatusPage(reader, "channels",
                       "alerts to a role are internal; the status page is public");
      if (auto tokens = detail::namesAt(reader, "tokens", false)) {
        role.tokens = detail::plainNames(*tokens);
        detail::checkNoDuplicates(*tokens, "tokens", context, sink_);
      }
      plan_.roles.emplace(name, std::move(role));
    }
  }

  // --- [audiences.NAME] ---
  void readAudiences(const Node& audiences) {
    for (const auto& [name, table] : audiences.members) {
      if (!table.isTable()) {
        sink_.error(table.where, "audiences." + name + " must be a table",
                    "write [audiences." + name + "] with channels");
        continue;
      }
      if (!detail::checkName("audience", name, table.where, sink_)) {
        continue;
      }
      readAudience(name, table);
    }
  }

  void readAudience(const std::string& name, const Node& table) {
    const std::string context = tableContext("audience", name);
    TableReader reader(table, context,
                       {"channels", "drill_channels", "drill", "external", "approval", "every"},
                       sink_);
    AudienceSpec audience;
    audience.name = name;
    audience.where = table.where;
    if (auto external = reader.boolean("external")) {
      audience.external = *external;
    }
    if (auto channels = channelList(reader, "channels", true, true)) {
      audience.channels = std::move(*channels);
      if (reader.node("channels")->items.empty()) {
        sink_.error(reader.where("channels"), config::keyIn("channels", context) + " is empty",
                    "list the channels this audience hears on");
      }
    }
    if (!audience.external) {
      refuseStatusPage(reader, "channels",
                       "the status page is public: only an audience with external = true may "
                       "list it");
    }
    if (auto drillChannels = channelList(reader, "drill_channels", false, false)) {
      audience.drillChannels = std::move(*drillChannels);
    }
    refuseStatusPage(reader, "drill_channels",
                     "a drill never publishes on the public status page; the drill report shows "
                     "what it would have published");
    const bool listed = reader.node("drill_channels") != nullptr &&
                        reader.node("drill_channels")->isArray() &&
                        !reader.node("drill_channels")->items.empty();
    if (auto drill = reader.choice("drill", {"held", "drill_channels", "real"})) {
      if (*drill == "drill_channels" && !listed) {
        sink_.error(reader.where("drill"),
                    context + " has drill = \"drill_channels\" but no drill_channels",
                    "list the channels a drill's messages go to: drill_channels = [\"...\"]");
      } else if (*drill != "drill_channels" && reader.has("drill_channels")) {
        sink_.error(reader.where("drill_channels"),
                    context + " has drill = \"" + *drill + "\" and drill_channels",
                    "drill_channels are used only with drill = \"drill_channels\" (the default "
                    "when they are written): remove one of the two");
      } else if (*drill == "real") {
        audience.drillUsesRealChannels = true;
        if (audience.external) {
          sink_.warning(reader.where("drill"),
                        context + " is external and has drill = \"real\": drills reach customers",
                        "their messages are marked [DRILL]; use drill_channels to rehearse "
                        "without them");
        }
      }
    }
    if (auto approval = reader.choice("approval", {"spokesperson", "none"})) {
      audience.approval = *approval == "spokesperson";
      if (audience.approval) {
        checkSpokesperson(reader.where("approval"), context);
      }
    }
    if (auto every = reader.duration("every")) {
      if (*every < std::chrono::seconds(1) || *every > std::chrono::hours(24)) {
        sink_.error(
            reader.where("every"),
            config::keyIn("every", context) + " is " + formatDuration(*every) + ", outside 1s..1d",
            "how often this audience hears while an incident is open, e.g. \"30m\"");
      } else {
        if (*every < std::chrono::minutes(5)) {
          // Short periods are for rehearsing the plan (and for its tests).
          sink_.warning(reader.where("every"),
                        config::keyIn("every", context) + " is " + formatDuration(*every) +
                            ": an update more often than every 5 minutes floods people",
                        "most plans promise updates every 15m to 1h");
        }
        audience.every = *every;
        everyAt_[name] = reader.where("every");
      }
    }
    plan_.audiences.emplace(name, std::move(audience));
  }

  void checkSpokesperson(SourceLocation where, const std::string& context) {
    const auto found = plan_.roles.find(std::string(kSpokesperson));
    if (found == plan_.roles.end()) {
      sink_.error(where, context + " needs approval but the plan has no [roles.spokesperson]",
                  "add [roles.spokesperson] with person and the API tokens that approve, or set "
                  "approval = \"none\"");
    } else if (found->second.tokens.empty()) {
      sink_.error(where, context + " needs approval but [roles.spokesperson] has no tokens",
                  "list the coordinator API token names that may approve: tokens = [\"...\"]");
    }
  }

  // --- [templates.NAME] and [templates.NAME.AUDIENCE] ---
  void readTemplates(const Node& templates) {
    for (const auto& [name, table] : templates.members) {
      if (!table.isTable()) {
        sink_.error(table.where, "templates." + name + " must be a table",
                    "write [templates." + name + "] with subject and body");
        continue;
      }
      if (!detail::checkName("template", name, table.where, sink_)) {
        continue;
      }
      readTemplate(name, table);
    }
  }

  void readTemplate(const std::string& name, const Node& table) {
    const std::string context = tableContext("template", name);
    // Sub-tables are audience variants; the rest are the default's keys.
    Node own;
    own.where = table.where;
    std::vector<const Node::Member*> variants;
    for (const Node::Member& member : table.members) {
      if (member.second.isTable()) {
        variants.push_back(&member);
      } else {
        own.members.push_back(member);
      }
    }
    TemplateSpec spec;
    spec.name = name;
    spec.text.where = table.where;
    TableReader reader(own, context, {"subject", "body"}, sink_);
    if (auto subject = reader.string("subject", true)) {
      checkSubject(reader, *subject);
      spec.text.subject = *subject;
    }
    if (auto body = reader.string("body", true)) {
      checkBody(reader, *body);
      spec.text.body = *body;
    }
    const std::vector<std::string> audiences = detail::keysOf(plan_.audiences);
    for (const Node::Member* variant : variants) {
      const std::string& audience = variant->first;
      if (plan_.audiences.count(audience) == 0) {
        detail::reportUnknown(sink_, variant->second.where, "audience", audience,
                              "[templates." + name + "]", audiences,
                              "template variants are named after [audiences.NAME]");
        continue;
      }
      const std::string variantContext = context + " for audience " + inQuotes(audience);
      TableReader variantReader(variant->second, variantContext, {"subject", "body"}, sink_);
      TemplateText text = spec.text;
      text.where = variant->second.where;
      if (!variantReader.has("subject") && !variantReader.has("body")) {
        sink_.error(variant->second.where, variantContext + " has neither subject nor body",
                    "write the subject, the body or both for this audience");
      }
      if (auto subject = variantReader.string("subject")) {
        checkSubject(variantReader, *subject);
        text.subject = *subject;
      }
      if (auto body = variantReader.string("body")) {
        checkBody(variantReader, *body);
        text.body = *body;
      }
      spec.byAudience.emplace(audience, std::move(text));
    }
    plan_.templates.emplace(name, std::move(spec));
  }

  void checkSubject(TableReader& reader, const std::string& subject) {
    if (subject.find_first_of("\r\n") != std::string::npos) {
      sink_.error(reader.where("subject"),
                  config::keyIn("subject", reader.context()) + " must be one line",
                  "put the details in the body");
    } else if (subject.empty()) {
      sink_.error(reader.where("subject"),
                  config::keyIn("subject", reader.context()) + " is empty");
    }
    checkTemplateText(reader, "subject", subject);
  }

  void checkBody(TableReader& reader, const std::string& body) {
    if (body.empty()) {
      sink_.error(reader.where("body"), config::keyIn("body", reader.context()) + " is empty");
    }
    checkTemplateText(reader, "body", body);
  }

  void checkTemplateText(TableReader& reader, std::string_view key, const std::string& text) {
    if (text.find("${secret:") != std::string::npos) {
      sink_.error(reader.where(key),
                  config::keyIn(key, reader.context()) + " holds a secret reference",
                  "templates are sent to people and are never given secrets; use {{fact}} "
                  "placeholders (docs/communications.md, \"Facts\")");
    }
    const std::span<const std::string_view> facts = factNames();
    const std::vector<std::string_view> candidates(facts.begin(), facts.end());
    for (const std::string& name : unknownPlaceholders(text)) {
      std::string hint = "facts are listed in docs/communications.md, \"Facts\"";
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (std::find(candidates.begin(), candidates.end(), lower) != candidates.end()) {
        hint = "did you mean {{" + lower + "}}? (fact names are lower case)";
      } else if (auto suggestion = closestMatch(name, candidates)) {
        hint = "did you mean {{" + *suggestion + "}}?";
      }
      sink_.error(
          reader.where(key),
          config::keyIn(key, reader.context()) + " uses {{" + name + "}}, which names no fact",
          std::move(hint));
    }
  }

  // --- [[rules]] ---
  void readRules(const Node& rules) {
    if (!rules.isArray()) {
      sink_.error(rules.where, "rules must be written as [[rules]] tables",
                  "[[rules]] with on, audiences and template (docs/communications.md)");
      return;
    }
    for (std::size_t i = 0; i < rules.items.size(); ++i) {
      const Node& item = rules.items[i];
      if (!item.isTable()) {
        sink_.error(item.where, "rules must be written as [[rules]] tables",
                    "[[rules]] with on, audiences and template (docs/communications.md)");
        continue;
      }
      readRule(item, i);
    }
  }

  void readRule(const Node& table, std::size_t index) {
    const std::string context = "[[rules]] #" + std::to_string(index + 1);
    TableReader reader(table, context, {"on", "audiences", "template", "steps"}, sink_);
    RuleSpec rule;
    rule.where = table.where;
    bool complete = true;
    std::optional<std::string> on =
        reader.choice("on", {"opened", "milestone", "breached", "decision", "restored", "resolved",
                             "update", "notify"});
    if (on) {
      rule.on = *parseTrigger(*on);
    } else {
      if (!reader.has("on")) {
        reader.requireKey("on");
      }
      complete = false;
    }
    std::vector<NameAt> audiences;
    if (auto names = detail::namesAt(reader, "audiences", true)) {
      if (names->empty()) {
        sink_.error(reader.where("audiences"), config::keyIn("audiences", context) + " is empty",
                    "list the audiences this rule writes to");
      }
      const std::vector<std::string> candidates = detail::keysOf(plan_.audiences);
      for (const NameAt& name : *names) {
        if (plan_.audiences.count(name.name) == 0) {
          detail::reportUnknown(sink_, name.where, "audience", name.name,
                                config::keyIn("audiences", context), candidates,
                                "define the audience as [audiences." + name.name + "]");
          complete = false;
        } else {
          audiences.push_back(name);
          rule.audiences.push_back(name.name);
        }
      }
      detail::checkNoDuplicates(*names, "audiences", context, sink_);
    } else {
      complete = false;
    }
    if (auto name = reader.string("template", true)) {
      if (plan_.templates.count(*name) == 0) {
        detail::reportUnknown(sink_, reader.where("template"), "template", *name,
                              config::keyIn("template", context), detail::keysOf(plan_.templates),
                              "define the template as [templates." + *name + "]");
        complete = false;
      } else {
        rule.templateName = *name;
        usedTemplates_.insert(*name);
      }
    } else {
      complete = false;
    }
    if (auto steps = detail::namesAt(reader, "steps", false)) {
      rule.steps = detail::plainNames(*steps);
      detail::checkNoDuplicates(*steps, "steps", context, sink_);
    }
    if (on) {
      if (rule.on == Trigger::milestone && (!reader.has("steps") || rule.steps.empty())) {
        sink_.error(reader.where("steps"), context + " (on = \"milestone\") lists no steps",
                    "name the runbook step ids whose success is a milestone: steps = [\"...\"]");
      } else if (rule.on != Trigger::milestone && reader.has("steps")) {
        sink_.error(reader.where("steps"),
                    config::keyIn("steps", context) + " is used only with on = \"milestone\"");
      }
    }
    if (on && rule.on == Trigger::update) {
      for (const NameAt& audience : audiences) {
        if (!plan_.audiences.at(audience.name).every) {
          sink_.error(audience.where,
                      context + " (on = \"update\") lists audience " + inQuotes(audience.name) +
                          ", which has no every",
                      "set every = \"30m\" (or so) in [audiences." + audience.name + "]");
        } else if (!updated_.insert(audience.name).second) {
          sink_.error(audience.where,
                      context + " (on = \"update\") lists audience " + inQuotes(audience.name) +
                          ", which an earlier update rule lists",
                      "one update rule per audience: its cadence sends one message");
        }
      }
    }
    for (const NameAt& audience : audiences) {
      usedAudiences_.insert(audience.name);
    }
    if (complete) {
      warnMissingFacts(rule, reader.where("template"), context);
    }
    plan_.rules.push_back(std::move(rule));
  }

  // A template used where its trigger-only facts are not provided renders
  // them as "unknown": legal, and almost always a mistake.
  void warnMissingFacts(const RuleSpec& rule, SourceLocation where, const std::string& context) {
    const TemplateSpec& spec = plan_.templates.at(rule.templateName);
    std::set<std::string> reported;
    for (const std::string& audience : rule.audiences) {
      const TemplateText& text = spec.forAudience(audience);
      std::vector<std::string> names = placeholderNames(text.subject);
      const std::vector<std::string> inBody = placeholderNames(text.body);
      names.insert(names.end(), inBody.begin(), inBody.end());
      for (const std::string& name : names) {
        for (const TriggerFact& only : kTriggerFacts) {
          if (only.fact != name ||
              std::find(only.triggers.begin(), only.triggers.end(), rule.on) !=
                  only.triggers.end() ||
              !reported.insert(name).second) {
            continue;
          }
          std::string triggers;
          for (Trigger trigger : only.triggers) {
            triggers += triggers.empty() ? "" : " and ";
            triggers += triggerName(trigger);
          }
          sink_.warning(where,
                        context + " (on = \"" + std::string(triggerName(rule.on)) +
                            "\") uses template " + inQuotes(rule.templateName) + " with {{" + name +
                            "}}, which only " + triggers +
                            " rules provide: it renders as \"unknown\"",
                        "use another template for this rule");
        }
      }
    }
  }

  // --- [status_page] ---
  void readStatusPage(const Node& table) {
    TableReader reader(table, "[status_page]", {"title", "services"}, sink_);
    if (auto title = reader.string("title")) {
      if (checkPlainLine(reader, "title", *title)) {
        plan_.statusPage.title = *title;
      }
    }
    if (auto services = detail::namesAt(reader, "services", false)) {
      const std::vector<std::string> candidates = detail::keysOf(plan_.services);
      for (const NameAt& service : *services) {
        if (plan_.services.count(service.name) == 0) {
          detail::reportUnknown(sink_, service.where, "service", service.name,
                                config::keyIn("services", "[status_page]"), candidates,
                                "define the service as [services." + service.name + "]");
        } else {
          plan_.statusPage.services.push_back(service.name);
        }
      }
      detail::checkNoDuplicates(*services, "services", "[status_page]", sink_);
    }
  }

  // --- across tables ---
  void checkAcross(SourceLocation rolesWhere) {
    if (plan_.roles.count(std::string(kIncidentCommander)) == 0) {
      sink_.error(rolesWhere, "the plan has no [roles.incident_commander]",
                  "missed updates and failing channels are reported to the incident commander: "
                  "add [roles.incident_commander] with person and channels");
    }
    for (const auto& [name, where] : everyAt_) {
      if (updated_.count(name) == 0) {
        sink_.error(where,
                    "audience " + inQuotes(name) +
                        " has every but no [[rules]] with on = "
                        "\"update\" lists it",
                    "add a [[rules]] with on = \"update\", this audience and the template of "
                    "the scheduled update");
      }
    }
    for (const auto& [name, audience] : plan_.audiences) {
      if (usedAudiences_.count(name) == 0) {
        sink_.warning(audience.where, "audience " + inQuotes(name) + " is in no [[rules]]",
                      "it never hears anything");
      }
    }
    for (const auto& [name, spec] : plan_.templates) {
      if (usedTemplates_.count(name) == 0) {
        sink_.warning(spec.text.where, "template " + inQuotes(name) + " is used by no [[rules]]");
      }
    }
    if (plan_.rules.empty() && !sink_.hasErrors()) {
      sink_.warning({}, "the plan has no [[rules]]: it sends no message",
                    "add [[rules]] with on, audiences and template");
    }
  }

  DiagnosticSink& sink_;
  Plan plan_;
  std::map<std::string, SourceLocation> everyAt_;
  std::set<std::string> updated_;
  std::set<std::string> usedAudiences_;
  std::set<std::string> usedTemplates_;
};

}  // namespace

std::optional<Plan> parsePlan(std::string_view text, DiagnosticSink& sink) {
  config::InputLimits limits;
  limits.maxBytes = kMaxPlanBytes;
  if (!config::checkInput(text, limits, sink)) {
    return std::nullopt;
  }
  std::unique_ptr<Node> document = config::parseDocument(text, sink);
  if (document == nullptr) {
    return std::nullopt;
  }
  return PlanReader(sink).read(*document);
}

}  // namespace lifeboat::comms
