// Views of incidents: the API's JSON, the post-incident summary (Markdown)
// and the public status page (HTML, JSON, Atom). Text from events and
// messages is escaped for each format here, at the edge.

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <sstream>

#include "engine_impl.hpp"

namespace lifeboat::comms {

namespace {

using detail::fromMillis;
using detail::Incident;
using detail::MessageRow;

boost::json::value timeOrNull(const std::optional<std::int64_t>& millis) {
  if (!millis) {
    return nullptr;
  }
  return boost::json::value(formatTimestamp(fromMillis(*millis)));
}

boost::json::value intOrNull(const std::optional<std::int64_t>& value) {
  if (!value) {
    return nullptr;
  }
  return boost::json::value(*value);
}

std::string serviceName(const Plan& plan, const std::string& service) {
  auto found = plan.services.find(service);
  return found != plan.services.end() && !found->second.displayName.empty()
             ? found->second.displayName
             : service;
}

std::vector<Incident> incidentsWhere(detail::Connection& db, bool openOnly, std::size_t limit) {
  std::vector<Incident> result;
  detail::Statement keys = db.prepare(
      "SELECT key FROM incidents WHERE (?1 = 0 OR state <> 'resolved') ORDER BY opened_at DESC, "
      "key DESC LIMIT ?2");
  keys.bind(1, std::int64_t{openOnly ? 1 : 0}).bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::string> names;
  while (keys.step()) {
    names.push_back(keys.text(0));
  }
  for (const std::string& key : names) {
    if (auto incident = detail::loadIncident(db, key)) {
      result.push_back(std::move(*incident));
    }
  }
  return result;
}

struct CadenceRow {
  std::string audience;
  std::int64_t every = 0, updates = 0, missed = 0, maxGap = 0, nextDue = 0, lastDelivered = 0;
};

std::vector<CadenceRow> cadenceOf(detail::Connection& db, const std::string& key) {
  detail::Statement query = db.prepare(
      "SELECT audience, every_ms, updates, missed, max_gap_ms, next_due_at, last_delivered_at "
      "FROM cadence WHERE incident = ?1 ORDER BY audience");
  query.bind(1, std::string_view(key));
  std::vector<CadenceRow> rows;
  while (query.step()) {
    rows.push_back({query.text(0), query.integer(1), query.integer(2), query.integer(3),
                    query.integer(4), query.integer(5), query.integer(6)});
  }
  return rows;
}

boost::json::object incidentJson(const Plan& plan, detail::Connection& db,
                                 const Incident& incident) {
  boost::json::object out;
  out["key"] = incident.key;
  out["service"] = incident.service;
  out["service_name"] = serviceName(plan, incident.service);
  out["drill"] = incident.drill;
  out["state"] = incident.state;
  out["agent"] = incident.agent;
  out["run"] = incident.run;
  out["runbook"] = incident.runbook;
  out["opened_at"] = formatTimestamp(fromMillis(incident.openedAt));
  out["outage_start"] = timeOrNull(incident.outageStart);
  out["restored_at"] = timeOrNull(incident.restoredAt);
  out["resolved_at"] = timeOrNull(incident.resolvedAt);
  out["resolved_by"] = incident.resolvedBy;
  out["outcome"] = incident.outcome;
  out["rto"] = {{"target_ms", intOrNull(incident.rtoTargetMs)},
                {"value_ms", intOrNull(incident.rtoMs)},
                {"verdict", incident.rtoVerdict}};
  out["rpo"] = {{"target_ms", intOrNull(incident.rpoTargetMs)},
                {"value_ms", intOrNull(incident.rpoMs)},
                {"verdict", incident.rpoVerdict}};
  boost::json::object counts;
  detail::Statement query =
      db.prepare("SELECT state, count(*) FROM messages WHERE incident = ?1 GROUP BY state");
  query.bind(1, std::string_view(incident.key));
  while (query.step()) {
    counts[query.text(0)] = query.integer(1);
  }
  out["messages"] = std::move(counts);
  boost::json::array cadence;
  for (const CadenceRow& row : cadenceOf(db, incident.key)) {
    cadence.push_back(
        {{"audience", row.audience},
         {"every_ms", row.every},
         {"updates", row.updates},
         {"missed", row.missed},
         {"max_gap_ms", row.maxGap},
         {"next_due_at", incident.state == "resolved"
                             ? boost::json::value(nullptr)
                             : boost::json::value(formatTimestamp(fromMillis(row.nextDue)))}});
  }
  out["cadence"] = std::move(cadence);
  return out;
}

// One table cell or list item of Markdown: no line breaks, no `|`.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

std::string html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string text(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return "";
  }
  if (value->is_string()) {
    return std::string(value->get_string());
  }
  return boost::json::serialize(*value);
}

std::string verdictLine(std::string_view name, const std::optional<std::int64_t>& target,
                        const std::optional<std::int64_t>& value, const std::string& verdict) {
  return "| " + std::string(name) + " | " +
         (target ? detail::humanDuration(*target) : std::string("none")) + " | " +
         (value ? detail::humanDuration(*value) : std::string("not measured")) + " | " +
         (verdict.empty() ? std::string("unknown") : verdict) + " |\n";
}

// The run as the events store shows it (steps, objectives, decisions, notes).
std::optional<boost::json::object> runOf(Engine::Impl& impl, const Incident& incident) {
  if (incident.run.empty()) {
    return std::nullopt;
  }
  const std::lock_guard lock(impl.writerMutex);
  if (!impl.events) {
    Result<std::unique_ptr<store::Store>> opened =
        store::Store::open(impl.options.eventsDatabase, store::Access::ReadOnly);
    if (!opened) {
      return std::nullopt;
    }
    impl.events = std::move(*opened);
  }
  Result<std::optional<boost::json::object>> run = impl.events->run(incident.agent, incident.run);
  if (!run || !*run) {
    return std::nullopt;
  }
  return std::move(**run);
}

std::string summaryMarkdown(Engine::Impl& impl, detail::Connection& db, const Incident& incident) {
  const Plan& plan = impl.options.plan;
  std::ostringstream out;
  const std::string name = serviceName(plan, incident.service);
  out << (incident.drill ? "# Drill report: " : "# Post-incident summary: ") << cell(name) << " ("
      << incident.key << ")\n\n";
  out << "- Service: " << cell(incident.service) << "\n";
  out << "- State: " << incident.state
      << (incident.outcome.empty() ? "" : " (run " + incident.outcome + ")") << "\n";
  out << "- Runbook: " << cell(incident.runbook.empty() ? "none" : incident.runbook) << ", run "
      << cell(incident.run.empty() ? "none" : incident.run) << " on "
      << cell(incident.agent.empty() ? "unknown" : incident.agent) << "\n";
  const std::int64_t outageStart = incident.outageStart.value_or(incident.openedAt);
  out << "- Outage start: " << detail::humanTime(outageStart) << "\n";
  out << "- Restored: "
      << (incident.restoredAt ? detail::humanTime(*incident.restoredAt) : std::string("not yet"))
      << "\n";
  out << "- Resolved: "
      << (incident.resolvedAt
              ? detail::humanTime(*incident.resolvedAt) +
                    (incident.resolvedBy.empty() ? "" : " by " + cell(incident.resolvedBy))
              : std::string("not yet"))
      << "\n\n";

  out << "## Objectives\n\n| objective | target | measured | verdict |\n|---|---|---|---|\n";
  out << verdictLine("RTO", incident.rtoTargetMs, incident.rtoMs, incident.rtoVerdict);
  out << verdictLine("RPO", incident.rpoTargetMs, incident.rpoMs, incident.rpoVerdict);
  out << "\n";

  // The timeline: the run's steps and decisions, and the messages.
  std::multimap<std::string, std::string> timeline;
  timeline.emplace(formatTimestamp(fromMillis(incident.openedAt)), "incident opened");
  std::optional<boost::json::object> run = runOf(impl, incident);
  std::vector<std::string> decisions;
  if (run) {
    if (const auto* steps = run->if_contains("steps"); steps != nullptr && steps->is_array()) {
      for (const auto& value : steps->get_array()) {
        const auto& step = value.get_object();
        const std::string started = text(step, "started_at");
        if (!started.empty()) {
          timeline.emplace(started, "step " + text(step, "id") + " started");
        }
        const std::string finished = text(step, "finished_at");
        if (!finished.empty()) {
          timeline.emplace(
              finished, "step " + text(step, "id") + " " + text(step, "status") +
                            (text(step, "error").empty() ? "" : " (" + text(step, "error") + ")"));
        }
      }
    }
    if (const auto* list = run->if_contains("decisions"); list != nullptr && list->is_array()) {
      for (const auto& value : list->get_array()) {
        const auto& decision = value.get_object();
        const boost::json::value* request = decision.if_contains("request");
        const boost::json::value* made = decision.if_contains("made");
        const std::string question = request != nullptr && request->is_object()
                                         ? text(request->get_object(), "question")
                                         : "";
        if (made != nullptr && made->is_object()) {
          const auto& choice = made->get_object();
          decisions.push_back("**" + cell(question) + "**: chose `" + cell(text(choice, "choice")) +
                              "`, by " + cell(text(choice, "by")) + " (" + text(choice, "via") +
                              "). Rationale: " + cell(text(choice, "rationale")));
          timeline.emplace(text(decision, "made_at"),
                           "decision: " + text(choice, "choice") + " by " + text(choice, "by"));
        } else {
          decisions.push_back("**" + cell(question) + "**: no decision recorded");
        }
        timeline.emplace(text(decision, "requested_at"), "decision requested: " + question);
      }
    }
    if (const auto* notes = run->if_contains("notes"); notes != nullptr && notes->is_array()) {
      for (const auto& value : notes->get_array()) {
        const auto& note = value.get_object();
        timeline.emplace(text(note, "time"),
                         "note by " + text(note, "author") + ": " + text(note, "text"));
      }
    }
  }
  const std::vector<MessageRow> messages = detail::messagesWhere(db, incident.key, "", 10'000);
  for (const MessageRow& message : messages) {
    if (message.state == "sent" && message.sentAt) {
      timeline.emplace(
          formatTimestamp(fromMillis(*message.sentAt)),
          "message to " + message.audience + " on " + message.channel + ": " + message.subject);
    }
  }
  if (incident.restoredAt) {
    timeline.emplace(formatTimestamp(fromMillis(*incident.restoredAt)), "service restored");
  }
  if (incident.resolvedAt) {
    timeline.emplace(formatTimestamp(fromMillis(*incident.resolvedAt)), "incident resolved");
  }
  out << "## Timeline\n\n| time (UTC) | what |\n|---|---|\n";
  for (const auto& [time, what] : timeline) {
    out << "| " << cell(time) << " | " << cell(what) << " |\n";
  }
  out << "\n## Decisions\n\n";
  if (decisions.empty()) {
    out << "None.\n";
  }
  for (const std::string& decision : decisions) {
    out << "- " << decision << "\n";
  }
  out << "\n## Messages\n\n";
  if (incident.drill) {
    out << "| created | audience | channel | trigger | state | would have gone to | subject |\n"
           "|---|---|---|---|---|---|---|\n";
  } else {
    out << "| created | audience | channel | trigger | state | subject "
           "|\n|---|---|---|---|---|---|\n";
  }
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    out << "| " << formatTimestamp(fromMillis(it->createdAt)) << " | " << cell(it->audience)
        << " | " << cell(it->channel) << " | " << it->trigger << " | " << it->state
        << (it->lastError.empty() ? "" : " (" + cell(it->lastError) + ")") << " | ";
    if (incident.drill) {
      out << cell(it->wouldGoTo.empty() ? "-" : it->wouldGoTo) << " | ";
    }
    out << cell(it->subject) << " |\n";
  }
  out << "\n## Cadence\n\n";
  const std::vector<CadenceRow> cadence = cadenceOf(db, incident.key);
  if (cadence.empty()) {
    out << "No audience has a promised update cadence.\n";
  } else {
    out << "| audience | promised | updates | longest gap | missed | kept |\n"
           "|---|---|---|---|---|---|\n";
    for (const CadenceRow& row : cadence) {
      out << "| " << cell(row.audience) << " | every " << detail::humanDuration(row.every) << " | "
          << row.updates << " | " << detail::humanDuration(row.maxGap) << " | " << row.missed
          << " | " << (row.missed == 0 ? "yes" : "no") << " |\n";
    }
  }
  return out.str();
}

// What the public sees: real incidents with updates published on the page,
// of the services the page shows.
bool isPublic(const Plan& plan, detail::Connection& db, const Incident& incident) {
  if (incident.drill) {
    return false;
  }
  const auto& shown = plan.statusPage.services;
  if (!shown.empty() && std::find(shown.begin(), shown.end(), incident.service) == shown.end()) {
    return false;
  }
  detail::Statement query = db.prepare(
      "SELECT 1 FROM messages WHERE incident = ?1 AND channel = ?2 AND state = 'sent' LIMIT 1");
  query.bind(1, std::string_view(incident.key)).bind(2, kStatusPageChannel);
  return query.step();
}

std::vector<MessageRow> publicUpdates(detail::Connection& db, const std::string& key) {
  std::vector<MessageRow> updates;
  for (MessageRow& row : detail::messagesWhere(db, key, "sent", 1000)) {
    if (row.channel == kStatusPageChannel) {
      updates.push_back(std::move(row));
    }
  }
  std::sort(updates.begin(), updates.end(), [](const MessageRow& a, const MessageRow& b) {
    return a.sentAt.value_or(0) > b.sentAt.value_or(0);
  });
  return updates;
}

// The summary for the public status page: what happened when, the
// objectives, and the updates published there; nothing internal.
std::string publicSummaryMarkdown(const Plan& plan, detail::Connection& db,
                                  const Incident& incident) {
  std::ostringstream out;
  out << "# " << cell(serviceName(plan, incident.service)) << ": post-incident summary\n\n";
  const std::int64_t outageStart = incident.outageStart.value_or(incident.openedAt);
  out << "- Outage began: " << detail::humanTime(outageStart) << "\n";
  if (incident.restoredAt) {
    out << "- Service restored: " << detail::humanTime(*incident.restoredAt) << " (after "
        << detail::humanDuration(*incident.restoredAt - outageStart) << ")\n";
  }
  if (incident.resolvedAt) {
    out << "- Resolved: " << detail::humanTime(*incident.resolvedAt) << "\n";
  }
  out << "\n## Objectives\n\n| objective | target | measured | verdict |\n|---|---|---|---|\n";
  out << verdictLine("time to restore (RTO)", incident.rtoTargetMs, incident.rtoMs,
                     incident.rtoVerdict);
  out << verdictLine("data-loss window (RPO)", incident.rpoTargetMs, incident.rpoMs,
                     incident.rpoVerdict);
  out << "\n## Updates\n\n";
  std::vector<MessageRow> updates = publicUpdates(db, incident.key);
  for (auto it = updates.rbegin(); it != updates.rend(); ++it) {
    out << "- " << detail::humanTime(it->sentAt.value_or(it->createdAt)) << ": "
        << cell(it->subject) << "\n";
  }
  return out.str();
}

std::string publicState(const Incident& incident) {
  if (incident.state == "resolved") {
    return "resolved";
  }
  if (incident.state == "restored") {
    return "monitoring";
  }
  return incident.state == "investigating" ? "investigating" : "identified";
}

// Served as /status/style.css: the coordinator's CSP (default-src 'self')
// refuses inline styles.
constexpr std::string_view kPageStyle =
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d2330}h1{font-size:1.6rem}.incident{border:1px solid #d5d9e0;border-radius:6px;"
    "padding:1rem;margin:1rem 0}.state{font-weight:600;text-transform:uppercase;font-size:.8rem}"
    ".resolved .state{color:#2b7a3d}.open .state{color:#b3261e}.update{margin:.6rem 0}"
    ".update time{color:#5b6472;font-size:.85rem}.update p{white-space:pre-wrap;margin:.2rem 0}"
    ".ok{color:#2b7a3d}";

void writeIncidentHtml(std::ostringstream& out, const Plan& plan, detail::Connection& db,
                       const Incident& incident, bool link) {
  out << "<section class=\"incident " << (incident.state == "resolved" ? "resolved" : "open")
      << "\" id=\"" << html(incident.key) << "\"><h2>";
  if (link) {
    out << "<a href=\"/status/incidents/" << html(incident.key) << "\">"
        << html(serviceName(plan, incident.service)) << "</a>";
  } else {
    out << html(serviceName(plan, incident.service));
  }
  out << "</h2><div class=\"state\">" << publicState(incident) << "</div>";
  for (const MessageRow& update : publicUpdates(db, incident.key)) {
    out << "<div class=\"update\"><time datetime=\""
        << formatTimestamp(fromMillis(update.sentAt.value_or(update.createdAt))) << "\">"
        << detail::humanTime(update.sentAt.value_or(update.createdAt)) << "</time><h3>"
        << html(update.subject) << "</h3><p>" << html(update.body) << "</p></div>";
  }
  out << "</section>";
}

}  // namespace

std::string_view Engine::statusStyle() {
  return kPageStyle;
}

Result<boost::json::array> Engine::incidents(bool openOnly, std::size_t limit) {
  return detail::guarded<boost::json::array>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    boost::json::array out;
    for (const Incident& incident : incidentsWhere(*impl_->api, openOnly, limit)) {
      out.push_back(incidentJson(impl_->options.plan, *impl_->api, incident));
    }
    return out;
  });
}

Result<std::optional<boost::json::object>> Engine::incident(std::string_view key) {
  return detail::guarded<std::optional<boost::json::object>>(
      [&]() -> std::optional<boost::json::object> {
        const std::lock_guard lock(impl_->apiMutex);
        std::optional<Incident> incident = detail::loadIncident(*impl_->api, key);
        if (!incident) {
          return std::nullopt;
        }
        return incidentJson(impl_->options.plan, *impl_->api, *incident);
      });
}

Result<std::optional<std::string>> Engine::summary(std::string_view key) {
  return detail::guarded<std::optional<std::string>>([&]() -> std::optional<std::string> {
    const std::lock_guard lock(impl_->apiMutex);
    std::optional<Incident> incident = detail::loadIncident(*impl_->api, key);
    if (!incident) {
      return std::nullopt;
    }
    return summaryMarkdown(*impl_, *impl_->api, *incident);
  });
}

Result<boost::json::object> Engine::statusJson() {
  return detail::guarded<boost::json::object>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    const Plan& plan = impl_->options.plan;
    boost::json::object out;
    out["title"] = plan.statusPage.title;
    out["generated_at"] = formatTimestamp(impl_->options.clock());
    boost::json::array incidents;
    bool allOk = true;
    for (const Incident& incident : incidentsWhere(*impl_->api, false, 200)) {
      if (!isPublic(plan, *impl_->api, incident)) {
        continue;
      }
      allOk = allOk && incident.state == "resolved";
      boost::json::array updates;
      for (const MessageRow& update : publicUpdates(*impl_->api, incident.key)) {
        updates.push_back(
            {{"id", update.id},
             {"time", formatTimestamp(fromMillis(update.sentAt.value_or(update.createdAt)))},
             {"subject", update.subject},
             {"body", update.body}});
      }
      incidents.push_back({{"key", incident.key},
                           {"service", incident.service},
                           {"service_name", serviceName(plan, incident.service)},
                           {"state", publicState(incident)},
                           {"opened_at", formatTimestamp(fromMillis(incident.openedAt))},
                           {"resolved_at", timeOrNull(incident.resolvedAt)},
                           {"updates", std::move(updates)}});
    }
    out["status"] = allOk ? "operational" : "incident";
    out["incidents"] = std::move(incidents);
    return out;
  });
}

Result<std::string> Engine::statusHtml() {
  return detail::guarded<std::string>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    const Plan& plan = impl_->options.plan;
    std::vector<Incident> open, past;
    for (Incident& incident : incidentsWhere(*impl_->api, false, 200)) {
      if (isPublic(plan, *impl_->api, incident)) {
        (incident.state == "resolved" ? past : open).push_back(std::move(incident));
      }
    }
    std::ostringstream out;
    out << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
           "content=\"width=device-width\"><title>"
        << html(plan.statusPage.title) << "</title><link rel=\"alternate\" "
        << "type=\"application/atom+xml\" href=\"/status/feed.atom\"><link rel=\"stylesheet\" "
           "href=\"/status/style.css\"></head><body><h1>"
        << html(plan.statusPage.title) << "</h1>";
    if (open.empty()) {
      out << "<p class=\"ok\" id=\"overall\">All systems operational.</p>";
    } else {
      out << "<p id=\"overall\">" << open.size() << " ongoing incident"
          << (open.size() == 1 ? "" : "s") << ".</p>";
    }
    for (const Incident& incident : open) {
      writeIncidentHtml(out, plan, *impl_->api, incident, true);
    }
    if (!past.empty()) {
      out << "<h2>History</h2>";
      for (const Incident& incident : past) {
        writeIncidentHtml(out, plan, *impl_->api, incident, true);
      }
    }
    out << "<p><a href=\"/status.json\">JSON</a> · <a href=\"/status/feed.atom\">Atom "
           "feed</a></p></body></html>";
    return out.str();
  });
}

Result<std::optional<std::string>> Engine::statusIncidentHtml(std::string_view key) {
  return detail::guarded<std::optional<std::string>>([&]() -> std::optional<std::string> {
    const std::lock_guard lock(impl_->apiMutex);
    const Plan& plan = impl_->options.plan;
    std::optional<Incident> incident = detail::loadIncident(*impl_->api, key);
    if (!incident || !isPublic(plan, *impl_->api, *incident)) {
      return std::nullopt;
    }
    std::ostringstream out;
    out << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
        << html(serviceName(plan, incident->service)) << " - " << html(plan.statusPage.title)
        << "</title><link rel=\"stylesheet\" href=\"/status/style.css\"></head><body><p><a "
           "href=\"/status\">"
        << html(plan.statusPage.title) << "</a></p>";
    writeIncidentHtml(out, plan, *impl_->api, *incident, false);
    if (incident->state == "resolved") {
      // The public part of the post-incident summary (Markdown as text):
      // never the internal messages, decisions or role alerts.
      out << "<h2>Post-incident summary</h2><pre id=\"summary\">"
          << html(publicSummaryMarkdown(plan, *impl_->api, *incident)) << "</pre>";
    }
    out << "</body></html>";
    return out.str();
  });
}

Result<std::string> Engine::statusAtom() {
  return detail::guarded<std::string>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    const Plan& plan = impl_->options.plan;
    struct Entry {
      std::int64_t at;
      const Incident* incident;
      MessageRow update;
    };
    std::vector<Incident> incidents;
    for (Incident& incident : incidentsWhere(*impl_->api, false, 200)) {
      if (isPublic(plan, *impl_->api, incident)) {
        incidents.push_back(std::move(incident));
      }
    }
    std::vector<Entry> entries;
    for (const Incident& incident : incidents) {
      for (MessageRow& update : publicUpdates(*impl_->api, incident.key)) {
        const std::int64_t at = update.sentAt.value_or(update.createdAt);
        entries.push_back({at, &incident, std::move(update)});
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.at > b.at; });
    const std::string updated = entries.empty() ? formatTimestamp(impl_->options.clock())
                                                : formatTimestamp(fromMillis(entries.front().at));
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "
           "xmlns=\"http://www.w3.org/2005/Atom\"><title>"
        << html(plan.statusPage.title) << "</title><id>urn:lifeboat:status</id><updated>" << updated
        << "</updated><link rel=\"alternate\" href=\"/status\"/>";
    for (const Entry& entry : entries) {
      out << "<entry><id>urn:lifeboat:status:" << html(entry.incident->key) << ":"
          << entry.update.id << "</id><title>" << html(entry.update.subject) << "</title><updated>"
          << formatTimestamp(fromMillis(entry.at))
          << "</updated><link rel=\"alternate\" href=\"/status/incidents/"
          << html(entry.incident->key) << "\"/><author><name>" << html(plan.statusPage.title)
          << "</name></author><content type=\"text\">" << html(entry.update.body)
          << "</content></entry>";
    }
    out << "</feed>\n";
    return out.str();
  });
}

}  // namespace lifeboat::comms
