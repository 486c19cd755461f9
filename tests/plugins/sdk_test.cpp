#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "lifeboat/plugin_sdk/plugin.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::plugin_sdk {
namespace {

namespace json = boost::json;
using plugin::ActionSchema;
using plugin::ParamSchema;
using plugin::ParamType;
using ::testing::HasSubstr;
using ::testing::Not;

plugin::PluginDescription testDescription() {
  plugin::PluginDescription description;
  description.name = "demo";
  description.version = "0.0.1";
  description.description = "a plugin for tests";
  description.targetParams = {
      ParamSchema{.name = "host", .type = ParamType::string, .required = true},
      ParamSchema{.name = "password", .type = ParamType::string, .secret = true},
  };
  description.actions = {
      ActionSchema{
          .name = "promote",
          .description = "promotes",
          .params =
              {
                  ParamSchema{
                      .name = "wait", .type = ParamType::duration, .defaultValue = "\"30s\""},
                  ParamSchema{.name = "attempts", .type = ParamType::integer, .defaultValue = "3"},
                  ParamSchema{.name = "ratio", .type = ParamType::number},
                  ParamSchema{.name = "force", .type = ParamType::boolean, .defaultValue = "false"},
                  ParamSchema{.name = "mode",
                              .type = ParamType::string,
                              .defaultValue = "\"fast\"",
                              .allowed = {"fast", "smart"}},
                  ParamSchema{.name = "tags", .type = ParamType::string_array},
                  ParamSchema{.name = "extra", .type = ParamType::table},
                  ParamSchema{.name = "reason", .type = ParamType::string, .required = true},
                  ParamSchema{.name = "token",
                              .type = ParamType::string,
                              .secret = true,
                              .allowed = {"alpha", "beta"}},
              },
          .outputs = {{"seen", "what the handler saw"}},
          .undoneBy = "demote",
      },
      ActionSchema{.name = "demote", .description = "demotes"},
      ActionSchema{.name = "lag", .description = "reads lag", .probe = true, .measuresRpo = true},
  };
  return description;
}

struct Answer {
  int status = -1;
  std::vector<std::string> lines;
  std::string log;
  json::object final;  // the last line
};

// Runs `plugin` in-process on `request` and parses what it wrote.
Answer ask(const Plugin& plugin, std::string_view request) {
  std::ostringstream out;
  std::ostringstream log;
  Answer answer;
  answer.status = plugin.handle(request, out, log);
  answer.log = log.str();
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    answer.lines.push_back(line);
  }
  if (!answer.lines.empty()) {
    answer.final = json::parse(answer.lines.back()).as_object();
  }
  return answer;
}

std::string errorOf(const Answer& answer) {
  const json::value* error = answer.final.if_contains("error");
  return error != nullptr && error->is_string() ? std::string(error->get_string()) : "";
}

std::string hintOf(const Answer& answer) {
  const json::value* hint = answer.final.if_contains("hint");
  return hint != nullptr && hint->is_string() ? std::string(hint->get_string()) : "";
}

class SdkTest : public ::testing::Test {
 protected:
  SdkTest() : plugin_(testDescription()) {
    plugin_
        .on("promote",
            [this](const Request& request, Reporter& reporter) -> Result<ActionResult> {
              ++calls_;
              seen_ = request;
              reporter.progress("promoting " + request.targetString("host").value_or("?"));
              reporter.log("log line for stderr");
              if (request.stringParam("reason") == "fail") {
                return Error{"could not promote with password " +
                                 request.targetString("password").value_or("") + " and token " +
                                 request.stringParam("token").value_or(""),
                             "hint mentions " + request.targetString("password").value_or("")};
              }
              if (request.stringParam("reason") == "throw") {
                throw std::runtime_error("boom");
              }
              if (request.stringParam("reason") == "leak") {
                reporter.progress("using " + request.targetString("password").value_or(""));
              }
              ActionResult result;
              result.outputs["seen"] = request.params;
              result.measurements["rpo_seconds"] = 1.5;
              return result;
            })
        .on("demote",
            [](const Request&, Reporter&) -> Result<ActionResult> { return ActionResult{}; })
        .on("lag", [this](const Request& request, Reporter&) -> Result<ActionResult> {
          ++calls_;
          seen_ = request;
          return ActionResult{};
        });
  }

  static std::string runRequest(std::string_view params,
                                std::string_view target = R"({"host":"db1"})") {
    return R"({"v":1,"op":"run","action":"promote","target":)" + std::string(target) +
           R"(,"params":)" + std::string(params) + "}";
  }

  Plugin plugin_;
  int calls_ = 0;
  Request seen_;
};

TEST_F(SdkTest, DescribeAnswersFromTheDeclaration) {
  Answer answer = ask(plugin_, R"({"v":1,"op":"describe"})");
  EXPECT_EQ(answer.status, kExitOk);
  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.final.at("ok"), true);
  auto parsed = plugin::parseDescription(answer.final.at("plugin"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(json::serialize(plugin::toJson(*parsed)),
            json::serialize(plugin::toJson(plugin_.description())));
  EXPECT_EQ(parsed->name, "demo");
  EXPECT_EQ(calls_, 0);
}

TEST_F(SdkTest, RunFillsDefaultsAndPassesCheckedValues) {
  Answer answer = ask(plugin_, R"({"v":1,"op":"run","action":"promote",
      "target":{"host":"db1","plugin":"demo","region":"eu-west-1","production":true},
      "params":{"reason":"drill","tags":["a","b"],"ratio":2,"extra":{"k":1}},
      "context":{"run":"r-1","step":"promote","drill":true,"fencing_token":42},
      "future":"ignored"})");
  ASSERT_EQ(answer.status, kExitOk) << errorOf(answer);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(seen_.operation, plugin::Operation::run);
  EXPECT_EQ(seen_.action, "promote");
  EXPECT_EQ(seen_.context.run, "r-1");
  EXPECT_EQ(seen_.context.step, "promote");
  EXPECT_TRUE(seen_.context.drill);
  EXPECT_EQ(seen_.context.fencingToken, "42");
  // Common target fields are accepted and not passed on.
  EXPECT_EQ(json::serialize(seen_.target), R"({"host":"db1"})");
  EXPECT_EQ(seen_.stringParam("wait"), "30s");
  EXPECT_EQ(seen_.integerParam("attempts"), 3);
  EXPECT_EQ(seen_.boolParam("force"), false);
  EXPECT_EQ(seen_.stringParam("mode"), "fast");
  EXPECT_EQ(seen_.numberParam("ratio"), 2.0);
  EXPECT_FALSE(seen_.stringParam("token").has_value());
  EXPECT_FALSE(seen_.stringParam("attempts").has_value());  // wrong getter: no value, no throw

  ASSERT_EQ(answer.lines.size(), 2u);
  auto progress = plugin::parseOutputLine(answer.lines[0]);
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(std::get<plugin::ProgressLine>(*progress).message, "promoting db1");
  auto final = plugin::parseOutputLine(answer.lines[1]);
  ASSERT_TRUE(final.ok());
  EXPECT_TRUE(std::get<plugin::FinalLine>(*final).ok);
  EXPECT_EQ(answer.final.at("measurements").at("rpo_seconds"), 1.5);
  EXPECT_EQ(answer.final.at("outputs").at("seen").at("attempts"), 3);
  EXPECT_THAT(answer.log, HasSubstr("log line for stderr"));
}

TEST_F(SdkTest, UnknownParamIsRefusedWithASuggestion) {
  Answer answer = ask(plugin_, runRequest(R"({"reason":"x","atempts":4})"));
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_EQ(answer.final.at("ok"), false);
  EXPECT_THAT(errorOf(answer), HasSubstr("unknown param 'atempts'"));
  EXPECT_THAT(errorOf(answer), HasSubstr("did you mean 'attempts'?"));
  EXPECT_THAT(hintOf(answer), HasSubstr("reason (string, required)"));
  EXPECT_EQ(calls_, 0);
}

TEST_F(SdkTest, UnknownTargetFieldIsRefused) {
  Answer answer = ask(plugin_, runRequest(R"({"reason":"x"})", R"({"host":"a","hots":"b"})"));
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(errorOf(answer), HasSubstr("target: unknown param 'hots' (did you mean 'host'?)"));
}

TEST_F(SdkTest, MissingRequiredParamAndTargetFieldAreRefused) {
  Answer answer = ask(plugin_, runRequest(R"({})"));
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(errorOf(answer), HasSubstr("missing required param 'reason'"));
  Answer noHost = ask(plugin_, runRequest(R"({"reason":"x"})", "{}"));
  EXPECT_EQ(noHost.status, kExitRejected);
  EXPECT_THAT(errorOf(noHost), HasSubstr("target: missing required param 'host'"));
  EXPECT_EQ(calls_, 0);
}

struct WrongType {
  std::string_view params;
  std::string_view mentions;
};

class SdkWrongTypeTest : public SdkTest, public ::testing::WithParamInterface<WrongType> {};

TEST_P(SdkWrongTypeTest, IsRefusedNamingTheParamAndTheType) {
  Answer answer = ask(plugin_, runRequest(GetParam().params));
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(errorOf(answer), HasSubstr(GetParam().mentions));
  EXPECT_EQ(calls_, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SdkWrongTypeTest,
    ::testing::Values(
        WrongType{R"({"reason":5})", "'reason' must be a string, not an integer"},
        WrongType{R"({"reason":"x","attempts":"three"})", "'attempts' must be an integer"},
        WrongType{R"({"reason":"x","attempts":"1.5"})", "'attempts' must be an integer"},
        WrongType{R"({"reason":"x","attempts":1.5})",
                  "'attempts' must be an integer, not a number"},
        WrongType{R"({"reason":"x","force":"yes"})", "'force' must be a boolean (true or false)"},
        WrongType{R"({"reason":"x","ratio":"2x"})", "'ratio' must be a number"},
        WrongType{R"({"reason":"x","ratio":" 2"})", "'ratio' must be a number"},
        WrongType{R"({"reason":"x","tags":["a",1]})", "'tags' must be an array of strings"},
        WrongType{R"({"reason":"x","extra":[]})", "'extra' must be a table"},
        WrongType{R"({"reason":"x","wait":30})", "'wait' must be a duration"},
        WrongType{R"({"reason":"x","wait":"30 seconds"})", "'wait'"},
        WrongType{R"({"reason":"x","mode":"fats"})", "did you mean 'fast'?"},
        WrongType{R"({"reason":null})", "not null"}));

// `${vars.port}` and the like expand to text: a string that spells a value of
// the declared type is that value.
TEST_F(SdkTest, TextFromReferencesBecomesTheDeclaredType) {
  Answer answer =
      ask(plugin_, runRequest(R"({"reason":"x","attempts":"7","ratio":"2.5","force":"true"})"));
  ASSERT_EQ(answer.status, kExitOk) << errorOf(answer);
  EXPECT_EQ(seen_.integerParam("attempts"), 7);
  EXPECT_EQ(seen_.numberParam("ratio"), 2.5);
  EXPECT_EQ(seen_.boolParam("force"), true);
  EXPECT_EQ(seen_.stringParam("reason"), "x");  // strings stay strings
}

TEST_F(SdkTest, ARequestCheckRefusesBeforeTheHandlerAndRedacts) {
  plugin_.checkRequests([](const Request& request) -> std::optional<Error> {
    if (request.stringParam("reason") == std::optional<std::string>("bad\nline")) {
      return Error{
          "reason has a newline (password " + request.targetString("password").value_or("") + ")",
          "one line"};
    }
    return std::nullopt;
  });
  Answer refused = ask(plugin_, runRequest(R"({"reason":"bad\nline"})",
                                           R"({"host":"a","password":"hunter2-secret"})"));
  EXPECT_EQ(refused.status, kExitRejected);
  EXPECT_THAT(errorOf(refused), HasSubstr("reason has a newline"));
  EXPECT_THAT(refused.log + errorOf(refused), Not(HasSubstr("hunter2-secret")));
  EXPECT_EQ(calls_, 0);
  Answer passed = ask(plugin_, runRequest(R"({"reason":"fine"})"));
  EXPECT_EQ(passed.status, kExitOk) << errorOf(passed);
  EXPECT_EQ(calls_, 1);
}

TEST_F(SdkTest, ReportsEveryProblemAtOnce) {
  Answer answer = ask(plugin_, runRequest(R"({"force":1,"bogus":true})"));
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(errorOf(answer), HasSubstr("unknown param 'bogus'"));
  EXPECT_THAT(errorOf(answer), HasSubstr("'force' must be a boolean (true or false)"));
  EXPECT_THAT(errorOf(answer), HasSubstr("missing required param 'reason'"));
}

TEST_F(SdkTest, SecretValuesNeverAppearInErrors) {
  Answer wrongType = ask(
      plugin_, runRequest(R"({"reason":"x"})", R"({"host":"a","password":["hunter2-secret"]})"));
  EXPECT_EQ(wrongType.status, kExitRejected);
  EXPECT_THAT(errorOf(wrongType), HasSubstr("'password' must be a string"));
  EXPECT_THAT(wrongType.lines.back(), Not(HasSubstr("hunter2")));

  Answer notAllowed = ask(plugin_, runRequest(R"({"reason":"x","token":"alphx-secret"})"));
  EXPECT_EQ(notAllowed.status, kExitRejected);
  EXPECT_THAT(errorOf(notAllowed), HasSubstr("'token' has a value that is not allowed"));
  EXPECT_THAT(notAllowed.lines.back(), Not(HasSubstr("alphx")));
  EXPECT_THAT(notAllowed.log, Not(HasSubstr("alphx")));
}

TEST_F(SdkTest, HandlerErrorsAndProgressAreRedacted) {
  Answer answer = ask(plugin_, runRequest(R"({"reason":"fail","token":"beta"})",
                                          R"({"host":"a","password":"s3cr3t-pw"})"));
  EXPECT_EQ(answer.status, kExitFailed);
  EXPECT_EQ(answer.final.at("ok"), false);
  EXPECT_EQ(errorOf(answer), "could not promote with password [redacted] and token [redacted]");
  EXPECT_EQ(hintOf(answer), "hint mentions [redacted]");
  EXPECT_THAT(answer.log, Not(HasSubstr("s3cr3t-pw")));

  Answer leak =
      ask(plugin_, runRequest(R"({"reason":"leak"})", R"({"host":"a","password":"s3cr3t-pw"})"));
  EXPECT_EQ(leak.status, kExitOk);
  ASSERT_EQ(leak.lines.size(), 3u);
  EXPECT_EQ(leak.lines[1], R"({"progress":"using [redacted]"})");
}

TEST_F(SdkTest, AHandlerExceptionBecomesAFailedAnswer) {
  Answer answer = ask(plugin_, runRequest(R"({"reason":"throw"})"));
  EXPECT_EQ(answer.status, kExitFailed);
  EXPECT_THAT(errorOf(answer), HasSubstr("boom"));
}

struct BadRequest {
  std::string_view request;
  std::string_view mentions;
};

class SdkBadRequestTest : public SdkTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(SdkBadRequestTest, IsRefusedWithExitTwo) {
  Answer answer = ask(plugin_, GetParam().request);
  EXPECT_EQ(answer.status, kExitRejected) << GetParam().request;
  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.final.at("ok"), false);
  EXPECT_THAT(errorOf(answer), HasSubstr("invalid request"));
  EXPECT_THAT(errorOf(answer), HasSubstr(GetParam().mentions));
  EXPECT_EQ(calls_, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SdkBadRequestTest,
    ::testing::Values(
        BadRequest{"", "not one JSON object"}, BadRequest{"{\"v\":1,", "not one JSON object"},
        BadRequest{"[1]", "not a JSON object"},
        BadRequest{R"({"v":1,"op":"describe"} {"v":1})", "not one JSON object"},
        BadRequest{R"({"op":"describe"})", "missing 'v'"},
        BadRequest{R"({"v":2,"op":"describe"})", "protocol version 2"},
        BadRequest{R"({"v":"1","op":"describe"})", "protocol version \"1\""},
        BadRequest{R"({"v":1})", "missing 'op'"},
        BadRequest{R"({"v":1,"op":"destroy"})", "unknown op 'destroy'"},
        BadRequest{R"({"v":1,"op":"run"})", "needs an 'action'"},
        BadRequest{R"({"v":1,"op":"run","action":"promte"})", "did you mean 'promote'?"},
        BadRequest{
            R"({"v":1,"op":"check","action":"promote","target":{"host":"a"},"params":{"reason":"x"}})",
            "'promote' is not a probe"},
        BadRequest{R"({"v":1,"op":"run","action":"lag","target":[]})",
                   "'target' must be an object"},
        BadRequest{R"({"v":1,"op":"run","action":"lag","target":{"host":"a"},"params":3})",
                   "'params' must be an object"},
        BadRequest{
            R"({"v":1,"op":"run","action":"lag","target":{"host":"a"},"context":{"drill":"yes"}})",
            "context.drill"},
        BadRequest{
            R"({"v":1,"op":"run","action":"lag","target":{"host":"a"},"context":{"fencing_token":1.5}})",
            "fencing_token"}));

TEST_F(SdkTest, CheckRunsAProbeAction) {
  Answer answer = ask(plugin_, R"({"v":1,"op":"check","action":"lag","target":{"host":"a"},
      "context":{"fencing_token":"t-9"}})");
  EXPECT_EQ(answer.status, kExitOk) << errorOf(answer);
  EXPECT_EQ(seen_.operation, plugin::Operation::check);
  EXPECT_EQ(seen_.context.fencingToken, "t-9");
  EXPECT_FALSE(seen_.context.drill);
}

TEST_F(SdkTest, CheckOnANonProbeActionNamesTheProbes) {
  Answer answer = ask(plugin_, R"({"v":1,"op":"check","action":"demote","target":{"host":"a"}})");
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(hintOf(answer), HasSubstr("probe actions of plugin demo: lag"));
}

TEST_F(SdkTest, RefusesARequestOverTheSizeCap) {
  std::string request = runRequest(R"({"reason":")" + std::string(kMaxRequestBytes, 'x') + "\"}");
  Answer answer = ask(plugin_, request);
  EXPECT_EQ(answer.status, kExitRejected);
  EXPECT_THAT(errorOf(answer), HasSubstr("larger than"));
  EXPECT_EQ(calls_, 0);
}

TEST(SdkRegistrationTest, AnActionWithoutAHandlerIsAPluginBug) {
  Plugin plugin(testDescription());
  plugin.on("promote",
            [](const Request&, Reporter&) -> Result<ActionResult> { return ActionResult{}; });
  Answer answer = ask(plugin, R"({"v":1,"op":"describe"})");
  EXPECT_EQ(answer.status, kExitFailed);
  EXPECT_THAT(errorOf(answer), HasSubstr("declares action 'demote' but registers no handler"));
}

TEST(SdkRegistrationTest, AHandlerForAnUndeclaredActionIsAPluginBug) {
  plugin::PluginDescription description;
  description.name = "tiny";
  description.version = "1";
  Plugin plugin(description);
  plugin.on("ghost",
            [](const Request&, Reporter&) -> Result<ActionResult> { return ActionResult{}; });
  Answer answer = ask(plugin, R"({"v":1,"op":"describe"})");
  EXPECT_EQ(answer.status, kExitFailed);
  EXPECT_THAT(errorOf(answer), HasSubstr("registers a handler for 'ghost'"));
}

TEST(SdkRegistrationTest, AnInvalidDeclarationIsAPluginBug) {
  plugin::PluginDescription description;
  description.name = "Not Valid";
  description.version = "1";
  Answer answer = ask(Plugin(description), R"({"v":1,"op":"describe"})");
  EXPECT_EQ(answer.status, kExitFailed);
  EXPECT_THAT(errorOf(answer), HasSubstr("not a valid plugin name"));
}

// plugins/sdk/example.sh: the protocol by hand in bash + jq.
class ExampleScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = (test_support::sourceDir() / "plugins/sdk/example.sh").string();
    ASSERT_TRUE(std::filesystem::exists(script_)) << script_;
    // Not a skip: the example is part of what we ship, and CI installs jq.
    ASSERT_EQ(::access("/usr/bin/jq", X_OK), 0)
        << "jq is missing: apt-get install jq (scripts/install-deps.sh)";
  }

  test_support::ProcessResult run(std::string_view request) {
    return test_support::runProcess({"/bin/bash", script_}, request);
  }

  std::string script_;
};

TEST_F(ExampleScriptTest, DescribeParsesAsADescription) {
  auto result = run(R"({"v":1,"op":"describe"})");
  EXPECT_EQ(result.exitCode, 0) << result.err;
  auto line = plugin::parseOutputLine(result.lastLine());
  ASSERT_TRUE(line.ok()) << line.error().message;
  ASSERT_TRUE(std::get<plugin::FinalLine>(*line).ok);
  auto description = plugin::parseDescription(json::parse(result.lastLine()).at("plugin"));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "example");
  const plugin::ActionSchema* echo = description->findAction("echo");
  ASSERT_NE(echo, nullptr);
  ASSERT_EQ(echo->params.size(), 1u);
  EXPECT_EQ(echo->params[0].name, "message");
  EXPECT_TRUE(echo->params[0].required);
}

TEST_F(ExampleScriptTest, RunEchoesWithAProgressLine) {
  auto result = run(R"({"v":1,"op":"run","action":"echo","target":{},
      "params":{"message":"hello \"there\""},"context":{"run":"r","step":"s","drill":true}})");
  EXPECT_EQ(result.exitCode, 0) << result.err;
  const auto lines = result.lines();
  ASSERT_EQ(lines.size(), 2u) << result.out;
  auto progress = plugin::parseOutputLine(lines[0]);
  ASSERT_TRUE(progress.ok()) << lines[0];
  EXPECT_TRUE(std::holds_alternative<plugin::ProgressLine>(*progress));
  auto final = json::parse(lines[1]);
  EXPECT_EQ(final.at("ok"), true);
  EXPECT_EQ(final.at("outputs").at("message"), "hello \"there\"");
}

TEST_F(ExampleScriptTest, BadRequestsAnswerOkFalse) {
  for (std::string_view request :
       {std::string_view("not json"), std::string_view(R"({"v":2,"op":"describe"})"),
        std::string_view(R"({"v":1,"op":"run","action":"shout","params":{"message":"x"}})"),
        std::string_view(R"({"v":1,"op":"run","action":"echo","params":{}})"),
        std::string_view(R"({"v":1,"op":"run","action":"echo","params":{"mesage":"x"}})"),
        std::string_view(R"({"v":1,"op":"check","action":"echo","params":{"message":"x"}})")}) {
    auto result = run(request);
    EXPECT_EQ(result.exitCode, 2) << request << "\n" << result.out << result.err;
    auto line = plugin::parseOutputLine(result.lastLine());
    ASSERT_TRUE(line.ok()) << request << ": " << result.out;
    ASSERT_TRUE(std::holds_alternative<plugin::FinalLine>(*line));
    EXPECT_FALSE(std::get<plugin::FinalLine>(*line).ok);
  }
  auto typo = run(R"({"v":1,"op":"run","action":"echo","params":{"mesage":"x"}})");
  EXPECT_THAT(typo.lastLine(), HasSubstr("did you mean 'message'?"));
}

}  // namespace
}  // namespace lifeboat::plugin_sdk
