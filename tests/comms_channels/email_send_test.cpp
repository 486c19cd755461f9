// send() on the email channel against smtp_server.py (aiosmtpd) on
// 127.0.0.1: STARTTLS required and used, the message as a mail parser reads
// it, dot-stuffing on the wire, no plain-text session, SMTP replies
// classified, and details without the password.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "lifeboat/comms/channels.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "python_server.hpp"

namespace lifeboat::comms {
namespace {

using testing::PythonServer;
namespace json = boost::json;

constexpr const char* kUser = "mailer";
constexpr const char* kPassword = "smtp-Passw0rd-9137";

class EmailSend : public ::testing::Test {
 protected:
  void SetUp() override {
    certificates_ = testing::makeTestCertificates(directory_.path());
    ::setenv("LIFEBOAT_TEST_SMTP_PASSWORD", kPassword, 1);
  }

  // smtp_server.py with our certificate (STARTTLS) unless `tls` is false.
  std::unique_ptr<PythonServer> startServer(bool tls = true, std::vector<std::string> extra = {}) {
    std::vector<std::string> arguments{"--user", kUser, "--password", kPassword};
    if (tls) {
      arguments.insert(arguments.end(), {"--cert", certificates_.certificate.string(), "--key",
                                         certificates_.key.string()});
    }
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return std::make_unique<PythonServer>("smtp_server.py", directory_.path() / "smtp.jsonl",
                                          arguments);
  }

  ChannelSpec channel(const PythonServer& server, const std::string& scheme = "smtp") const {
    ChannelSpec spec;
    spec.name = "mail";
    spec.kind = ChannelKind::email;
    spec.smtpUrl = scheme + "://127.0.0.1:" + std::to_string(server.port());
    spec.from = "Lifeboat <lifeboat@localhost>";
    spec.to = {"ops@localhost", "Duty Manager <duty@localhost>"};
    spec.username = kUser;
    spec.password = "${secret:env:LIFEBOAT_TEST_SMTP_PASSWORD}";
    spec.caFile = certificates_.caFile.string();
    spec.timeout = std::chrono::seconds(10);
    return spec;
  }

  static Message message() {
    Message message;
    message.id = 5;
    message.dedupKey = "inc-3/opened/customers/mail";
    message.subject = "Störung: Zahlungen [DRILL]";
    message.body = "Payments are failing over.\n.\n.hidden line\nCafé = closed\n";
    message.createdAt = Timestamp{std::chrono::milliseconds(1'796'585'743'000)};
    return message;
  }

  static std::vector<json::object> events(const std::vector<json::object>& records,
                                          std::string_view name) {
    std::vector<json::object> found;
    for (const json::object& record : records) {
      if (record.at("event").as_string() == name) {
        found.push_back(record);
      }
    }
    return found;
  }

  static void expectNoSecret(const Delivery& delivery) {
    EXPECT_EQ(delivery.detail.find(kPassword), std::string::npos) << delivery.detail;
    EXPECT_EQ(delivery.detail.find(kUser), std::string::npos) << delivery.detail;
    EXPECT_EQ(delivery.detail.find("smtp://"), std::string::npos) << delivery.detail;
  }

  test_support::TempDir directory_;
  testing::TestCertificates certificates_;
};

TEST_F(EmailSend, DeliveredOverStartTlsWithLogin) {
  auto server = startServer();
  ASSERT_GT(server->port(), 0);
  const Delivery delivery = send(channel(*server), message());
  ASSERT_EQ(delivery.outcome, Delivery::Outcome::sent) << delivery.detail;
  EXPECT_EQ(delivery.status, 250);

  const std::vector<json::object> records = server->records();
  // The first EHLO in plain text, STARTTLS, then everything else encrypted.
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().at("event").as_string(), "ehlo");
  EXPECT_FALSE(records.front().at("tls").as_bool());
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_TRUE(records[i].at("tls").as_bool()) << json::serialize(records[i]);
  }
  const std::vector<json::object> auth = events(records, "auth");
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_TRUE(auth[0].at("accepted").as_bool());

  const std::vector<json::object> data = events(records, "data");
  ASSERT_EQ(data.size(), 1u);
  const json::object& mail = data[0];
  EXPECT_EQ(mail.at("user").as_string(), kUser);
  EXPECT_TRUE(mail.at("tls_version") == "TLSv1.3" || mail.at("tls_version") == "TLSv1.2");
  EXPECT_EQ(mail.at("mail_from").as_string(), "lifeboat@localhost");
  EXPECT_EQ(mail.at("rcpt_tos"), (json::array{"ops@localhost", "duty@localhost"}));
  EXPECT_TRUE(mail.at("defects").as_array().empty()) << json::serialize(mail.at("defects"));

  const json::object& headers = mail.at("headers").as_object();
  EXPECT_EQ(headers.at("subject").at(0).as_string(), "Störung: Zahlungen [DRILL]");
  EXPECT_EQ(headers.at("message-id").at(0).as_string(),
            "<inc-3=2Fopened=2Fcustomers=2Fmail@lifeboat>");
  EXPECT_EQ(headers.at("date").at(0).as_string(), "Sun, 06 Dec 2026 19:35:43 +0000");
  EXPECT_EQ(headers.at("from").at(0).as_string(), "Lifeboat <lifeboat@localhost>");
  EXPECT_EQ(headers.at("to").at(0).as_string(), "ops@localhost, Duty Manager <duty@localhost>");
  EXPECT_TRUE(headers.at("content-type").at(0).as_string().starts_with("text/plain"));
  // Decoded by Python's email package: the lines starting with "." arrived
  // whole, so libcurl stuffed them on the wire and the server unstuffed them.
  EXPECT_EQ(mail.at("body").as_string(),
            "Payments are failing over.\n.\n.hidden line\nCafé = closed\n");
}

TEST_F(EmailSend, ImplicitTlsWithSmtps) {
  auto server = startServer(true, {"--implicit-tls"});
  ASSERT_GT(server->port(), 0);
  const Delivery delivery = send(channel(*server, "smtps"), message());
  ASSERT_EQ(delivery.outcome, Delivery::Outcome::sent) << delivery.detail;
  const std::vector<json::object> records = server->records();
  ASSERT_FALSE(records.empty());
  for (const json::object& record : records) {
    EXPECT_TRUE(record.at("tls").as_bool()) << json::serialize(record);
  }
  EXPECT_EQ(events(records, "data").size(), 1u);
}

TEST_F(EmailSend, NoPlainTextWhenTheServerOffersNoStartTls) {
  auto server = startServer(false);
  ASSERT_GT(server->port(), 0);
  const Delivery delivery = send(channel(*server), message());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_NE(delivery.detail.find("STARTTLS"), std::string::npos) << delivery.detail;
  expectNoSecret(delivery);
  // The session got as far as EHLO and no further: no login, no addresses,
  // no message.
  const std::vector<json::object> records = server->records();
  ASSERT_FALSE(records.empty());
  for (const json::object& record : records) {
    EXPECT_EQ(record.at("event").as_string(), "ehlo") << json::serialize(record);
  }
}

TEST_F(EmailSend, UntrustedCertificateFailsBeforeLogin) {
  auto server = startServer();
  ASSERT_GT(server->port(), 0);
  ChannelSpec spec = channel(*server);
  spec.caFile.clear();  // the system's roots do not know our test CA
  const Delivery delivery = send(spec, message());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_TRUE(delivery.detail.starts_with("TLS: the server's certificate was not accepted"))
      << delivery.detail;
  expectNoSecret(delivery);
  EXPECT_TRUE(events(server->records(), "auth").empty());
}

TEST_F(EmailSend, WrongPasswordFailsForGood) {
  auto server = startServer();
  ASSERT_GT(server->port(), 0);
  ::setenv("LIFEBOAT_TEST_SMTP_PASSWORD", "not-the-Passw0rd", 1);
  const Delivery delivery = send(channel(*server), message());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(delivery.detail, "login refused");
  EXPECT_EQ(delivery.detail.find("not-the-Passw0rd"), std::string::npos);
  expectNoSecret(delivery);
  EXPECT_TRUE(events(server->records(), "data").empty());
}

TEST_F(EmailSend, RecipientRepliesAreClassified) {
  auto server = startServer();
  ASSERT_GT(server->port(), 0);
  ChannelSpec spec = channel(*server);
  spec.to = {"later@localhost"};
  const Delivery later = send(spec, message());
  EXPECT_EQ(later.outcome, Delivery::Outcome::retry) << later.detail;
  EXPECT_EQ(later.status, 451);
  expectNoSecret(later);

  spec.to = {"ops@localhost", "nobody@localhost"};
  const Delivery refused = send(spec, message());
  EXPECT_EQ(refused.outcome, Delivery::Outcome::failed) << refused.detail;
  EXPECT_EQ(refused.status, 550);
  expectNoSecret(refused);
  EXPECT_TRUE(events(server->records(), "data").empty());
}

TEST_F(EmailSend, UnreachableServerIsRetried) {
  auto server = startServer();
  ASSERT_GT(server->port(), 0);
  ChannelSpec spec = channel(*server);
  server.reset();  // nobody listens on its port any more
  const Delivery delivery = send(spec, message());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::retry) << delivery.detail;
  expectNoSecret(delivery);
}

TEST_F(EmailSend, OnlySmtpAddresses) {
  ChannelSpec spec;
  spec.kind = ChannelKind::email;
  spec.smtpUrl = "http://127.0.0.1:1/";
  spec.from = "lifeboat@localhost";
  spec.to = {"ops@localhost"};
  const Delivery delivery = send(spec, message());
  EXPECT_EQ(delivery.outcome, Delivery::Outcome::failed);
  EXPECT_NE(delivery.detail.find("smtp://"), std::string::npos);  // names the forms, not the URL
  EXPECT_EQ(delivery.detail.find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace lifeboat::comms
