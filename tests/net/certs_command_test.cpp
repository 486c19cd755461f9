// `lifeboat-coordinator certs init DIR ...` through runCertsCommand: the
// files, their modes and contents, a re-run that keeps the CA, and usage
// errors.

#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "lifeboat/coordinator/certs.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "x509_inspect.hpp"

namespace lifeboat::coordinator {
namespace {

namespace fs = std::filesystem;
using net::testing::parseCertificate;

struct CommandRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};

CommandRun certs(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  CommandRun run;
  run.exitCode = runCertsCommand(args, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

mode_t modeOf(const fs::path& file) {
  struct stat status {};
  EXPECT_EQ(::stat(file.c_str(), &status), 0) << file;
  return status.st_mode & 07777;
}

// Whether `file` holds a certificate for `purpose` issued by the CA in `ca`.
::testing::AssertionResult issuedBy(const fs::path& file, const fs::path& ca, int purpose) {
  auto leaf = parseCertificate(test_support::readText(file));
  auto authority = parseCertificate(test_support::readText(ca));
  if (!leaf || !authority) {
    return ::testing::AssertionFailure() << file << " or " << ca << " is not a PEM certificate";
  }
  std::string reason;
  if (!net::testing::verifiesAgainst(leaf.get(), authority.get(), purpose, &reason)) {
    return ::testing::AssertionFailure()
           << file << " does not verify against " << ca << ": " << reason;
  }
  return ::testing::AssertionSuccess();
}

TEST(CertsInit, WritesTheCaTheCoordinatorAndEachAgent) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  const CommandRun run = certs({"init", dir.string(), "--agent", "db-eu-1", "--agent=db-us-1",
                                "--host", "coordinator.example.org", "--host", "127.0.0.9"});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.err, "");

  EXPECT_EQ(modeOf(dir), 0700u);
  for (const char* key :
       {"ca-key.pem", "coordinator-key.pem", "agent-db-eu-1-key.pem", "agent-db-us-1-key.pem"}) {
    EXPECT_EQ(modeOf(dir / key), 0600u) << key;
    EXPECT_TRUE(test_support::readText(dir / key).starts_with("-----BEGIN PRIVATE KEY-----"))
        << key;
    EXPECT_NE(run.out.find((dir / key).string()), std::string::npos) << run.out;
  }
  for (const char* certificate :
       {"ca.pem", "coordinator.pem", "agent-db-eu-1.pem", "agent-db-us-1.pem"}) {
    EXPECT_EQ(modeOf(dir / certificate), 0644u) << certificate;
    EXPECT_NE(run.out.find("wrote " + (dir / certificate).string()), std::string::npos) << run.out;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 8);

  auto ca = parseCertificate(test_support::readText(dir / "ca.pem"));
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);

  EXPECT_TRUE(issuedBy(dir / "coordinator.pem", dir / "ca.pem", X509_PURPOSE_SSL_SERVER));
  auto coordinator = parseCertificate(test_support::readText(dir / "coordinator.pem"));
  ASSERT_NE(coordinator, nullptr);
  for (const char* host : {"localhost", "coordinator.example.org"}) {
    EXPECT_EQ(X509_check_host(coordinator.get(), host, 0, 0, nullptr), 1) << host;
  }
  for (const char* address : {"127.0.0.1", "::1", "127.0.0.9"}) {
    EXPECT_EQ(X509_check_ip_asc(coordinator.get(), address, 0), 1) << address;
  }

  for (const char* agent : {"db-eu-1", "db-us-1"}) {
    const fs::path file = dir / ("agent-" + std::string(agent) + ".pem");
    EXPECT_TRUE(issuedBy(file, dir / "ca.pem", X509_PURPOSE_SSL_CLIENT));
    auto certificate = parseCertificate(test_support::readText(file));
    ASSERT_NE(certificate, nullptr);
    EXPECT_EQ(net::testing::commonName(certificate.get()), agent);
  }
}

TEST(CertsInit, RerunKeepsTheCaAndAddsWhatIsMissing) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  ASSERT_EQ(certs({"init", dir.string(), "--agent", "db-eu-1"}).exitCode, 0);
  const std::string ca = test_support::readText(dir / "ca.pem");
  const std::string caKey = test_support::readText(dir / "ca-key.pem");
  const std::string coordinator = test_support::readText(dir / "coordinator.pem");
  const std::string first = test_support::readText(dir / "agent-db-eu-1.pem");
  ASSERT_FALSE(ca.empty());

  const CommandRun again =
      certs({"init", dir.string(), "--agent", "db-eu-1", "--agent", "db-us-1"});
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(test_support::readText(dir / "ca.pem"), ca);
  EXPECT_EQ(test_support::readText(dir / "ca-key.pem"), caKey);
  EXPECT_EQ(test_support::readText(dir / "coordinator.pem"), coordinator);
  EXPECT_EQ(test_support::readText(dir / "agent-db-eu-1.pem"), first);
  EXPECT_NE(again.out.find("kept " + (dir / "ca.pem").string()), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("wrote " + (dir / "agent-db-us-1.pem").string()), std::string::npos)
      << again.out;
  // The new agent's certificate comes from the kept CA.
  EXPECT_TRUE(issuedBy(dir / "agent-db-us-1.pem", dir / "ca.pem", X509_PURPOSE_SSL_CLIENT));
  EXPECT_EQ(modeOf(dir / "agent-db-us-1-key.pem"), 0600u);
}

TEST(CertsInit, RerunWarnsWhenTheKeptCoordinatorCertificateLacksANewHost) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  ASSERT_EQ(certs({"init", dir.string()}).exitCode, 0);
  const CommandRun again = certs({"init", dir.string(), "--host", "coordinator.example.org"});
  EXPECT_EQ(again.exitCode, 0) << again.err;
  EXPECT_NE(again.err.find("does not name coordinator.example.org"), std::string::npos)
      << again.err;
}

TEST(CertsInit, BadAgentNameIsAUsageErrorAndWritesNothing) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  for (const std::string& bad : {std::string("db/eu"), std::string(""), std::string(65, 'a'),
                                 std::string("db eu"), std::string(".."), std::string("é")}) {
    const CommandRun run = certs({"init", dir.string(), "--agent", "ok-1", "--agent", bad});
    EXPECT_EQ(run.exitCode, 2) << bad;
    EXPECT_NE(run.err.find("agent name '" + bad + "'"), std::string::npos) << run.err;
    EXPECT_FALSE(fs::exists(dir)) << bad;
  }
  // 64 characters of every allowed kind are fine.
  const std::string longest = "A.b-c_9" + std::string(57, 'x');
  const CommandRun run = certs({"init", dir.string(), "--agent", longest});
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir / ("agent-" + longest + "-key.pem")));
}

TEST(CertsInit, OtherUsageErrors) {
  test_support::TempDir temp;
  const std::string dir = (temp.path() / "tls").string();
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"make"},
      {"init"},
      {"init", dir, "--agent"},
      {"init", dir, "--host"},
      {"init", dir, "--host", "not a host"},
      {"init", dir, "--colour"},
      {"init", dir, dir + "2"},
  };
  for (const auto& args : cases) {
    const CommandRun run = certs(args);
    std::string shown;
    for (const std::string& word : args) {
      shown += word + " ";
    }
    EXPECT_EQ(run.exitCode, 2) << shown;
    EXPECT_NE(run.err.find("usage: lifeboat-coordinator certs init"), std::string::npos)
        << shown << run.err;
  }
  EXPECT_FALSE(fs::exists(dir));
  const CommandRun help = certs({"init", "--help"});
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.out.find("usage:"), std::string::npos);
}

TEST(CertsInit, HalfAPairIsAFailureNamingTheMissingFile) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  ASSERT_EQ(certs({"init", dir.string(), "--agent", "db-eu-1"}).exitCode, 0);
  fs::remove(dir / "ca-key.pem");
  CommandRun run = certs({"init", dir.string()});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.err.find((dir / "ca-key.pem").string() + " does not"), std::string::npos)
      << run.err;

  ASSERT_EQ(certs({"init", (temp.path() / "other").string()}).exitCode, 0);
  fs::remove(dir / "agent-db-eu-1.pem");
  fs::copy_file(temp.path() / "other" / "ca-key.pem", dir / "ca-key.pem");
  run = certs({"init", dir.string(), "--agent", "db-eu-1"});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.err.find((dir / "agent-db-eu-1.pem").string() + " does not"), std::string::npos)
      << run.err;
}

TEST(CertsInit, AForeignCaKeyIsRefused) {
  // ca.pem of one run with ca-key.pem of another: nothing can be issued.
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  ASSERT_EQ(certs({"init", dir.string()}).exitCode, 0);
  ASSERT_EQ(certs({"init", (temp.path() / "other").string()}).exitCode, 0);
  fs::copy_file(temp.path() / "other" / "ca-key.pem", dir / "ca-key.pem",
                fs::copy_options::overwrite_existing);
  const CommandRun run = certs({"init", dir.string(), "--agent", "db-eu-1"});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.err.find("does not belong"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(dir / "agent-db-eu-1.pem"));
}

TEST(CertsInit, AnExistingFolderIsUsedAsItIs) {
  test_support::TempDir temp;
  const fs::path dir = temp.path() / "tls";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms(0750));
  const CommandRun run = certs({"init", dir.string()});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(modeOf(dir), 0750u);
  EXPECT_EQ(modeOf(dir / "coordinator-key.pem"), 0600u);

  const fs::path file = temp.write("plain-file", "x");
  EXPECT_EQ(certs({"init", file.string()}).exitCode, 1);
}

}  // namespace
}  // namespace lifeboat::coordinator
