#include "lifeboat/runbook/secrets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "lifeboat/runbook/load.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::runbook {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh directory per test, removed afterwards.
class SecretsTest : public ::testing::Test {
 protected:
  std::string writeFile(const std::string& name, const std::string& contents) {
    const fs::path path = directory_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  SecretSources sourcesWith(std::map<std::string, std::string> environment) {
    SecretSources sources;
    sources.environment = [environment = std::move(environment)](
                              std::string_view name) -> std::optional<std::string> {
      const auto found = environment.find(std::string(name));
      if (found == environment.end())
        return std::nullopt;
      return found->second;
    };
    return sources;
  }

  test_support::TempDir temp_;
  fs::path directory_ = temp_.path();
};

Reference envSecret(std::string name) {
  Reference reference;
  reference.kind = ReferenceKind::secretEnv;
  reference.name = std::move(name);
  return reference;
}

Reference fileSecret(std::string path) {
  Reference reference;
  reference.kind = ReferenceKind::secretFile;
  reference.name = std::move(path);
  return reference;
}

TEST_F(SecretsTest, EnvironmentSecretComesFromTheInjectedLookup) {
  const SecretSources sources = sourcesWith({{"ORDERS_PG_PASSWORD", "pa55-word\n"}});
  const Result<std::string> value = resolveSecret(envSecret("ORDERS_PG_PASSWORD"), sources);
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "pa55-word\n");  // environment values are taken as they are
}

TEST_F(SecretsTest, MissingEnvironmentVariableIsNamedNotShown) {
  // The lookup knows a similar name whose value must not leak into the message.
  const SecretSources sources = sourcesWith({{"ORDERS_PG_PASSWORD_OLD", "old-value-123"}});
  const Result<std::string> value = resolveSecret(envSecret("ORDERS_PG_PASSWORD"), sources);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().message, "secret env:ORDERS_PG_PASSWORD is not set");
  EXPECT_THAT(value.error().hint, Not(HasSubstr("old-value-123")));
}

TEST_F(SecretsTest, DefaultSourceIsTheProcessEnvironment) {
  // Only reads: PATH is set in any test environment.
  const SecretSources sources;
  const Result<std::string> value = resolveSecret(envSecret("PATH"), sources);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, std::string(std::getenv("PATH")));
}

TEST_F(SecretsTest, FileSecretDropsOneTrailingNewline) {
  const SecretSources sources;
  const std::map<std::string, std::string> cases = {
      {"plain", "s3cret"}, {"lf", "s3cret\n"}, {"crlf", "s3cret\r\n"}, {"two-lf", "s3cret\n\n"},
      {"inner", "a\nb\n"}, {"empty", ""},      {"only-lf", "\n"},      {"cr", "s3cret\r"},
  };
  const std::map<std::string, std::string> expected = {
      {"plain", "s3cret"}, {"lf", "s3cret"}, {"crlf", "s3cret"}, {"two-lf", "s3cret\n"},
      {"inner", "a\nb"},   {"empty", ""},    {"only-lf", ""},    {"cr", "s3cret\r"},
  };
  for (const auto& [name, contents] : cases) {
    const Result<std::string> value = resolveSecret(fileSecret(writeFile(name, contents)), sources);
    ASSERT_TRUE(value.ok()) << name << ": " << value.error().message;
    EXPECT_EQ(*value, expected.at(name)) << name;
  }
}

TEST_F(SecretsTest, MissingFileIsNamed) {
  const std::string path = (directory_ / "absent").string();
  const Result<std::string> value = resolveSecret(fileSecret(path), SecretSources{});
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().message, "secret file:" + path + ": No such file or directory");
}

TEST_F(SecretsTest, DirectoryAndFifoAreRefused) {
  const Result<std::string> directory =
      resolveSecret(fileSecret(directory_.string()), SecretSources{});
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message,
            "secret file:" + directory_.string() + " is a directory, not a regular file");

  const std::string fifo = (directory_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Result<std::string> pipe = resolveSecret(fileSecret(fifo), SecretSources{});  // no hang
  ASSERT_FALSE(pipe.ok());
  EXPECT_THAT(pipe.error().message, HasSubstr("is a FIFO, not a regular file"));
}

TEST_F(SecretsTest, SymbolicLinkToAFileIsFollowed) {
  const std::string target = writeFile("real", "linked-secret\n");
  const fs::path link = directory_ / "link";
  fs::create_symlink(target, link);
  const Result<std::string> value = resolveSecret(fileSecret(link.string()), SecretSources{});
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "linked-secret");
}

TEST_F(SecretsTest, OversizedFileIsRefusedWithoutShowingIt) {
  SecretSources sources;
  sources.maxFileBytes = 16;
  const std::string atLimit = writeFile("limit", std::string(16, 'k'));
  const Result<std::string> ok = resolveSecret(fileSecret(atLimit), sources);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->size(), 16U);

  const std::string path = writeFile("big", std::string(17, 'k'));
  const Result<std::string> value = resolveSecret(fileSecret(path), sources);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().message, "secret file:" + path + " is larger than 16 bytes");

  const std::string defaultCap = writeFile("huge", std::string(64 * 1024 + 1, 'k'));
  const Result<std::string> huge = resolveSecret(fileSecret(defaultCap), SecretSources{});
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error().message, HasSubstr("is larger than 65536 bytes"));
}

// Root reads any file, so as root the check runs in a child that first drops
// to the unprivileged user nobody (65534); the child reports through its exit
// status: 0 the expected error, 1 the secret was read, 2 another message.
TEST_F(SecretsTest, UnreadableFileIsNamedNotShown) {
  const std::string path = writeFile("locked", "locked-value-xyz");
  fs::permissions(path, fs::perms::none);
  fs::permissions(fs::path(path).parent_path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const std::string expected = "secret file:" + path + ": Permission denied";
  auto check = [&]() -> int {
    const Result<std::string> value = resolveSecret(fileSecret(path), SecretSources{});
    if (value.ok()) {
      return 1;
    }
    return value.error().message == expected ? 0 : 2;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(check(), 0);
    return;
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(3);
    }
    ::_exit(check());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: the secret was read, 2: another message, 3: setuid failed";
}

TEST_F(SecretsTest, NonSecretReferenceIsAnError) {
  Reference variable;
  variable.kind = ReferenceKind::variable;
  variable.name = "vip";
  EXPECT_FALSE(resolveSecret(variable, SecretSources{}).ok());
}

// Every place of section 11.1 holds one distinct secret; some are used twice.
std::string runbookText(const std::string& directory) {
  return R"(
[runbook]
name = "orders-db-failover"
service = "orders"

[vars]
region = "eu"

[targets.primary]
plugin = "pg"
region = "eu-west-1"
dsn = "host=127.0.0.1 password=${secret:env:TARGET_PASSWORD}"
tls = { key = "${secret:file:)" +
         directory + R"(/target.key}", hosts = ["a", "${secret:env:TARGET_NESTED}"] }

[[trigger]]
kind = "http"
url = "http://127.0.0.1:8080/health?token=${secret:env:TRIGGER_URL}"

[[trigger]]
kind = "exec"
command = ["/usr/bin/check", "--token", "${secret:env:TRIGGER_COMMAND}"]

[[trigger]]
kind = "plugin"
target = "primary"
action = "ping"
with = { auth = "${secret:env:TRIGGER_WITH}" }

[[step]]
id = "fence"
target = "primary"
exec = { argv = ["/usr/bin/fence", "--key=${secret:env:EXEC_ARG}"], env = { TOKEN = "${secret:env:EXEC_ENV}" }, cwd = "/tmp/${secret:env:EXEC_CWD}" }
rollback = { exec = ["/usr/bin/unfence", "${secret:env:ROLLBACK_EXEC}"] }

[[step]]
id = "promote"
after = ["fence"]
target = "primary"
action = "promote"
with = { password = "${secret:env:WITH_TOP}", nested = { list = ["x", "${secret:env:WITH_NESTED}"] } }
rollback = { target = "primary", action = "demote", with = { password = "${secret:env:ROLLBACK_WITH}" } }

[[step]]
id = "verify"
after = ["promote"]
http = { method = "POST", url = "http://127.0.0.1:8080/${secret:env:HTTP_URL}", headers = { Authorization = "Bearer ${secret:env:HTTP_HEADER}" }, body = "{\"key\": \"${secret:file:)" +
         directory + R"(/body.key}\", \"again\": \"${secret:env:HTTP_HEADER}\"}" }

[[step]]
id = "tell"
after = ["verify"]
notify = { audience = "engineers", message = "cost: $${PRICE} ${vars.region} ${secret:env:NOTIFY_MESSAGE}" }
)";
}

const std::map<std::string, std::string> kEnvironment = {
    {"TARGET_PASSWORD", "value-target-password"},
    {"TARGET_NESTED", "value-target-nested"},
    {"TRIGGER_URL", "value-trigger-url"},
    {"TRIGGER_COMMAND", "value-trigger-command"},
    {"TRIGGER_WITH", "value-trigger-with"},
    {"EXEC_ARG", "value-exec-arg"},
    {"EXEC_ENV", "value-exec-env"},
    {"EXEC_CWD", "value-exec-cwd"},
    {"ROLLBACK_EXEC", "value-rollback-exec"},
    {"WITH_TOP", "value-with-top"},
    {"WITH_NESTED", "value-with-nested"},
    {"ROLLBACK_WITH", "value-rollback-with"},
    {"HTTP_URL", "value-http-url"},
    {"HTTP_HEADER", "value-http-header"},
    {"NOTIFY_MESSAGE", "value-notify-message"},
};

Runbook loadTestRunbook(const std::string& directory) {
  DiagnosticSink sink;
  std::optional<Runbook> runbook = loadRunbook(runbookText(directory), "rb.toml", {}, sink);
  for (const Diagnostic& diagnostic : sink.all()) {
    if (diagnostic.severity == Severity::error) {
      ADD_FAILURE() << formatDiagnostic("rb.toml", diagnostic);
    }
  }
  EXPECT_TRUE(runbook.has_value());
  return runbook.value_or(Runbook{});
}

TEST_F(SecretsTest, ResolvesEverySecretOfARunbookOnce) {
  writeFile("target.key", "value-target-key\n");
  writeFile("body.key", "value-body-key\r\n");
  const Runbook runbook = loadTestRunbook(directory_.string());
  int lookups = 0;
  SecretSources sources;
  sources.environment = [&lookups](std::string_view name) -> std::optional<std::string> {
    ++lookups;
    const auto found = kEnvironment.find(std::string(name));
    if (found == kEnvironment.end())
      return std::nullopt;
    return found->second;
  };
  std::map<std::string, std::string> resolved;
  std::vector<std::string> unredactable = {"stale"};
  const Result<Redactor> redactor = resolveAllSecrets(runbook, sources, &resolved, &unredactable);
  ASSERT_TRUE(redactor.ok()) << redactor.error().message;
  EXPECT_EQ(lookups, static_cast<int>(kEnvironment.size()));  // HTTP_HEADER is used twice
  EXPECT_TRUE(unredactable.empty());

  std::map<std::string, std::string> expected;
  for (const auto& [name, value] : kEnvironment) {
    expected["secret:env:" + name] = value;
  }
  expected["secret:file:" + directory_.string() + "/target.key"] = "value-target-key";
  expected["secret:file:" + directory_.string() + "/body.key"] = "value-body-key";
  EXPECT_EQ(resolved, expected);

  for (const auto& [key, value] : expected) {
    EXPECT_EQ(redactor->redact("<" + value + ">"), "<[redacted]>") << key;
  }
}

TEST_F(SecretsTest, ReportsAllUnresolvableSecretsAtOnceWithoutValues) {
  // body.key is missing, target.key is a directory; two variables are unset.
  fs::create_directories(directory_ / "target.key");
  const Runbook runbook = loadTestRunbook(directory_.string());
  std::map<std::string, std::string> environment = kEnvironment;
  environment.erase("EXEC_ENV");
  environment.erase("NOTIFY_MESSAGE");
  std::map<std::string, std::string> resolved = {{"untouched", "yes"}};
  const Result<Redactor> redactor = resolveAllSecrets(runbook, sourcesWith(environment), &resolved);
  ASSERT_FALSE(redactor.ok());
  const std::string& message = redactor.error().message;
  const std::string dir = directory_.string();
  EXPECT_EQ(message, "secret file:" + dir + "/target.key is a directory, not a regular file\n" +
                         "secret env:EXEC_ENV is not set\n" + "secret file:" + dir +
                         "/body.key: No such file or directory\n" +
                         "secret env:NOTIFY_MESSAGE is not set");
  for (const auto& [name, value] : environment) {
    EXPECT_THAT(message, Not(HasSubstr(value)));
    EXPECT_THAT(redactor.error().hint, Not(HasSubstr(value)));
  }
  EXPECT_EQ(resolved, (std::map<std::string, std::string>{{"untouched", "yes"}}));
}

TEST_F(SecretsTest, ShortValuesAreResolvedButReportedAsUnredactable) {
  const Runbook runbook = loadTestRunbook(directory_.string());
  writeFile("target.key", "abc\n");
  writeFile("body.key", "");
  std::map<std::string, std::string> environment = kEnvironment;
  environment["EXEC_ARG"] = "xy";
  std::map<std::string, std::string> resolved;
  std::vector<std::string> unredactable;
  const Result<Redactor> redactor =
      resolveAllSecrets(runbook, sourcesWith(environment), &resolved, &unredactable);
  ASSERT_TRUE(redactor.ok()) << redactor.error().message;
  EXPECT_EQ(unredactable,
            (std::vector<std::string>{"secret:file:" + directory_.string() + "/target.key",
                                      "secret:env:EXEC_ARG"}));
  EXPECT_EQ(resolved.at("secret:env:EXEC_ARG"), "xy");
  EXPECT_EQ(resolved.at("secret:file:" + directory_.string() + "/body.key"), "");
  EXPECT_EQ(redactor->redact("xy abc"), "xy abc");
}

TEST_F(SecretsTest, RunbookWithoutSecretsNeedsNoSources) {
  DiagnosticSink sink;
  const std::optional<Runbook> runbook = loadRunbook(R"(
[runbook]
name = "plain"
service = "orders"

[[step]]
id = "hello"
exec = ["/bin/echo", "$${secret:env:NOT_A_REFERENCE}"]
)",
                                                     "rb.toml", {}, sink);
  ASSERT_TRUE(runbook.has_value());
  SecretSources sources;
  sources.environment = [](std::string_view name) -> std::optional<std::string> {
    ADD_FAILURE() << "looked up " << name;
    return std::nullopt;
  };
  const Result<Redactor> redactor = resolveAllSecrets(*runbook, sources, nullptr);
  ASSERT_TRUE(redactor.ok());
  EXPECT_TRUE(redactor->empty());
}

}  // namespace
}  // namespace lifeboat::runbook
