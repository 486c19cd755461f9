#include "python_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lifeboat/net/certificates.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::comms::testing {

TestCertificates makeTestCertificates(const std::filesystem::path& directory) {
  TestCertificates made{directory / "ca.pem", directory / "server.pem", directory / "server.key"};
  const Result<net::PemPair> ca = net::makeCertificateAuthority("Lifeboat comms test CA");
  if (!ca.ok()) {
    ADD_FAILURE() << ca.error().message;
    return made;
  }
  const Result<net::PemPair> server = net::issueCertificate(
      *ca, {.commonName = "127.0.0.1", .alternativeNames = {"127.0.0.1"}, .server = true});
  if (!server.ok()) {
    ADD_FAILURE() << server.error().message;
    return made;
  }
  std::ofstream(made.caFile) << ca->certificate;
  const Result<bool> written = net::writePemPair(*server, made.certificate, made.key);
  if (!written.ok()) {
    ADD_FAILURE() << written.error().message;
  }
  return made;
}

PythonServer::PythonServer(const std::string& script, const std::filesystem::path& record,
                           const std::vector<std::string>& arguments)
    : record_(record) {
  std::array<int, 2> input{-1, -1};
  std::array<int, 2> output{-1, -1};
  if (::pipe2(input.data(), O_CLOEXEC) != 0 || ::pipe2(output.data(), O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  const std::string path = (test_support::sourceDir() / "tests/comms_channels" / script).string();
  // Debian's python3: the one with python3-aiosmtpd (not a pyenv first on PATH).
  std::vector<std::string> argv{"/usr/bin/python3", path, "--record", record.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const pid_t started =
      test_support::startBackground(argv, {input[0], output[1], test_support::kInherit});
  ::close(input[0]);
  ::close(output[1]);
  stdinWrite_ = input[1];
  stdoutRead_ = output[0];
  if (started <= 0) {
    ADD_FAILURE() << "cannot start " << path << ": " << std::strerror(-started);
    return;
  }
  pid_ = started;

  // The first line is the port; wait for it with a deadline, not a sleep.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{stdoutRead_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      ADD_FAILURE() << script << " did not print its port within 20 s";
      return;
    }
    std::array<char, 64> buffer{};
    const ssize_t got = ::read(stdoutRead_, buffer.data(), buffer.size());
    if (got <= 0) {
      ADD_FAILURE() << script << " exited before printing its port (see its stderr above)";
      return;
    }
    line.append(buffer.data(), static_cast<std::size_t>(got));
  }
  port_ = std::atoi(line.c_str());
  if (port_ <= 0) {
    ADD_FAILURE() << script << " printed no port: " << line;
    port_ = 0;
  }
}

PythonServer::~PythonServer() {
  if (stdinWrite_ >= 0) {
    ::close(stdinWrite_);
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdoutRead_ >= 0) {
    ::close(stdoutRead_);
  }
}

std::vector<boost::json::object> PythonServer::records() const {
  std::vector<boost::json::object> parsed;
  std::ifstream in(record_);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(line, error);
    if (error || !value.is_object()) {
      ADD_FAILURE() << "unreadable record: " << line;
      continue;
    }
    parsed.push_back(std::move(value.as_object()));
  }
  return parsed;
}

}  // namespace lifeboat::comms::testing
