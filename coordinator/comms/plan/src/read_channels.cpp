// [channels.NAME] tables (docs/communications.md, "Channels"). Which keys a
// channel may hold depends on its kind; values that may be secrets (url,
// secret, password) are never quoted in a message.

#include <algorithm>

#include "lifeboat/common/text.hpp"
#include "reading.hpp"
#include "secret_reference.hpp"

namespace lifeboat::comms::detail {
namespace {

using config::Node;
using config::TableReader;

constexpr std::string_view kKindHint =
    "kind = \"slack\", \"teams\", \"webhook\", \"email\" or \"pagerduty\"";
constexpr std::string_view kSecretForms =
    "write the whole value as ${secret:env:NAME} or ${secret:file:/absolute/path}";

// The reader for a channel of `kind`: it reports the keys that kind does not
// take. Without a known kind every channel key is allowed, so that a bad
// kind is the one error.
TableReader readerFor(const Node& table, const std::string& context,
                      std::optional<ChannelKind> kind, DiagnosticSink& sink) {
  if (!kind) {
    return TableReader(table, context,
                       {"kind", "url", "secret", "smtp_url", "from", "to", "username", "password",
                        "ca_file", "severity", "per_minute", "timeout", "give_up_after"},
                       sink);
  }
  switch (*kind) {
    case ChannelKind::slack:
    case ChannelKind::teams:
      return TableReader(table, context,
                         {"kind", "url", "ca_file", "per_minute", "timeout", "give_up_after"},
                         sink);
    case ChannelKind::webhook:
      return TableReader(
          table, context,
          {"kind", "url", "secret", "ca_file", "per_minute", "timeout", "give_up_after"}, sink);
    case ChannelKind::email:
      return TableReader(table, context,
                         {"kind", "smtp_url", "from", "to", "username", "password", "ca_file",
                          "per_minute", "timeout", "give_up_after"},
                         sink);
    case ChannelKind::pagerduty:
      return TableReader(table, context,
                         {"kind", "url", "secret", "severity", "ca_file", "per_minute", "timeout",
                          "give_up_after"},
                         sink);
  }
  return TableReader(table, context, {}, sink);
}

bool hasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ';
  });
}

// scheme://host... with a non-empty host and no spaces or control characters.
bool isUrl(std::string_view text, std::initializer_list<std::string_view> schemes) {
  for (std::string_view scheme : schemes) {
    if (text.starts_with(scheme)) {
      const std::string_view rest = text.substr(scheme.size());
      return !rest.empty() && rest[0] != '/' && rest[0] != ':' && rest[0] != '?' &&
             rest[0] != '#' && !hasControl(text);
    }
  }
  return false;
}

// A key that takes no secret reference: `${` in it is an error.
bool refuseReference(TableReader& reader, std::string_view key, const std::string& value) {
  if (value.find("${") == std::string::npos) {
    return true;
  }
  reader.sink().error(reader.where(key),
                      config::keyIn(key, reader.context()) + " cannot hold a reference",
                      "secret references are allowed only in url, secret and password");
  return false;
}

// url: a secret reference or an http(s) URL. The value is never quoted.
void readUrl(TableReader& reader, ChannelSpec& channel, bool required) {
  std::optional<std::string> url = reader.string("url", required);
  if (!url) {
    return;
  }
  if (url->find("${") != std::string::npos) {
    if (!isSecretReference(*url)) {
      reader.sink().error(
          reader.where("url"),
          config::keyIn("url", reader.context()) + " holds '${' but is not one secret reference",
          std::string(kSecretForms));
      return;
    }
  } else if (!isUrl(*url, {"https://", "http://"})) {
    reader.sink().error(reader.where("url"),
                        config::keyIn("url", reader.context()) +
                            " is not an http:// or https:// URL (the value is not shown: it may "
                            "be a credential)",
                        "e.g. \"https://hooks.slack.com/services/...\" or a secret reference "
                        "such as \"${secret:env:OPS_SLACK_WEBHOOK}\"");
    return;
  }
  channel.url = std::move(*url);
}

// secret, password: a secret reference (or, with a warning, a literal).
std::optional<std::string> readSecretValue(TableReader& reader, std::string_view key,
                                           bool required) {
  std::optional<std::string> value = reader.string(key, required);
  if (!value) {
    return std::nullopt;
  }
  const std::string what = config::keyIn(key, reader.context());
  if (value->empty()) {
    reader.sink().error(reader.where(key), what + " is empty", std::string(kSecretForms));
    return std::nullopt;
  }
  if (value->find("${") != std::string::npos) {
    if (!isSecretReference(*value)) {
      reader.sink().error(reader.where(key), what + " holds '${' but is not one secret reference",
                          std::string(kSecretForms));
      return std::nullopt;
    }
  } else {
    reader.sink().warning(reader.where(key), what + " is a secret written in clear in the plan",
                          std::string(kSecretForms));
  }
  return value;
}

void readEmail(TableReader& reader, ChannelSpec& channel) {
  DiagnosticSink& sink = reader.sink();
  const std::string& context = reader.context();
  if (auto smtp = reader.string("smtp_url", true);
      smtp && refuseReference(reader, "smtp_url", *smtp)) {
    if (isUrl(*smtp, {"smtp://", "smtps://"})) {
      channel.smtpUrl = *smtp;
    } else {
      sink.error(reader.where("smtp_url"),
                 config::keyIn("smtp_url", context) + " " + quotedSafely(*smtp) +
                     " is not smtp://HOST:PORT or smtps://HOST:PORT",
                 "smtp:// always upgrades with STARTTLS; smtps:// is TLS from the start");
    }
  }
  if (auto from = reader.string("from", true); from && refuseReference(reader, "from", *from)) {
    if (isEmailAddress(*from)) {
      channel.from = *from;
    } else {
      sink.error(
          reader.where("from"),
          config::keyIn("from", context) + " " + quotedSafely(*from) + " is not an email address",
          "e.g. \"lifeboat@localhost\"");
    }
  }
  if (auto to = namesAt(reader, "to", true)) {
    if (to->empty()) {
      sink.error(reader.where("to"), config::keyIn("to", context) + " is empty",
                 "list at least one recipient");
    }
    for (const NameAt& address : *to) {
      if (address.name.find("${") != std::string::npos) {
        sink.error(address.where, config::keyIn("to", context) + " cannot hold a reference",
                   "secret references are allowed only in url, secret and password");
      } else if (!isEmailAddress(address.name)) {
        sink.error(address.where, config::keyIn("to", context) + " " + quotedSafely(address.name) +
                                      " is not an email address");
      } else {
        channel.to.push_back(address.name);
      }
    }
    checkNoDuplicates(*to, "to", context, sink);
  }
  std::optional<std::string> username = reader.string("username");
  if (username && refuseReference(reader, "username", *username)) {
    channel.username = *username;
  }
  std::optional<std::string> password = readSecretValue(reader, "password", false);
  if (password) {
    channel.password = *password;
  }
  if (reader.has("username") != reader.has("password")) {
    const std::string_view missing = reader.has("username") ? "password" : "username";
    sink.error(reader.where(reader.has("username") ? "username" : "password"),
               context + " has " + (missing == "password" ? "username" : "password") + " without " +
                   std::string(missing),
               "SMTP authentication needs both; leave both out for none");
  }
}

void readChannel(const std::string& name, const Node& table, Plan& plan, DiagnosticSink& sink) {
  ChannelSpec channel;
  channel.name = name;
  channel.where = table.where;
  std::optional<ChannelKind> kind;
  const Node* kindNode = table.find("kind");
  if (kindNode == nullptr) {
    sink.error(table.where, "channel " + inQuotes(name) + " is missing required key 'kind'",
               std::string(kKindHint));
  } else if (!kindNode->isString()) {
    sink.error(kindNode->where,
               "'kind' in channel " + inQuotes(name) + " must be a string, not " +
                   std::string(config::kindName(kindNode->kind)),
               std::string(kKindHint));
  } else if (!(kind = parseChannelKind(kindNode->text))) {
    std::vector<std::string_view> kinds{"slack", "teams", "webhook", "email", "pagerduty"};
    std::string hint(kKindHint);
    if (auto suggestion = closestMatch(kindNode->text, kinds)) {
      hint = "did you mean \"" + *suggestion + "\"?";
    }
    sink.error(kindNode->where,
               "channel " + inQuotes(name) + " has unknown kind " + quotedSafely(kindNode->text),
               hint);
  }
  const std::string context =
      (kind ? std::string(channelKindName(*kind)) + " channel " : std::string("channel ")) +
      inQuotes(name);
  TableReader reader = readerFor(table, context, kind, sink);
  if (kind) {
    channel.kind = *kind;
    switch (*kind) {
      case ChannelKind::slack:
      case ChannelKind::teams:
        readUrl(reader, channel, true);
        break;
      case ChannelKind::webhook:
        readUrl(reader, channel, true);
        if (auto secret = readSecretValue(reader, "secret", true)) {
          channel.secret = *secret;
        }
        break;
      case ChannelKind::pagerduty:
        channel.url = std::string(kPagerDutyEventsUrl);
        readUrl(reader, channel, false);
        if (auto secret = readSecretValue(reader, "secret", true)) {
          channel.secret = *secret;
        }
        if (auto severity = reader.choice("severity", {"critical", "error", "warning", "info"})) {
          channel.severity = *severity;
        }
        break;
      case ChannelKind::email:
        readEmail(reader, channel);
        break;
    }
  }
  if (auto caFile = reader.string("ca_file");
      caFile && refuseReference(reader, "ca_file", *caFile)) {
    if (caFile->empty() || caFile->front() != '/') {
      sink.error(reader.where("ca_file"),
                 config::keyIn("ca_file", context) + " " + quotedSafely(*caFile) +
                     " is not an absolute path",
                 "the PEM file of the CA that signed the receiver's certificate, e.g. "
                 "\"/etc/lifeboat/receiver-ca.pem\"");
    } else {
      channel.caFile = *caFile;
    }
  }
  if (auto perMinute = reader.number("per_minute")) {
    if (!(*perMinute > 0 && *perMinute <= 6000)) {
      sink.error(reader.where("per_minute"),
                 config::keyIn("per_minute", context) + " must be above 0 and at most 6000",
                 "messages a minute this channel may take, e.g. 30 (Slack allows about 60)");
    } else {
      channel.perMinute = *perMinute;
    }
  }
  if (auto timeout = reader.duration("timeout")) {
    if (*timeout < std::chrono::seconds(1) || *timeout > std::chrono::minutes(5)) {
      sink.error(reader.where("timeout"),
                 config::keyIn("timeout", context) + " is " + formatDuration(*timeout) +
                     ", outside 1s..5m",
                 "how long one attempt may take, e.g. \"10s\"");
    } else {
      channel.timeout = *timeout;
    }
  }
  if (auto giveUp = reader.duration("give_up_after")) {
    if (*giveUp < std::chrono::seconds(1) || *giveUp > std::chrono::hours(24 * 7)) {
      sink.error(reader.where("give_up_after"),
                 config::keyIn("give_up_after", context) + " is " + formatDuration(*giveUp) +
                     ", outside 1s..7d",
                 "how long to keep retrying a message, e.g. \"1h\"");
    } else {
      channel.giveUpAfter = *giveUp;
    }
  }
  plan.channels.emplace(name, std::move(channel));
}

}  // namespace

void readChannels(const Node& channels, Plan& plan, DiagnosticSink& sink) {
  for (const auto& [name, table] : channels.members) {
    if (!table.isTable()) {
      sink.error(table.where, "channels." + name + " must be a table",
                 "write [channels." + name + "] with kind and its keys");
      continue;
    }
    if (!checkName("channel", name, table.where, sink)) {
      continue;
    }
    if (name == kStatusPageChannel) {
      sink.error(table.where, "'status_page' is the built-in status page channel",
                 "give this channel another name; audiences list \"status_page\" to publish "
                 "on the status page ([status_page] sets its title)");
      continue;
    }
    readChannel(name, table, plan, sink);
  }
}

}  // namespace lifeboat::comms::detail
