#include "bind_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/ports.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::test_servers {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kNamed = "/usr/sbin/named";
constexpr const char* kDig = "/usr/bin/dig";

std::string base64(const std::vector<unsigned char>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t index = 0;
  for (; index + 2 < bytes.size(); index += 3) {
    const unsigned value = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2];
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += kAlphabet[(value >> 6) & 63];
    out += kAlphabet[value & 63];
  }
  if (index + 1 == bytes.size()) {
    const unsigned value = bytes[index] << 16;
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += "==";
  } else if (index + 2 == bytes.size()) {
    const unsigned value = (bytes[index] << 16) | (bytes[index + 1] << 8);
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += kAlphabet[(value >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string randomSecret() {
  std::random_device device;
  std::vector<unsigned char> bytes(32);
  for (unsigned char& byte : bytes) {
    byte = static_cast<unsigned char>(device() & 0xff);
  }
  return base64(bytes);
}

std::string quoted(const fs::path& path) {
  return "\"" + path.string() + "\"";
}

}  // namespace

BindServer::BindServer(const fs::path& directory, std::string zone, std::vector<DnsRecord> records)
    : directory_(directory),
      zone_(std::move(zone)),
      records_(std::move(records)),
      keySecret_(randomSecret()) {
  if (::access(kNamed, X_OK) != 0 || ::access(kDig, X_OK) != 0) {
    ADD_FAILURE() << kNamed << " or " << kDig
                  << " is missing: apt-get install bind9 bind9-dnsutils (9.18)";
    return;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start(attempt)) {
      return;
    }
  }
  ADD_FAILURE() << "named did not start; its log (" << log_ << "):\n"
                << test_support::fileTail(log_);
}

bool BindServer::start(int attempt) {
  port_ = test_support::freePorts(1, {"127.0.0.1"}, true);
  const fs::path zoneFile = directory_ / (zone_ + ".zone");
  std::ostringstream zoneText;
  zoneText << "$TTL 30\n"
           << "@ IN SOA ns." << zone_ << ". hostmaster." << zone_ << ". 1 3600 600 86400 30\n"
           << "@ IN NS ns." << zone_ << ".\n"
           << "ns IN A 127.0.0.1\n";
  for (const DnsRecord& record : records_) {
    zoneText << record.name << " " << record.ttl << " IN " << record.type << " "
             << (record.type == "TXT" ? "\"" + record.value + "\"" : record.value) << "\n";
  }
  std::ofstream(zoneFile) << zoneText.str();
  // A journal left by an earlier attempt would replay over the new zone file.
  fs::remove(directory_ / (zone_ + ".zone.jnl"));

  std::ostringstream conf;
  conf << "options {\n"
       << "  directory " << quoted(directory_) << ";\n"
       << "  pid-file " << quoted(directory_ / "named.pid") << ";\n"
       << "  session-keyfile " << quoted(directory_ / "session.key") << ";\n"
       << "  managed-keys-directory " << quoted(directory_) << ";\n"
       << "  listen-on port " << port_ << " { 127.0.0.1; };\n"
       << "  listen-on-v6 { none; };\n"
       << "  recursion no;\n"
       << "  allow-query { any; };\n"
       << "  dnssec-validation no;\n"
       << "  notify no;\n"
       << "};\n"
       << "controls { };\n"
       << "key \"" << keyName_ << "\" {\n"
       << "  algorithm " << keyAlgorithm_ << ";\n"
       << "  secret \"" << keySecret_ << "\";\n"
       << "};\n"
       << "zone \"" << zone_ << "\" {\n"
       << "  type primary;\n"
       << "  file " << quoted(zoneFile) << ";\n"
       << "  journal " << quoted(directory_ / (zone_ + ".zone.jnl")) << ";\n"
       << "  allow-update { key \"" << keyName_ << "\"; };\n"
       << "};\n";
  const fs::path confPath = directory_ / "named.conf";
  std::ofstream(confPath) << conf.str();

  log_ = directory_ / ("named-" + std::to_string(attempt) + ".log");
  const int logFd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // -g: foreground, log to stderr; -4: IPv4 only. As root, named keeps root
  // (no -u), which the files in `directory` need.
  const pid_t started = test_support::startBackground({kNamed, "-g", "-4", "-c", confPath.string()},
                                                      {test_support::kDevNull, logFd, logFd});
  ::close(logFd);
  if (started <= 0) {
    ADD_FAILURE() << "cannot start " << kNamed << ": " << std::strerror(-started);
    return true;  // no point in retrying
  }
  pid_ = started;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: most likely the port was taken meanwhile
      return false;
    }
    if (!query("@", "SOA").empty()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return false;
}

BindServer::~BindServer() {
  stop();
}

std::vector<std::string> BindServer::query(const std::string& name, const std::string& type) const {
  std::string fqdn = name == "@" ? zone_ + "." : name;
  if (fqdn.empty() || fqdn.back() != '.') {
    fqdn += "." + zone_ + ".";
  }
  const test_support::ProcessResult result =
      test_support::runProcess({kDig, "+short", "+norecurse", "+time=1", "+tries=1", "-p",
                                std::to_string(port_), "@127.0.0.1", fqdn, type});
  std::vector<std::string> answers;
  if (result.exitCode != 0) {
    return answers;
  }
  for (const std::string& line : result.lines()) {
    if (!line.empty() && !line.starts_with(";")) {
      answers.push_back(line);
    }
  }
  std::sort(answers.begin(), answers.end());
  return answers;
}

void BindServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
}

}  // namespace lifeboat::test_servers
