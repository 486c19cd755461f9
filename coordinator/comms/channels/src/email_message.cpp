// The RFC 5322 message of the email channel: headers that no value can
// break out of, an RFC 2047 subject when it is not plain ASCII, and a
// quoted-printable UTF-8 text body (RFC 2045), CRLF line ends throughout.

#include "email_message.hpp"

#include <chrono>
#include <cstdio>

#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms {
namespace detail {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool plainAscii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
      return false;
    }
  }
  return true;
}

std::string base64(std::string_view bytes) {
  std::string encoded;
  for (std::size_t at = 0; at < bytes.size(); at += 3) {
    const std::size_t left = bytes.size() - at;
    unsigned int group = static_cast<unsigned char>(bytes[at]) << 16;
    group |= left > 1 ? static_cast<unsigned char>(bytes[at + 1]) << 8 : 0;
    group |= left > 2 ? static_cast<unsigned char>(bytes[at + 2]) : 0;
    encoded += kBase64[(group >> 18) & 0x3F];
    encoded += kBase64[(group >> 12) & 0x3F];
    encoded += left > 1 ? kBase64[(group >> 6) & 0x3F] : '=';
    encoded += left > 2 ? kBase64[group & 0x3F] : '=';
  }
  return encoded;
}

// RFC 2047 "B" encoded words of at most 45 bytes of text each (60 base64
// characters, 72 with the markers: under the 75 allowed), never splitting a
// UTF-8 sequence, folded onto continuation lines.
std::string encodedWords(std::string_view text) {
  std::string words;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = std::min(text.size(), at + 45);
    while (end > at + 1 && end < text.size() &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    words += (words.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") +
             base64(text.substr(at, end - at)) + "?=";
    at = end;
  }
  return words;
}

// The display name of an address: as a quoted string when ASCII, else
// encoded words.
std::string displayName(std::string_view name) {
  if (!plainAscii(name)) {
    return encodedWords(name);
  }
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "\"";
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

// An address header's item: "Name <a@b>" or "a@b" as written in the plan.
std::string addressItem(std::string_view value) {
  const std::string clean = headerText(value);
  std::string address = envelopeAddress(clean);
  const std::size_t open = clean.rfind('<');
  const std::string_view name = open == std::string::npos
                                    ? std::string_view{}
                                    : trimmed(std::string_view(clean).substr(0, open));
  if (name.empty()) {
    return address;
  }
  return displayName(name) + " " + address;
}

// Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, "=" and
// every byte outside printable ASCII as =XX, a space or tab before a line
// break encoded too.
std::string quotedPrintable(std::string_view text) {
  std::string encoded;
  std::size_t lineLength = 0;
  auto put = [&](std::string_view token) {
    if (lineLength + token.size() > 75) {
      encoded += "=\r\n";
      lineLength = 0;
    }
    encoded += token;
    lineLength += token.size();
  };
  for (std::size_t at = 0; at < text.size(); ++at) {
    const unsigned char c = static_cast<unsigned char>(text[at]);
    if (c == '\n' || (c == '\r' && at + 1 < text.size() && text[at + 1] == '\n')) {
      at += c == '\r' ? 1 : 0;
      encoded += "\r\n";
      lineLength = 0;
      continue;
    }
    const bool lineEnds = at + 1 == text.size() || text[at + 1] == '\n' ||
                          (text[at + 1] == '\r' && at + 2 < text.size() && text[at + 2] == '\n');
    const bool literal =
        (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !lineEnds);
    if (literal) {
      put(std::string(1, static_cast<char>(c)));
    } else {
      put(std::string{'=', kHex[c >> 4], kHex[c & 0x0F]});
    }
  }
  return encoded;
}

std::string rfc5322Date(Timestamp time) {
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{floor<seconds>(time - day)};
  std::array<char, 64> text{};
  std::snprintf(text.data(), text.size(), "%s, %02u %s %04d %02ld:%02ld:%02ld +0000",
                kDays[weekday{day}.c_encoding()].data(), static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1].data(),
                static_cast<int>(date.year()), static_cast<long>(clock.hours().count()),
                static_cast<long>(clock.minutes().count()),
                static_cast<long>(clock.seconds().count()));
  return text.data();
}

// The left part of the Message-ID: letters, digits and '-' as they are,
// every other byte as "=XX" (all dot-atom text), so that two keys never
// give the same id.
std::string messageIdPart(std::string_view key) {
  std::string part;
  for (const char c : key) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || byte == '-') {
      part += c;
    } else {
      part += {'=', kHex[byte >> 4], kHex[byte & 0x0F]};
    }
  }
  return part;
}

}  // namespace

std::string headerText(std::string_view value) {
  std::string clean;
  for (const char c : value) {
    const unsigned char byte = static_cast<unsigned char>(c);
    clean += byte < 0x20 || byte == 0x7F ? ' ' : c;
  }
  return clean;
}

std::string envelopeAddress(std::string_view value) {
  std::string_view address = value;
  const std::size_t open = value.rfind('<');
  const std::size_t close = value.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    address = value.substr(open + 1, close - open - 1);
  }
  std::string clean;
  for (const char c : address) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte != 0x7F && c != '<' && c != '>' && c != ',') {
      clean += c;
    }
  }
  return "<" + clean + ">";
}

}  // namespace detail

std::string emailMessage(const ChannelSpec& channel, const Message& message) {
  std::string to;
  for (const std::string& recipient : channel.to) {
    to += (to.empty() ? "" : ",\r\n ") + detail::addressItem(recipient);
  }
  const std::string subject = detail::headerText(message.subject);
  const std::string key =
      message.dedupKey.empty() ? "message-" + std::to_string(message.id) : message.dedupKey;

  std::string text;
  text += "From: " + detail::addressItem(channel.from) + "\r\n";
  text += "To: " + to + "\r\n";
  text += "Subject: " +
          (detail::plainAscii(subject) && subject.size() <= 900 ? subject
                                                                : detail::encodedWords(subject)) +
          "\r\n";
  text += "Date: " + detail::rfc5322Date(message.createdAt) + "\r\n";
  text += "Message-ID: <" + detail::messageIdPart(key) + "@lifeboat>\r\n";
  text += "Auto-Submitted: auto-generated\r\n";
  text += "MIME-Version: 1.0\r\n";
  text += "Content-Type: text/plain; charset=UTF-8\r\n";
  text += "Content-Transfer-Encoding: quoted-printable\r\n";
  text += "\r\n";
  text += detail::quotedPrintable(message.body);
  if (!text.ends_with("\r\n")) {
    text += "\r\n";
  }
  return text;
}

}  // namespace lifeboat::comms
