// Each check of parsePlan() and the diagnostic it gives: `line:col`,
// severity, message (and hint where it matters).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lifeboat/comms/plan.hpp"

namespace lifeboat::comms {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// A valid plan of 15 lines; each case appends from line 16.
constexpr std::string_view kBase = R"([channels.ops]
kind = "slack"
url = "http://127.0.0.1:9/hook"
[roles.incident_commander]
person = "Dana"
channels = ["ops"]
[audiences.eng]
channels = ["ops"]
[templates.t]
subject = "s {{service}}"
body = "b"
[[rules]]
on = "opened"
audiences = ["eng"]
template = "t"
)";

struct Parsed {
  bool ok = false;
  std::vector<std::string> lines;  // "line:col: severity: message [hint]"
  std::string all;
};

Parsed parse(std::string_view text) {
  DiagnosticSink sink;
  Parsed parsed;
  parsed.ok = parsePlan(text, sink).has_value();
  for (const Diagnostic& diagnostic : sink.sorted()) {
    std::string line = std::to_string(diagnostic.where.line) + ":" +
                       std::to_string(diagnostic.where.column) + ": " +
                       (diagnostic.severity == Severity::error ? "error: " : "warning: ") +
                       diagnostic.message;
    if (!diagnostic.hint.empty()) {
      line += " [" + diagnostic.hint + "]";
    }
    parsed.all += line + "\n";
    parsed.lines.push_back(std::move(line));
  }
  return parsed;
}

TEST(PlanChecksTest, TheBaseIsValid) {
  const Parsed parsed = parse(kBase);
  EXPECT_TRUE(parsed.ok) << parsed.all;
  EXPECT_THAT(parsed.lines, IsEmpty());
}

struct Case {
  const char* name;
  std::string appended;  // after kBase, from line 16
  std::string expected;  // the start of one diagnostic line
};

class PlanCheckTest : public ::testing::TestWithParam<Case> {};

TEST_P(PlanCheckTest, Reports) {
  const Case& check = GetParam();
  const Parsed parsed = parse(std::string(kBase) + check.appended);
  EXPECT_THAT(parsed.lines, Contains(StartsWith(check.expected))) << parsed.all;
  if (check.expected.find(": error: ") != std::string::npos) {
    EXPECT_FALSE(parsed.ok);
  } else {
    EXPECT_TRUE(parsed.ok) << parsed.all;
  }
}

const Case kCases[] = {
    // --- the file and its tables ---
    {"UnknownTopLevelKey", "[channel.x]\n",
     "16:1: error: unknown key 'channel' in the communication plan [did you mean 'channels'?]"},
    {"TomlSyntax", "[audiences.x\n", "16:13: error: TOML syntax: "},
    {"NonAsciiOutsideStrings", "é = 1\n", "16:1: error: "},
    // --- channels ---
    {"ChannelKindMissing", "[channels.x]\nurl = \"http://127.0.0.1:9/\"\n",
     "16:1: error: channel 'x' is missing required key 'kind'"},
    {"ChannelKindUnknown", "[channels.x]\nkind = \"slak\"\nurl = \"http://127.0.0.1:9/\"\n",
     "17:8: error: channel 'x' has unknown kind 'slak' [did you mean \"slack\"?]"},
    {"ChannelKeyOfAnotherKind",
     "[channels.x]\nkind = \"slack\"\nurl = \"http://127.0.0.1:9/\"\nsmtp_url = "
     "\"smtp://127.0.0.1:25\"\n",
     "19:12: error: unknown key 'smtp_url' in slack channel 'x'"},
    {"ChannelKeyTypo", "[channels.x]\nkind = \"teams\"\nurll = \"http://127.0.0.1:9/\"\n",
     "18:8: error: unknown key 'urll' in teams channel 'x' [did you mean 'url'?]"},
    {"ChannelUrlRequired", "[channels.x]\nkind = \"teams\"\n",
     "16:1: error: teams channel 'x' is missing required key 'url'"},
    {"ChannelUrlNotHttp", "[channels.x]\nkind = \"slack\"\nurl = \"ftp://127.0.0.1/abc\"\n",
     "18:7: error: 'url' in slack channel 'x' is not an http:// or https:// URL"},
    {"ChannelUrlWithoutHost",
     "[channels.x]\nkind = \"webhook\"\nurl = \"https:///path\"\nsecret "
     "= \"${secret:env:K}\"\n",
     "18:7: error: 'url' in webhook channel 'x' is not an http:// or https:// URL"},
    {"ChannelUrlBadReference", "[channels.x]\nkind = \"slack\"\nurl = \"${secret:env:bad-name}\"\n",
     "18:7: error: 'url' in slack channel 'x' holds '${' but is not one secret reference"},
    {"WebhookSecretRequired", "[channels.x]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n",
     "16:1: error: webhook channel 'x' is missing required key 'secret'"},
    {"SecretInClear",
     "[channels.x]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nsecret = \"k\"\n"
     "[audiences.y]\nchannels = [\"x\"]\n[[rules]]\non = \"opened\"\naudiences = [\"y\"]\n"
     "template = \"t\"\n",
     "19:10: warning: 'secret' in webhook channel 'x' is a secret written in clear"},
    {"SecretEmpty", "[channels.x]\nkind = \"pagerduty\"\nsecret = \"\"\n",
     "18:10: error: 'secret' in pagerduty channel 'x' is empty"},
    {"PagerDutySeverity",
     "[channels.x]\nkind = \"pagerduty\"\nsecret = \"${secret:env:K}\"\nseverity = \"critcal\"\n",
     "19:12: error: 'severity' in pagerduty channel 'x' is \"critcal\", not one of"},
    {"SmtpUrlScheme",
     "[channels.x]\nkind = \"email\"\nsmtp_url = \"http://127.0.0.1:25\"\nfrom = "
     "\"a@localhost\"\nto = [\"b@localhost\"]\n",
     "18:12: error: 'smtp_url' in email channel 'x' 'http://127.0.0.1:25' is not smtp://HOST:PORT "
     "or smtps://HOST:PORT"},
    {"SmtpUrlReference",
     "[channels.x]\nkind = \"email\"\nsmtp_url = \"${secret:env:SMTP}\"\nfrom = "
     "\"a@localhost\"\nto = [\"b@localhost\"]\n",
     "18:12: error: 'smtp_url' in email channel 'x' cannot hold a reference [secret references "
     "are allowed only in url, secret and password]"},
    {"EmailToRequired",
     "[channels.x]\nkind = \"email\"\nsmtp_url = \"smtp://127.0.0.1:25\"\nfrom = \"a@localhost\"\n",
     "16:1: error: email channel 'x' is missing required key 'to'"},
    {"EmailBadRecipient",
     "[channels.x]\nkind = \"email\"\nsmtp_url = \"smtps://127.0.0.1:465\"\nfrom = "
     "\"a@localhost\"\nto = [\"b@localhost\", \"c@localhost\\r\\nBcc: d@localhost\"]\n",
     "20:22: error: 'to' in email channel 'x' 'c@localhost\\x0d\\x0aBcc: d@localhost' is not an "
     "email address"},
    {"EmailUsernameWithoutPassword",
     "[channels.x]\nkind = \"email\"\nsmtp_url = \"smtp://127.0.0.1:25\"\nfrom = "
     "\"a@localhost\"\nto = [\"b@localhost\"]\nusername = \"u\"\n",
     "21:12: error: email channel 'x' has username without password"},
    {"CaFileRelative",
     "[channels.x]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\nca_file = \"ca.pem\"\n",
     "19:11: error: 'ca_file' in slack channel 'x' 'ca.pem' is not an absolute path"},
    {"PerMinuteZero",
     "[channels.x]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\nper_minute = 0\n",
     "19:14: error: 'per_minute' in slack channel 'x' must be above 0 and at most 6000"},
    {"TimeoutSyntax",
     "[channels.x]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\ntimeout = \"10 s\"\n",
     "19:11: error: 'timeout' in slack channel 'x': invalid duration '10 s'"},
    {"TimeoutRange",
     "[channels.x]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\ntimeout = \"10m\"\n",
     "19:11: error: 'timeout' in slack channel 'x' is 10m, outside 1s..5m"},
    {"GiveUpAfterRange",
     "[channels.x]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\ngive_up_after = \"500ms\"\n",
     "19:17: error: 'give_up_after' in slack channel 'x' is 500ms, outside 1s..7d"},
    {"ChannelNamedStatusPage",
     "[channels.status_page]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\n",
     "16:1: error: 'status_page' is the built-in status page channel"},
    {"ChannelBadName", "[channels.\"a b\"]\nkind = \"slack\"\nurl = \"https://127.0.0.1:9/\"\n",
     "16:1: error: channel name 'a b' is not 1-64 letters, digits, '_' or '-'"},
    // --- roles ---
    {"UnknownRole", "[roles.aprover]\nperson = \"x\"\n",
     "16:1: error: unknown role 'aprover' in [roles] [did you mean 'approver'?]"},
    {"RoleUnknownChannel", "[roles.approver]\nperson = \"Lee\"\nchannels = [\"opz\"]\n",
     "18:13: error: unknown channel 'opz' in 'channels' in role 'approver' [did you mean 'ops'?]"},
    {"RoleStatusPage", "[roles.approver]\nperson = \"Lee\"\nchannels = [\"status_page\"]\n",
     "18:13: error: 'channels' in role 'approver' cannot list the status page"},
    {"RolePersonRequired", "[roles.approver]\nemail = \"lee@localhost\"\n",
     "16:1: error: role 'approver' is missing required key 'person'"},
    {"RoleEmail", "[roles.approver]\nperson = \"Lee\"\nemail = \"lee\"\n",
     "18:9: error: 'email' in role 'approver' 'lee' is not an email address"},
    // --- audiences ---
    {"AudienceUnknownChannel", "[audiences.x]\nchannels = [\"ops\", \"opz\"]\n",
     "17:20: error: unknown channel 'opz' in 'channels' in audience 'x' [did you mean 'ops'?]"},
    {"AudienceStatusPageTypo", "[audiences.x]\nexternal = true\nchannels = [\"status-page\"]\n",
     "18:13: error: unknown channel 'status-page' in 'channels' in audience 'x' [did you mean "
     "'status_page'?]"},
    {"AudienceChannelsRequired", "[audiences.x]\nexternal = true\n",
     "16:1: error: audience 'x' is missing required key 'channels'"},
    {"AudienceChannelTwice", "[audiences.x]\nchannels = [\"ops\", \"ops\"]\n",
     "17:20: error: 'channels' in audience 'x' lists 'ops' twice"},
    {"InternalAudienceOnStatusPage", "[audiences.x]\nchannels = [\"status_page\"]\n",
     "17:13: error: 'channels' in audience 'x' cannot list the status page [the status page is "
     "public: only an audience with external = true may list it]"},
    {"StatusPageAsDrillChannel",
     "[audiences.x]\nexternal = true\nchannels = [\"status_page\"]\ndrill_channels = "
     "[\"status_page\"]\n",
     "19:19: error: 'drill_channels' in audience 'x' cannot list the status page"},
    {"DrillChannelsMissing", "[audiences.x]\nchannels = [\"ops\"]\ndrill = \"drill_channels\"\n",
     "18:9: error: audience 'x' has drill = \"drill_channels\" but no drill_channels"},
    {"DrillHeldWithChannels",
     "[audiences.x]\nchannels = [\"ops\"]\ndrill = \"held\"\ndrill_channels = [\"ops\"]\n",
     "19:18: error: audience 'x' has drill = \"held\" and drill_channels"},
    {"DrillModeUnknown", "[audiences.x]\nchannels = [\"ops\"]\ndrill = \"rehearse\"\n",
     "18:9: error: 'drill' in audience 'x' is \"rehearse\", not one of \"held\", "
     "\"drill_channels\", \"real\""},
    {"ExternalRealDrill",
     "[audiences.x]\nchannels = [\"ops\"]\nexternal = true\ndrill = \"real\"\n[[rules]]\non = "
     "\"opened\"\naudiences = [\"x\"]\ntemplate = \"t\"\n",
     "19:9: warning: audience 'x' is external and has drill = \"real\": drills reach customers"},
    {"ApprovalWithoutSpokesperson",
     "[audiences.x]\nchannels = [\"ops\"]\napproval = \"spokesperson\"\n",
     "18:12: error: audience 'x' needs approval but the plan has no [roles.spokesperson]"},
    {"ApprovalWithoutTokens",
     "[roles.spokesperson]\nperson = \"Sam\"\n[audiences.x]\nchannels = [\"ops\"]\napproval = "
     "\"spokesperson\"\n",
     "20:12: error: audience 'x' needs approval but [roles.spokesperson] has no tokens"},
    {"EveryWithoutUpdateRule", "[audiences.x]\nchannels = [\"ops\"]\nevery = \"30m\"\n",
     "18:9: error: audience 'x' has every but no [[rules]] with on = \"update\" lists it"},
    {"EveryTooShort", "[audiences.x]\nchannels = [\"ops\"]\nevery = \"500ms\"\n",
     "18:9: error: 'every' in audience 'x' is 500ms, outside 1s..1d"},
    {"EveryShortWarns",
     "[audiences.x]\nchannels = [\"ops\"]\nevery = \"1m\"\n[[rules]]\non = \"update\"\n"
     "audiences = [\"x\"]\ntemplate = \"t\"\n",
     "18:9: warning: 'every' in audience 'x' is 1m: an update more often than every 5 minutes "
     "floods people"},
    {"UnusedAudience", "[audiences.x]\nchannels = [\"ops\"]\n",
     "16:1: warning: audience 'x' is in no [[rules]]"},
    // --- templates ---
    {"UnknownPlaceholder", "[templates.u]\nsubject = \"{{servce}} down\"\nbody = \"b\"\n",
     "17:11: error: 'subject' in template 'u' uses {{servce}}, which names no fact [did you mean "
     "{{service}}?]"},
    {"UnknownPlaceholderInBody",
     "[templates.u]\nsubject = \"s\"\nbody = \"\"\"\nETA {{ ETA }}\"\"\"\n",
     "18:8: error: 'body' in template 'u' uses {{ETA}}, which names no fact [did you mean "
     "{{eta}}? (fact names are lower case)]"},
    {"SecretInTemplate", "[templates.u]\nsubject = \"s\"\nbody = \"key ${secret:env:KEY}\"\n",
     "18:8: error: 'body' in template 'u' holds a secret reference"},
    {"SubjectTwoLines", "[templates.u]\nsubject = \"a\\nb\"\nbody = \"b\"\n",
     "17:11: error: 'subject' in template 'u' must be one line"},
    {"SubjectRequired", "[templates.u]\nbody = \"b\"\n",
     "16:1: error: template 'u' is missing required key 'subject'"},
    {"TemplateKeyTypo", "[templates.u]\nsubject = \"s\"\nbodi = \"b\"\n",
     "18:8: error: unknown key 'bodi' in template 'u' [did you mean 'body'?]"},
    {"VariantForUnknownAudience", "[templates.t.engg]\nsubject = \"x\"\n",
     "16:1: error: unknown audience 'engg' in [templates.t] [did you mean 'eng'?]"},
    {"VariantEmpty", "[templates.t.eng]\n",
     "16:1: error: template 't' for audience 'eng' has neither subject nor body"},
    {"VariantPlaceholder", "[templates.t.eng]\nbody = \"{{stat}}\"\n",
     "17:8: error: 'body' in template 't' for audience 'eng' uses {{stat}}, which names no fact "
     "[did you mean {{state}}?]"},
    {"UnusedTemplate", "[templates.u]\nsubject = \"s\"\nbody = \"b\"\n",
     "16:1: warning: template 'u' is used by no [[rules]]"},
    // --- rules ---
    {"RuleUnknownTrigger", "[[rules]]\non = \"open\"\naudiences = [\"eng\"]\ntemplate = \"t\"\n",
     "17:6: error: 'on' in [[rules]] #2 is \"open\", not one of"},
    {"RuleOnRequired", "[[rules]]\naudiences = [\"eng\"]\ntemplate = \"t\"\n",
     "16:1: error: [[rules]] #2 is missing required key 'on'"},
    {"RuleUnknownTemplate",
     "[[rules]]\non = \"resolved\"\naudiences = [\"eng\"]\ntemplate = \"tt\"\n",
     "19:12: error: unknown template 'tt' in 'template' in [[rules]] #2 [did you mean 't'?]"},
    {"RuleUnknownAudience",
     "[[rules]]\non = \"resolved\"\naudiences = [\"engs\"]\ntemplate = \"t\"\n",
     "18:14: error: unknown audience 'engs' in 'audiences' in [[rules]] #2 [did you mean 'eng'?]"},
    {"MilestoneWithoutSteps",
     "[[rules]]\non = \"milestone\"\naudiences = [\"eng\"]\ntemplate = \"t\"\n",
     "16:1: error: [[rules]] #2 (on = \"milestone\") lists no steps"},
    {"StepsOutsideMilestone",
     "[[rules]]\non = \"resolved\"\naudiences = [\"eng\"]\ntemplate = \"t\"\nsteps = [\"a\"]\n",
     "20:9: error: 'steps' in [[rules]] #2 is used only with on = \"milestone\""},
    {"UpdateWithoutEvery", "[[rules]]\non = \"update\"\naudiences = [\"eng\"]\ntemplate = \"t\"\n",
     "18:14: error: [[rules]] #2 (on = \"update\") lists audience 'eng', which has no every"},
    {"TwoUpdateRules",
     "[audiences.x]\nchannels = [\"ops\"]\nevery = \"30m\"\n[[rules]]\non = \"update\"\naudiences "
     "= "
     "[\"x\"]\ntemplate = \"t\"\n[[rules]]\non = \"update\"\naudiences = [\"x\"]\ntemplate = "
     "\"t\"\n",
     "25:14: error: [[rules]] #3 (on = \"update\") lists audience 'x', which an earlier update "
     "rule lists"},
    {"FactOfAnotherTrigger",
     "[templates.u]\nsubject = \"{{decision}}\"\nbody = \"b\"\n[[rules]]\non = \"opened\"\n"
     "audiences = [\"eng\"]\ntemplate = \"u\"\n",
     "22:12: warning: [[rules]] #2 (on = \"opened\") uses template 'u' with {{decision}}, which "
     "only decision rules provide: it renders as \"unknown\""},
    // --- status page and services ---
    {"StatusPageUnknownService", "[services.orders]\n[status_page]\nservices = [\"order\"]\n",
     "18:13: error: unknown service 'order' in 'services' in [status_page] [did you mean "
     "'orders'?]"},
    {"StatusPageTitle", "[status_page]\ntitle = \"\"\n",
     "17:9: error: 'title' in [status_page] must be one line of text, not empty"},
    {"ServiceKeyTypo", "[services.orders]\nimpakt = \"x\"\n",
     "17:10: error: unknown key 'impakt' in service 'orders' [did you mean 'impact'?]"},
};

INSTANTIATE_TEST_SUITE_P(Checks, PlanCheckTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PlanChecksTest, IncidentCommanderIsRequired) {
  const std::string without = std::string(kBase).replace(
      kBase.find("[roles.incident_commander]"),
      std::string_view("[roles.incident_commander]\nperson = \"Dana\"\nchannels = [\"ops\"]\n")
          .size(),
      "");
  const Parsed parsed = parse(without);
  EXPECT_FALSE(parsed.ok);
  EXPECT_THAT(parsed.lines,
              Contains(StartsWith("1:1: error: the plan has no [roles.incident_commander]")));
}

TEST(PlanChecksTest, IncidentCommanderNeedsChannels) {
  std::string text(kBase);
  text.replace(text.find("channels = [\"ops\"]\n[audiences"), 18, "channels = []");
  const Parsed parsed = parse(text);
  EXPECT_FALSE(parsed.ok);
  EXPECT_THAT(
      parsed.lines,
      Contains(StartsWith("6:12: error: 'channels' in role 'incident_commander' is empty")));
}

TEST(PlanChecksTest, RulesMustBeAnArrayOfTables) {
  const Parsed parsed = parse("rules = 1\n[roles.incident_commander]\nperson = \"Dana\"\n");
  EXPECT_FALSE(parsed.ok);
  EXPECT_THAT(parsed.lines,
              Contains(StartsWith("1:9: error: rules must be written as [[rules]] tables")));
}

TEST(PlanChecksTest, SecretValuesNeverAppearInDiagnostics) {
  const Parsed parsed = parse(
      std::string(kBase) +
      "[channels.a]\nkind = \"slack\"\nurl = \"hooks.example/T00/B00/XXXXsecretpath\"\n"
      "[channels.b]\nkind = \"webhook\"\nurl = \"https://127.0.0.1:9/x?token=YYYYsecretquery\"\n"
      "secret = \"ZZZZsecretkey\"\n"
      "[channels.c]\nkind = \"email\"\nsmtp_url = \"smtp://127.0.0.1:25\"\nfrom = "
      "\"a@localhost\"\nto = [\"b@localhost\"]\nusername = \"u\"\npassword = "
      "\"WWWWsecret${pass\"\n");
  EXPECT_FALSE(parsed.ok);
  EXPECT_THAT(parsed.all, HasSubstr("'url' in slack channel 'a' is not an http"));
  EXPECT_THAT(parsed.all, HasSubstr("'password' in email channel 'c' holds '${'"));
  EXPECT_THAT(parsed.all,
              HasSubstr("'secret' in webhook channel 'b' is a secret written in clear"));
  for (const char* secret : {"XXXXsecret", "YYYYsecret", "ZZZZsecret", "WWWWsecret"}) {
    EXPECT_THAT(parsed.all, Not(HasSubstr(secret)));
  }
}

TEST(PlanChecksTest, EveryProblemIsReportedAtOnce) {
  const Parsed parsed =
      parse(std::string(kBase) +
            "[channels.x]\nkind = \"slak\"\n[audiences.y]\nchannels = [\"nope\"]\n"
            "[templates.u]\nsubject = \"{{nope}}\"\nbody = \"b\"\n");
  EXPECT_FALSE(parsed.ok);
  EXPECT_THAT(parsed.lines, Contains(StartsWith("17:8: error: channel 'x' has unknown kind")));
  EXPECT_THAT(parsed.lines, Contains(StartsWith("19:13: error: unknown channel 'nope'")));
  EXPECT_THAT(parsed.lines, Contains(StartsWith("21:11: error: 'subject' in template 'u' uses")));
}

}  // namespace
}  // namespace lifeboat::comms
