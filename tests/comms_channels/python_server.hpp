#pragma once
// The channels' test servers: receiver.py (HTTP) and smtp_server.py (SMTP),
// run with /usr/bin/python3 on 127.0.0.1; and the test certificates they
// serve (a CA and a server certificate for IP 127.0.0.1).

#include <sys/types.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace lifeboat::comms::testing {

struct TestCertificates {
  std::filesystem::path caFile;
  std::filesystem::path certificate;
  std::filesystem::path key;
};
// Written into `directory` (the current test fails when that fails).
TestCertificates makeTestCertificates(const std::filesystem::path& directory);

// tests/comms_channels/SCRIPT with `arguments` plus "--record FILE";
// killed and reaped on destruction. port() is 0 when it did not start (the
// current test has then failed).
class PythonServer {
 public:
  PythonServer(const std::string& script, const std::filesystem::path& record,
               const std::vector<std::string>& arguments);
  ~PythonServer();
  PythonServer(const PythonServer&) = delete;
  PythonServer& operator=(const PythonServer&) = delete;

  int port() const { return port_; }
  // Every line the server recorded so far, parsed.
  std::vector<boost::json::object> records() const;

 private:
  std::filesystem::path record_;
  pid_t pid_ = -1;
  int stdinWrite_ = -1;  // closing it makes the server exit
  int stdoutRead_ = -1;
  int port_ = 0;
};

}  // namespace lifeboat::comms::testing
