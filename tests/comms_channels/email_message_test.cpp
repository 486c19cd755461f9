// The email channel's RFC 5322 message: headers no value can break out of,
// RFC 2047 subjects, quoted-printable bodies, CRLF line ends.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms {
namespace {

ChannelSpec emailChannel() {
  ChannelSpec channel;
  channel.name = "mail";
  channel.kind = ChannelKind::email;
  channel.smtpUrl = "smtp://127.0.0.1:2525";
  channel.from = "Lifeboat <lifeboat@localhost>";
  channel.to = {"ops@localhost", "Duty \"Manager\" <duty@localhost>"};
  return channel;
}

Message emailMessageSample() {
  Message message;
  message.id = 9;
  message.dedupKey = "inc-7/opened/ops/mail";
  message.subject = "Payments failing over";
  message.body = "Line one\nLine two";
  message.createdAt = Timestamp{std::chrono::milliseconds(1'796'585'743'250)};
  return message;
}

// The message split at CRLF; fails the test on a bare CR or LF.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> split;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    const std::string line = text.substr(start, end - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << "bare CR or LF in " << line;
    split.push_back(line);
    if (end == std::string::npos) {
      break;
    }
    start = end + 2;
  }
  return split;
}

std::vector<std::string> headerLines(const std::string& text) {
  std::vector<std::string> all = lines(text);
  std::vector<std::string> headers;
  for (const std::string& line : all) {
    if (line.empty()) {
      break;
    }
    headers.push_back(line);
  }
  return headers;
}

std::string bodyOf(const std::string& text) {
  return text.substr(text.find("\r\n\r\n") + 4);
}

TEST(EmailMessage, HeadersOfAPlainMessage) {
  const std::string text = emailMessage(emailChannel(), emailMessageSample());
  const std::vector<std::string> headers = headerLines(text);
  const std::vector<std::string> expected{
      "From: \"Lifeboat\" <lifeboat@localhost>",
      "To: <ops@localhost>,",
      " \"Duty \\\"Manager\\\"\" <duty@localhost>",
      "Subject: Payments failing over",
      "Date: Sun, 06 Dec 2026 19:35:43 +0000",
      "Message-ID: <inc-7=2Fopened=2Fops=2Fmail@lifeboat>",
      "Auto-Submitted: auto-generated",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=UTF-8",
      "Content-Transfer-Encoding: quoted-printable",
  };
  EXPECT_EQ(headers, expected);
  EXPECT_EQ(bodyOf(text), "Line one\r\nLine two\r\n");
}

TEST(EmailMessage, NoValueCanAddAHeader) {
  ChannelSpec channel = emailChannel();
  channel.from = "Evil\r\nBcc: victim@localhost\r\n <lifeboat@localhost>";
  channel.to = {"ops@localhost\r\nBcc: other@localhost"};
  Message message = emailMessageSample();
  message.subject = "Hello\r\nBcc: third@localhost\nX-Injected: yes";
  message.dedupKey = "key>\r\nX-Id: 1";
  const std::string text = emailMessage(channel, message);
  for (const std::string& line : headerLines(text)) {
    EXPECT_FALSE(line.starts_with("Bcc")) << line;
    EXPECT_FALSE(line.starts_with("X-")) << line;
  }
  // Each header is where it belongs, once.
  const std::vector<std::string> headers = headerLines(text);
  EXPECT_EQ(std::count_if(headers.begin(), headers.end(),
                          [](const std::string& line) { return line.starts_with("Subject:"); }),
            1);
  EXPECT_NE(text.find("Message-ID: <key=3E=0D=0AX-Id=3A=201@lifeboat>"), std::string::npos);
}

TEST(EmailMessage, NonAsciiSubjectIsEncodedInWordsOfAtMost75) {
  Message message = emailMessageSample();
  message.subject.clear();
  for (int i = 0; i < 40; ++i) {
    message.subject += "Zahlung fällig ";
  }
  const std::vector<std::string> headers = headerLines(emailMessage(emailChannel(), message));
  bool inSubject = false;
  std::size_t words = 0;
  for (const std::string& line : headers) {
    if (line.starts_with("Subject: ")) {
      inSubject = true;
    } else if (!line.starts_with(" ")) {
      inSubject = false;
    }
    if (!inSubject) {
      continue;
    }
    const std::string word = line.substr(line.find("=?"));
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    EXPECT_LE(word.size(), 75u);
    ++words;
  }
  EXPECT_GT(words, 5u);
}

TEST(EmailMessage, QuotedPrintableBody) {
  Message message = emailMessageSample();
  message.body = "café = ok \nend\t\n" + std::string(100, 'x') + "\n.\n.hidden";
  const std::string body = bodyOf(emailMessage(emailChannel(), message));
  const std::vector<std::string> bodyLines = lines(body);
  ASSERT_GE(bodyLines.size(), 6u);
  EXPECT_EQ(bodyLines[0], "caf=C3=A9 =3D ok=20");
  EXPECT_EQ(bodyLines[1], "end=09");
  EXPECT_EQ(bodyLines[2], std::string(75, 'x') + "=");
  EXPECT_EQ(bodyLines[3], std::string(25, 'x'));
  // Left for libcurl to dot-stuff on the wire (the SMTP test checks it).
  EXPECT_EQ(bodyLines[4], ".");
  EXPECT_EQ(bodyLines[5], ".hidden");
  for (const std::string& line : bodyLines) {
    EXPECT_LE(line.size(), 76u);
  }
}

}  // namespace
}  // namespace lifeboat::comms
