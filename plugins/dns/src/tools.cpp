#include "tools.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "lifeboat/common/text.hpp"

namespace lifeboat::dns_plugin {
namespace {

// Time the runner allows a tool beyond its own network timeout.
constexpr std::chrono::milliseconds kToolGrace{3000};

std::string seconds(std::chrono::milliseconds timeout) {
  return std::to_string(std::max<long long>(1, (timeout.count() + 999) / 1000));
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> splitWords(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  return words;
}

// `text` with every occurrence of `secret` replaced.
std::string withoutSecret(std::string text, const std::string& secret) {
  if (secret.empty()) {
    return text;
  }
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

// The meaningful lines of a tool's output, joined for a message.
std::string complaint(const process::Outcome& outcome, const std::string& secret) {
  std::string joined;
  for (const std::string* stream : {&outcome.standardError, &outcome.standardOutput}) {
    for (const std::string& line : splitLines(*stream)) {
      if (line.find_first_not_of(" \t;") == std::string::npos || joined.size() > 600) {
        continue;
      }
      joined += joined.empty() ? "" : " | ";
      joined += line;
    }
  }
  if (outcome.timedOut) {
    joined += joined.empty() ? "timed out" : " | timed out";
  }
  return withoutSecret(
      joined.empty() ? "no output, exit status " + std::to_string(outcome.exitCode) : joined,
      secret);
}

std::string rdataOf(const std::string& type, const std::vector<std::string>& words) {
  std::string data;
  for (std::size_t index = 4; index < words.size(); ++index) {
    data += data.empty() ? "" : " ";
    data += words[index];
  }
  if (type == "CNAME") {
    data = lower(data);
    if (!data.empty() && data.back() == '.') {
      data.pop_back();
    }
  } else if (type == "TXT") {
    // dig prints each character-string quoted; ours never contain quotes.
    std::string joined;
    bool quoted = false;
    for (char c : data) {
      if (c == '"') {
        quoted = !quoted;
      } else if (quoted) {
        joined += c;
      }
    }
    data = joined;
  }
  return data;
}

}  // namespace

std::string NameServer::where() const {
  return address + " port " + std::to_string(port);
}

Result<std::vector<std::string>> queryRecords(const NameServer& server, process::Runner& runner,
                                              const std::string& fqdn, const std::string& type) {
  process::Command command;
  command.argv = {server.digPath,       "+norecurse", "+noall",
                  "+comments",          "+answer",    "+time=" + seconds(server.timeout),
                  "+tries=1",           "-p",         std::to_string(server.port),
                  "@" + server.address, fqdn + ".",   type};
  command.timeout = server.timeout + kToolGrace;
  command.killGrace = std::chrono::milliseconds(500);
  const std::string what = "dig for " + fqdn + " " + type + " at " + server.where();
  auto outcome = runner.run(command);
  if (!outcome) {
    return Error{"cannot start " + server.digPath + " (" + what + "): " + outcome.error().message,
                 "install dig (Debian: bind9-dnsutils) or set the target's 'dig' path"};
  }
  if (!outcome->succeeded()) {
    return Error{what + " failed: " + complaint(*outcome, server.keySecret),
                 "check that the name server runs and answers on " + server.where()};
  }
  std::string status;
  std::vector<std::string> answers;
  for (const std::string& line : splitLines(outcome->standardOutput)) {
    if (const std::size_t at = line.find("status: ");
        line.starts_with(";") && at != std::string::npos) {
      status = line.substr(at + 8, line.find(',', at) - at - 8);
      continue;
    }
    if (line.empty() || line.starts_with(";")) {
      continue;
    }
    const std::vector<std::string> words = splitWords(line);
    if (words.size() < 5) {
      continue;
    }
    std::string owner = lower(words[0]);
    if (!owner.empty() && owner.back() == '.') {
      owner.pop_back();
    }
    if (owner == fqdn && words[3] == type) {
      answers.push_back(rdataOf(type, words));
    }
  }
  if (status != "NOERROR" && status != "NXDOMAIN") {
    return Error{what + ": the server answered " + (status.empty() ? "nothing usable" : status),
                 status == "REFUSED" || status == "NOTAUTH"
                     ? "check that this server is a primary for zone " + server.zone
                     : "look at the name server's log"};
  }
  std::sort(answers.begin(), answers.end());
  return answers;
}

std::optional<Error> sendUpdate(const NameServer& server, process::Runner& runner,
                                const std::vector<std::string>& updates, const std::string& what) {
  std::string script = "server " + server.address + " " + std::to_string(server.port) + "\n" +
                       "zone " + server.zone + ".\n" + "key " + server.keyAlgorithm + ":" +
                       server.keyName + " " + server.keySecret + "\n";
  for (const std::string& update : updates) {
    script += update + "\n";
  }
  script += "send\n";

  process::Command command;
  // -v: TCP, so a large answer or a lost datagram cannot make the outcome
  // ambiguous; -t: the whole update's timeout.
  command.argv = {server.nsupdatePath, "-v", "-t", seconds(server.timeout)};
  command.standardInput = std::move(script);
  command.timeout = server.timeout + kToolGrace;
  command.killGrace = std::chrono::milliseconds(500);
  const std::string where = what + " in zone " + server.zone + " at " + server.where();
  auto outcome = runner.run(command);
  if (!outcome) {
    return Error{"cannot start " + server.nsupdatePath + " to update " + where + ": " +
                     outcome.error().message,
                 "install nsupdate (Debian: bind9-dnsutils) or set the target's 'nsupdate' path"};
  }
  if (outcome->succeeded()) {
    return std::nullopt;
  }
  const std::string said = complaint(*outcome, server.keySecret);
  std::string hint;
  const std::string upper = [&said] {
    std::string text = said;
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
  }();
  if (upper.find("BADKEY") != std::string::npos || upper.find("BADSIG") != std::string::npos ||
      upper.find("TSIG") != std::string::npos || upper.find("NOTAUTH") != std::string::npos) {
    hint = "the server did not accept the TSIG key: check key_name (" + server.keyName +
           "), key_secret and key_algorithm (" + server.keyAlgorithm +
           ") against the server's key statement, and that the server serves zone " + server.zone;
  } else if (upper.find("REFUSED") != std::string::npos) {
    hint = "the server refused the update: check that zone " + server.zone +
           " allows updates with key " + server.keyName +
           " (allow-update { key ...; } or update-policy) and that the server is its primary";
  } else if (upper.find("NOTZONE") != std::string::npos) {
    hint = "the name is not inside zone " + server.zone;
  } else if (upper.find("SERVFAIL") != std::string::npos) {
    hint = "the server failed to apply the update: look at its log (journal file permissions?)";
  } else if (outcome->timedOut || upper.find("TIMED OUT") != std::string::npos ||
             upper.find("CONNECTION REFUSED") != std::string::npos ||
             upper.find("COMMUNICATION") != std::string::npos ||
             upper.find("COULD NOT TALK") != std::string::npos ||
             upper.find("COULDN'T TALK") != std::string::npos) {
    hint = "cannot reach the name server: check that it runs and listens on " + server.where() +
           " (TCP)";
  } else {
    hint = "look at the name server's log for the update";
  }
  return Error{"nsupdate failed to update " + where + ": " + said, std::move(hint)};
}

}  // namespace lifeboat::dns_plugin
