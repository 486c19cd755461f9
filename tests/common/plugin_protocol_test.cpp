#include "lifeboat/common/plugin_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lifeboat::plugin {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

json::value parse(std::string_view text) {
  return json::parse(text);
}

constexpr std::string_view kDescription = R"({
  "name": "postgres",
  "version": "1.2.0",
  "description": "PostgreSQL failover",
  "target": {"params": {
    "password": {"type": "string", "secret": true, "description": "login password"},
    "dsn": {"type": "string", "required": true, "description": "connection string"}
  }},
  "actions": {
    "promote": {
      "description": "promote a standby",
      "params": {
        "wait": {"type": "duration", "default": "30s"},
        "mode": {"type": "string", "allowed": ["fast", "smart"], "default": "fast"},
        "attempts": {"type": "integer", "default": 3},
        "tags": {"type": "string_array"},
        "extra": {"type": "table"},
        "ratio": {"type": "number", "default": 0.5},
        "force": {"type": "boolean", "default": false}
      },
      "outputs": {"timeline": "new timeline", "address": "where it listens"},
      "undone_by": "demote"
    },
    "demote": {"description": "make it a standby again"},
    "replication_lag": {"probe": true, "measures_rpo": true, "future_field": 7}
  },
  "future_member": {"ignored": true}
})";

TEST(PluginProtocolTest, OperationNamesRoundTrip) {
  for (Operation operation : {Operation::describe, Operation::run, Operation::check}) {
    EXPECT_EQ(parseOperation(operationName(operation)), operation);
  }
  EXPECT_EQ(operationName(Operation::check), "check");
  EXPECT_FALSE(parseOperation("Run").has_value());
  EXPECT_FALSE(parseOperation("").has_value());
}

TEST(PluginProtocolTest, ParamTypeNamesRoundTrip) {
  for (ParamType type :
       {ParamType::string, ParamType::integer, ParamType::number, ParamType::boolean,
        ParamType::duration, ParamType::string_array, ParamType::table}) {
    EXPECT_EQ(parseParamType(paramTypeName(type)), type);
  }
  EXPECT_EQ(paramTypeName(ParamType::string_array), "string_array");
  EXPECT_FALSE(parseParamType("int").has_value());
}

TEST(PluginProtocolTest, ParsesEveryFieldOfADescription) {
  auto description = parseDescription(parse(kDescription));
  ASSERT_TRUE(description.ok()) << description.error().message;
  EXPECT_EQ(description->name, "postgres");
  EXPECT_EQ(description->version, "1.2.0");
  EXPECT_EQ(description->description, "PostgreSQL failover");

  ASSERT_EQ(description->targetParams.size(), 2u);
  EXPECT_EQ(description->targetParams[0].name, "dsn");  // sorted by name
  EXPECT_TRUE(description->targetParams[0].required);
  EXPECT_FALSE(description->targetParams[0].secret);
  EXPECT_EQ(description->targetParams[0].description, "connection string");
  EXPECT_EQ(description->targetParams[1].name, "password");
  EXPECT_TRUE(description->targetParams[1].secret);
  EXPECT_FALSE(description->targetParams[1].required);

  ASSERT_EQ(description->actions.size(), 3u);
  EXPECT_EQ(description->actions[0].name, "demote");
  EXPECT_EQ(description->actions[1].name, "promote");
  EXPECT_EQ(description->actions[2].name, "replication_lag");

  const ActionSchema* promote = description->findAction("promote");
  ASSERT_NE(promote, nullptr);
  EXPECT_EQ(promote->description, "promote a standby");
  EXPECT_EQ(promote->undoneBy, "demote");
  EXPECT_FALSE(promote->probe);
  EXPECT_FALSE(promote->measuresRpo);
  std::vector<std::string> names;
  for (const ParamSchema& param : promote->params) {
    names.push_back(param.name);
  }
  EXPECT_THAT(
      names, ::testing::ElementsAre("attempts", "extra", "force", "mode", "ratio", "tags", "wait"));
  EXPECT_EQ(promote->params[0].type, ParamType::integer);
  EXPECT_EQ(promote->params[0].defaultValue, "3");
  EXPECT_EQ(promote->params[1].type, ParamType::table);
  EXPECT_EQ(promote->params[1].defaultValue, "");
  EXPECT_EQ(promote->params[2].defaultValue, "false");
  EXPECT_THAT(promote->params[3].allowed, ::testing::ElementsAre("fast", "smart"));
  EXPECT_EQ(promote->params[3].defaultValue, "\"fast\"");
  EXPECT_EQ(promote->params[4].type, ParamType::number);
  EXPECT_EQ(promote->params[5].type, ParamType::string_array);
  EXPECT_EQ(promote->params[6].type, ParamType::duration);
  EXPECT_EQ(promote->params[6].defaultValue, "\"30s\"");
  ASSERT_EQ(promote->outputs.size(), 2u);
  EXPECT_EQ(promote->outputs[0].name, "address");
  EXPECT_EQ(promote->outputs[0].description, "where it listens");

  const ActionSchema* lag = description->findAction("replication_lag");
  ASSERT_NE(lag, nullptr);
  EXPECT_TRUE(lag->probe);
  EXPECT_TRUE(lag->measuresRpo);
  EXPECT_TRUE(lag->params.empty());
  EXPECT_EQ(description->findAction("promot"), nullptr);
}

TEST(PluginProtocolTest, ToJsonRoundTripsThroughParseDescription) {
  auto first = parseDescription(parse(kDescription));
  ASSERT_TRUE(first.ok());
  const json::value written = toJson(*first);
  auto second = parseDescription(written);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(json::serialize(toJson(*second)), json::serialize(written));

  const json::object& promote = written.at("actions").at("promote").as_object();
  EXPECT_EQ(promote.at("undone_by"), "demote");
  EXPECT_EQ(promote.at("params").at("attempts").at("default"), 3);
  EXPECT_EQ(promote.at("params").at("mode").at("allowed").as_array().size(), 2u);
  EXPECT_EQ(written.at("target").at("params").at("password").at("secret"), true);
  EXPECT_FALSE(written.at("actions").at("demote").as_object().contains("undone_by"));
}

TEST(PluginProtocolTest, ToJsonWritesMembersSortedWhateverTheDeclarationOrder) {
  PluginDescription description;
  description.name = "x";
  description.version = "1";
  ActionSchema zulu;
  zulu.name = "zulu";
  zulu.params = {ParamSchema{.name = "b"}, ParamSchema{.name = "a"}};
  zulu.outputs = {OutputSchema{.name = "y"}, OutputSchema{.name = "x"}};
  ActionSchema alpha;
  alpha.name = "alpha";
  description.actions = {zulu, alpha};
  EXPECT_EQ(
      json::serialize(toJson(description)),
      R"({"name":"x","version":"1","description":"","target":{"params":{}},"actions":{)"
      R"("alpha":{"description":"","params":{},"outputs":{},"probe":false,"measures_rpo":false},)"
      R"("zulu":{"description":"","params":{)"
      R"("a":{"type":"string","required":false,"secret":false,"description":""},)"
      R"("b":{"type":"string","required":false,"secret":false,"description":""}},)"
      R"("outputs":{"x":"","y":""},"probe":false,"measures_rpo":false}}})");
}

TEST(PluginProtocolTest, AnEmptyActionListIsAllowedButMissingActionsIsNot) {
  EXPECT_TRUE(parseDescription(parse(R"({"name":"x","version":"1","actions":{}})")).ok());
  auto missing = parseDescription(parse(R"({"name":"x","version":"1"})"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("actions"));
}

struct BadDescription {
  std::string_view json;
  std::string_view mentions;
};

class PluginProtocolBadDescriptionTest : public ::testing::TestWithParam<BadDescription> {};

TEST_P(PluginProtocolBadDescriptionTest, NamesTheMemberThatIsWrong) {
  auto description = parseDescription(parse(GetParam().json));
  ASSERT_FALSE(description.ok()) << GetParam().json;
  EXPECT_THAT(description.error().message, HasSubstr(GetParam().mentions));
  EXPECT_THAT(description.error().message, HasSubstr("plugin description"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PluginProtocolBadDescriptionTest,
    ::testing::Values(
        BadDescription{R"([1,2])", "expected an object"},
        BadDescription{R"({"version":"1","actions":{}})", "name"},
        BadDescription{R"({"name":7,"version":"1","actions":{}})", "name"},
        BadDescription{R"({"name":"Bad Name","version":"1","actions":{}})", "not a valid plugin"},
        BadDescription{R"({"name":"x","actions":{}})", "version"},
        BadDescription{R"({"name":"x","version":"1","actions":[]})", "actions"},
        BadDescription{R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{}}}}})",
                       "actions.a.params.p.type"},
        BadDescription{
            R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{"type":"strng"}}}}})",
            "did you mean 'string'"},
        BadDescription{
            R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{"type":"integer","default":"3"}}}}})",
            "actions.a.params.p.default"},
        BadDescription{
            R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{"type":"string","required":"yes"}}}}})",
            "actions.a.params.p.required"},
        BadDescription{
            R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{"type":"integer","allowed":["1"]}}}}})",
            "allowed"},
        BadDescription{
            R"({"name":"x","version":"1","actions":{"a":{"params":{"p":{"type":"string","allowed":["a"],"default":"b"}}}}})",
            "allowed values"},
        BadDescription{R"({"name":"x","version":"1","actions":{"a":{"outputs":{"o":1}}}})",
                       "actions.a.outputs.o"},
        BadDescription{R"({"name":"x","version":"1","actions":{"a":{"probe":"true"}}})",
                       "actions.a.probe"},
        BadDescription{R"({"name":"x","version":"1","actions":{"a":{"undone_by":"b"}}})",
                       "actions.a.undone_by"},
        BadDescription{R"({"name":"x","version":"1","actions":{"a b":{}}})", "action name"},
        BadDescription{R"({"name":"x","version":"1","target":{"params":[]},"actions":{}})",
                       "target.params"}));

TEST(PluginProtocolTest, ClassifiesProgressLines) {
  auto line = parseOutputLine(R"({"progress":"copying 3 of 9"})");
  ASSERT_TRUE(line.ok()) << line.error().message;
  ASSERT_TRUE(std::holds_alternative<ProgressLine>(*line));
  EXPECT_EQ(std::get<ProgressLine>(*line).message, "copying 3 of 9");
}

TEST(PluginProtocolTest, ClassifiesASuccessfulFinalLineAndKeepsItsText) {
  const std::string_view text = R"({"ok":true,"outputs":{"a":1},"measurements":{"rpo_seconds":2}})";
  auto line = parseOutputLine(text);
  ASSERT_TRUE(line.ok()) << line.error().message;
  ASSERT_TRUE(std::holds_alternative<FinalLine>(*line));
  const FinalLine& answer = std::get<FinalLine>(*line);
  EXPECT_TRUE(answer.ok);
  EXPECT_EQ(answer.json, text);
  EXPECT_EQ(json::parse(answer.json).at("measurements").at("rpo_seconds"), 2);
}

TEST(PluginProtocolTest, ClassifiesAFailingFinalLine) {
  auto line = parseOutputLine(R"({"ok":false,"error":"standby is gone","hint":"check it"})");
  ASSERT_TRUE(line.ok()) << line.error().message;
  const FinalLine& answer = std::get<FinalLine>(*line);
  EXPECT_FALSE(answer.ok);
  EXPECT_EQ(answer.error, "standby is gone");
  EXPECT_EQ(answer.hint, "check it");

  auto noHint = parseOutputLine(R"({"ok":false,"error":"no"})");
  ASSERT_TRUE(noHint.ok());
  EXPECT_EQ(std::get<FinalLine>(*noHint).hint, "");
}

struct BadLine {
  std::string_view line;
  std::string_view mentions;
};

class PluginProtocolBadLineTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(PluginProtocolBadLineTest, SaysWhatIsWrong) {
  auto line = parseOutputLine(GetParam().line);
  ASSERT_FALSE(line.ok()) << GetParam().line;
  EXPECT_THAT(line.error().message, HasSubstr(GetParam().mentions));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PluginProtocolBadLineTest,
    ::testing::Values(BadLine{"", "not JSON"}, BadLine{"starting up...", "not JSON"},
                      BadLine{R"({"ok":true} trailing)", "not JSON"},
                      BadLine{"[1]", "not a JSON object"}, BadLine{"\"ok\"", "not a JSON object"},
                      BadLine{R"({"status":"done"})", "neither 'progress' nor 'ok'"},
                      BadLine{R"({"ok":"true"})", "'ok' is a string"},
                      BadLine{R"({"ok":1})", "'ok' is an integer"},
                      BadLine{R"({"progress":5})", "not a string"},
                      BadLine{R"({"progress":"x","ok":true})", "both"},
                      BadLine{R"({"ok":false})", "no 'error'"},
                      BadLine{R"({"ok":false,"error":""})", "no 'error'"},
                      BadLine{R"({"ok":false,"error":"x","hint":3})", "'hint'"}));

}  // namespace
}  // namespace lifeboat::plugin
