#include "test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "lifeboat/test_support/run_process.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::http::fixtures {
namespace {

namespace fs = std::filesystem;
using test_support::runProcess;

void openssl(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const test_support::ProcessResult result = runProcess(argv);
  EXPECT_EQ(result.exitCode, 0) << "openssl " << arguments.front() << ": " << result.err;
}

void writeFile(const fs::path& path, const std::string& content) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  std::fputs(content.c_str(), file);
  std::fclose(file);
}

void makeKey(const fs::path& key) {
  openssl(
      {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.string()});
}

void makeCa(const fs::path& directory, const std::string& name, const fs::path& certificate,
            const fs::path& key) {
  const fs::path config = directory / (name + ".cnf");
  writeFile(config,
            "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n"
            "[dn]\nCN = " +
                name +
                "\n[ext]\nbasicConstraints = critical, CA:TRUE\n"
                "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n");
  makeKey(key);
  openssl({"req", "-x509", "-new", "-config", config.string(), "-key", key.string(), "-days", "2",
           "-out", certificate.string()});
}

void makeLeaf(const fs::path& directory, const std::string& name, const std::string& extensions,
              const fs::path& caCertificate, const fs::path& caKey, const fs::path& certificate,
              const fs::path& key) {
  const fs::path request = directory / (name + ".csr");
  const fs::path extensionFile = directory / (name + ".ext");
  writeFile(extensionFile,
            "basicConstraints = CA:FALSE\n" + extensions + "authorityKeyIdentifier = keyid\n");
  makeKey(key);
  openssl({"req", "-new", "-key", key.string(), "-subj", "/CN=" + name, "-out", request.string()});
  openssl({"x509", "-req", "-in", request.string(), "-CA", caCertificate.string(), "-CAkey",
           caKey.string(), "-set_serial", "2", "-days", "2", "-extfile", extensionFile.string(),
           "-out", certificate.string()});
}

}  // namespace

Certificates makeCertificates(const fs::path& directory) {
  Certificates made;
  made.caCertificate = directory / "ca.pem";
  const fs::path caKey = directory / "ca.key";
  made.serverCertificate = directory / "server.pem";
  made.serverKey = directory / "server.key";
  made.clientCertificate = directory / "client.pem";
  made.clientKey = directory / "client.key";
  made.otherCaCertificate = directory / "other-ca.pem";
  const fs::path otherCaKey = directory / "other-ca.key";
  made.otherClientCertificate = directory / "other-client.pem";
  made.otherClientKey = directory / "other-client.key";

  makeCa(directory, "Lifeboat Test CA", made.caCertificate, caKey);
  makeLeaf(directory, "127.0.0.1",
           "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n"
           "keyUsage = critical, digitalSignature\n",
           made.caCertificate, caKey, made.serverCertificate, made.serverKey);
  makeLeaf(directory, "lifeboat-agent",
           "extendedKeyUsage = clientAuth\nkeyUsage = critical, digitalSignature\n",
           made.caCertificate, caKey, made.clientCertificate, made.clientKey);
  makeCa(directory, "Some Other CA", made.otherCaCertificate, otherCaKey);
  makeLeaf(directory, "intruder",
           "extendedKeyUsage = clientAuth\nkeyUsage = critical, digitalSignature\n",
           made.otherCaCertificate, otherCaKey, made.otherClientCertificate, made.otherClientKey);
  return made;
}

TestServer::TestServer(const std::vector<std::string>& arguments) {
  for (const std::string& argument : arguments) {
    tls_ = tls_ || argument == "--cert";
  }
  std::array<int, 2> input{-1, -1};
  std::array<int, 2> output{-1, -1};
  if (::pipe2(input.data(), O_CLOEXEC) != 0 || ::pipe2(output.data(), O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  const std::string script = (test_support::sourceDir() / "tests/http/test_server.py").string();
  std::vector<std::string> argv{"/usr/bin/python3", script};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const pid_t started =
      test_support::startBackground(argv, {input[0], output[1], test_support::kInherit});
  const int spawned = started > 0 ? 0 : -started;
  pid_ = started > 0 ? started : -1;
  ::close(input[0]);
  ::close(output[1]);
  stdinWrite_ = input[1];
  stdoutRead_ = output[0];
  if (spawned != 0) {
    pid_ = -1;
    ADD_FAILURE() << "cannot start " << script << ": " << std::strerror(spawned);
    return;
  }

  // The first line is the port; wait for it with a deadline, not a sleep.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{stdoutRead_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      ADD_FAILURE() << "test_server.py did not print its port within 20 s";
      return;
    }
    std::array<char, 64> buffer{};
    const ssize_t got = ::read(stdoutRead_, buffer.data(), buffer.size());
    if (got <= 0) {
      ADD_FAILURE() << "test_server.py exited before printing its port";
      return;
    }
    line.append(buffer.data(), static_cast<std::size_t>(got));
  }
  port_ = std::atoi(line.c_str());
  if (port_ <= 0) {
    ADD_FAILURE() << "test_server.py printed no port: " << line;
    port_ = 0;
  }
}

TestServer::~TestServer() {
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

std::string TestServer::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

ClosedPort::ClosedPort() {
  socket_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (socket_ < 0 || ::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ADD_FAILURE() << "cannot bind a socket on 127.0.0.1: " << std::strerror(errno);
    return;
  }
  port_ = ntohs(address.sin_port);
}

ClosedPort::~ClosedPort() {
  if (socket_ >= 0) {
    ::close(socket_);
  }
}

}  // namespace lifeboat::http::fixtures
