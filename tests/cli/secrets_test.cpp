// A secret's value never appears in any output of validate or plan, in text
// or JSON, valid runbook or not -- and a value written in clear where the
// plugin declares a secret parameter is not echoed back in diagnostics.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::test_support {
namespace {

constexpr std::string_view kDbPassword = "pw-0f9c2e-SECRET";
constexpr std::string_view kApiToken = "tok-77aa-SECRET";
constexpr std::string_view kFileSecret = "file-secret-42";
constexpr std::string_view kLiteral = "hunter2-literal";

// A plugin with secret parameters, speaking protocol v1 from a shell script.
constexpr std::string_view kVaultPlugin = R"(#!/bin/sh
cat >/dev/null
printf '%s\n' '{"ok":true,"plugin":{"name":"vault","version":"1","description":"test","target":{"params":{"password":{"type":"string","required":true,"secret":true}}},"actions":{"rotate":{"description":"rotate","params":{"token":{"type":"string","required":true,"secret":true},"count":{"type":"integer"}},"outputs":{"serial":"new serial"}}}}}'
)";

std::string runbookText(const std::filesystem::path& secretFile, bool broken) {
  std::string text = R"([runbook]
name = "secrets"
service = "vault"

[objectives]
rto = "1m"

[targets.db]
plugin = "vault"
region = "eu-west-1"
password = "${secret:env:DB_PASSWORD}"

[[step]]
id = "rotate"
target = "db"
action = "rotate"
)";
  text += "with = { token = \"${secret:file:" + secretFile.string() +
          "}\", count = " + (broken ? "\"" + std::string(kLiteral) + "\"" : std::string("3")) +
          " }\n";
  text += R"(
[[step]]
id = "use"
after = ["rotate"]
target = "db"
exec = { argv = ["/bin/echo", "${secret:env:DB_PASSWORD}", "${steps.rotate.outputs.serial}"], env = { TOKEN = "${secret:env:API_TOKEN}" } }

[[step]]
id = "verify"
after = ["use"]
http = { url = "http://127.0.0.1:9/health", headers = { Authorization = "Bearer ${secret:env:API_TOKEN}" } }
restores_service = true
)";
  if (broken) {
    text +=
        "\n[[step]]\nid = \"oops\"\nafter = [\"use\"]\nexec = [\"/bin/true\", "
        "\"${vars.missing}\"]\ntarget = \"db\"\n";
  }
  return text;
}

class Secrets : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("plugins/vault", kVaultPlugin);
    ::chmod((dir_.path() / "plugins" / "vault").c_str(), 0755);
    secretFile_ = dir_.write("token", std::string(kFileSecret) + "\n");
    dir_.write("good.toml", runbookText(secretFile_, false));
    dir_.write("bad.toml", runbookText(secretFile_, true));
  }

  ProcessResult run(std::vector<std::string> arguments) {
    arguments.push_back("--plugins-dir");
    arguments.push_back((dir_.path() / "plugins").string());
    return runLifeboat(
        arguments, dir_.path(),
        {{"DB_PASSWORD", std::string(kDbPassword)}, {"API_TOKEN", std::string(kApiToken)}});
  }

  static void expectNoSecret(const ProcessResult& result, const std::string& what) {
    for (std::string_view secret : {kDbPassword, kApiToken, kFileSecret, kLiteral}) {
      EXPECT_EQ(result.out.find(secret), std::string::npos) << what << " stdout leaks " << secret;
      EXPECT_EQ(result.err.find(secret), std::string::npos) << what << " stderr leaks " << secret;
    }
  }

  TempDir dir_;
  std::filesystem::path secretFile_;
};

TEST_F(Secrets, NeverShownByValidateOrPlanOfAValidRunbook) {
  const std::vector<std::vector<std::string>> commands = {
      {"validate", "good.toml"},
      {"validate", "good.toml", "--output", "json"},
      {"plan", "good.toml"},
      {"plan", "good.toml", "--drill"},
      {"plan", "good.toml", "--output", "json"}};
  for (const auto& command : commands) {
    const ProcessResult result = run(command);
    EXPECT_EQ(result.exitCode, 0) << command[0] << ' ' << command.back() << '\n' << result.err;
    expectNoSecret(result, command[0] + " " + command.back());
  }
  // The references themselves are shown, so people see where secrets go.
  EXPECT_NE(run({"plan", "good.toml", "--output", "json"}).out.find("rotate"), std::string::npos);
}

TEST_F(Secrets, NeverShownInDiagnostics) {
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"validate", "bad.toml"},
                                             {"validate", "bad.toml", "--output", "json"},
                                             {"plan", "bad.toml"}}) {
    const ProcessResult result = run(command);
    EXPECT_EQ(result.exitCode, 2);
    expectNoSecret(result, command[0] + " " + command.back());
  }
  const ProcessResult result = run({"validate", "bad.toml"});
  EXPECT_NE(result.err.find("parameter 'count'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("undefined variable 'missing'"), std::string::npos) << result.err;
}

TEST_F(Secrets, ClearTextSecretParameterIsFlagged) {
  std::string text = runbookText(secretFile_, false);
  const std::string reference = "${secret:env:DB_PASSWORD}\"\n";
  text.replace(text.find(reference), reference.size(), std::string(kLiteral) + "\"\n");
  dir_.write("clear.toml", text);
  const ProcessResult result = run({"validate", "clear.toml"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("warning: parameter 'password'"), std::string::npos) << result.err;
  expectNoSecret(result, "validate clear.toml");
}

}  // namespace
}  // namespace lifeboat::test_support
