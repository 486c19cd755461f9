#include "server_fixture.hpp"

#include <fstream>

#include "lifeboat/coordinator/server_config.hpp"
#include "lifeboat/coordinator/tokens.hpp"
#include "lifeboat/net/certificates.hpp"
#include "lifeboat/store/store.hpp"
#include "lifeboat/test_support/files.hpp"

namespace lifeboat::coordinator {
namespace {

namespace fs = std::filesystem;

void check(const Result<bool>& written) {
  if (!written)
    throw std::runtime_error(written.error().message);
}

net::PemPair need(Result<net::PemPair> made) {
  if (!made)
    throw std::runtime_error(made.error().message);
  return std::move(*made);
}

TestCertificates makeCertificates() {
  static test_support::TempDir dir;
  TestCertificates files;
  files.dir = dir.path();
  const net::PemPair ca = need(net::makeCertificateAuthority("lifeboat test CA"));
  check(net::writePemPair(ca, dir.path() / "ca.pem", dir.path() / "ca-key.pem"));
  files.ca = dir.path() / "ca.pem";
  net::CertificateRequest server{"coordinator", {"127.0.0.1", "localhost"}, true};
  check(net::writePemPair(need(net::issueCertificate(ca, server)), dir.path() / "server.pem",
                          dir.path() / "server-key.pem"));
  files.serverCert = dir.path() / "server.pem";
  files.serverKey = dir.path() / "server-key.pem";
  for (const std::string name : {"db-eu-1", "db-us-1"}) {
    check(net::writePemPair(need(net::issueCertificate(ca, {name, {}, false})),
                            dir.path() / (name + ".pem"), dir.path() / (name + "-key.pem")));
  }
  net::CertificateRequest expired{"db-eu-1", {}, false};
  expired.notBefore = std::chrono::system_clock::now() - std::chrono::hours(48);
  expired.notAfter = std::chrono::system_clock::now() - std::chrono::hours(24);
  check(net::writePemPair(need(net::issueCertificate(ca, expired)), dir.path() / "expired.pem",
                          dir.path() / "expired-key.pem"));
  const net::PemPair otherCa = need(net::makeCertificateAuthority("someone else's CA"));
  check(net::writePemPair(need(net::issueCertificate(otherCa, {"db-eu-1", {}, false})),
                          dir.path() / "other-ca.pem", dir.path() / "other-ca-key.pem"));
  return files;
}

}  // namespace

const TestCertificates& testCertificates() {
  static const TestCertificates certificates = makeCertificates();
  return certificates;
}

test_support::ClientTls TestCertificates::agent(const std::string& which) const {
  return {ca, dir / (which + ".pem"), dir / (which + "-key.pem")};
}

test_support::ClientTls TestCertificates::noCertificate() const {
  return {ca, {}, {}};
}

std::string testConfig(const fs::path& database) {
  const TestCertificates& tls = testCertificates();
  return "database = \"" + database.string() + "\"\n" +
         "[agents]\nlisten = \"127.0.0.1:0\"\ncert_file = \"" + tls.serverCert.string() +
         "\"\nkey_file = \"" + tls.serverKey.string() + "\"\nclient_ca_file = \"" +
         tls.ca.string() + "\"\n" + "[api]\nlisten = \"127.0.0.1:0\"\ncert_file = \"" +
         tls.serverCert.string() + "\"\nkey_file = \"" + tls.serverKey.string() + "\"\n" +
         "[[token]]\nname = \"vera\"\nrole = \"viewer\"\nsha256 = \"" + sha256Hex(kViewerToken) +
         "\"\n" + "[[token]]\nname = \"otto\"\nrole = \"operator\"\nsha256 = \"" +
         sha256Hex(kOperatorToken) + "\"\n";
}

Event testEvent(const std::string& agent, const std::string& run, std::uint64_t seq,
                const std::string& type) {
  Event event;
  event.agent = agent;
  event.run = run;
  event.seq = seq;
  event.time =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  event.type = type;
  if (type == "step.output") {
    event.step = "s1";
    event.data["stream"] = "stdout";
    event.data["text"] = "line " + std::to_string(seq);
  }
  return event;
}

std::string batch(const std::string& agent, const std::string& run, std::uint64_t first,
                  std::uint64_t last) {
  std::string text;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    text += (text.empty() ? "" : "\n") + encodeEvent(testEvent(agent, run, seq));
  }
  return text;
}

std::string helloLine(const std::string& agent) {
  Event hello = testEvent(agent, "", 0, "hello");
  hello.data["agent_version"] = "0.1.0";
  hello.data["protocol"] = 1;
  hello.data["hostname"] = agent + ".example";
  hello.data["pid"] = 42;
  return encodeEvent(hello);
}

void CoordinatorTest::SetUp() {
  database_ = dir_.path() / "events.db";
  const fs::path file = dir_.write("coordinator.toml", testConfig(database_) + extraConfig());
  Result<ServerConfig> config = loadServerConfig(file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  logFile_ = std::make_unique<std::ofstream>(dir_.path() / "coordinator.log");
  Result<std::unique_ptr<Server>> server = Server::start(*config, *logFile_);
  ASSERT_TRUE(server.ok()) << server.error().message;
  server_ = std::move(*server);
  agentsPort_ = server_->agentsPort();
  apiPort_ = server_->apiPort();
  runner_ = std::thread([this] { server_->run(false); });
}

void CoordinatorTest::TearDown() {
  if (server_) {
    server_->stop();
    runner_.join();
    server_.reset();
  }
}

std::string CoordinatorTest::log() const {
  return test_support::readText(dir_.path() / "coordinator.log");
}

std::unique_ptr<test_support::WsClient> CoordinatorTest::connectAgent(const std::string& which,
                                                                      std::string& error) {
  return test_support::WsClient::connect(agentsPort_, testCertificates().agent(which), "/v1/stream",
                                         error);
}

std::unique_ptr<test_support::WsClient> CoordinatorTest::agentOnline(const std::string& which) {
  std::string error;
  auto client = connectAgent(which, error);
  EXPECT_NE(client, nullptr) << error << "\n" << log();
  if (client) {
    EXPECT_EQ(client->send(helloLine(which)), "");
  }
  return client;
}

std::size_t CoordinatorTest::storedEvents(const std::string& agent) {
  Result<std::unique_ptr<store::Store>> store =
      store::Store::open(database_, store::Access::ReadOnly);
  EXPECT_TRUE(store.ok()) << store.error().message;
  if (!store)
    return 0;
  store::EventFilter filter;
  filter.agent = agent;
  filter.limit = 100000;
  Result<boost::json::array> events = (*store)->events(filter);
  EXPECT_TRUE(events.ok());
  return events ? events->size() : 0;
}

test_support::HttpReply CoordinatorTest::api(const std::string& method, const std::string& target,
                                             const std::string& token, const std::string& body) {
  return test_support::httpsRequest(apiPort_, {testCertificates().ca, {}, {}}, method, target,
                                    token, body);
}

}  // namespace lifeboat::coordinator
