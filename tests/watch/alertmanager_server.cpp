#include "alertmanager_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lifeboat/http/client.hpp"
#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::watch::fixtures {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

// Whether `port` on 127.0.0.1 can be bound right now (nobody listens on it).
bool portFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return bound;
}

// A free port in [20000, 32000): below the kernel's outgoing range.
int freePort() {
  static std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20'000, 31'999);
  for (;;) {
    const int port = pick(random);
    if (portFree(port)) {
      return port;
    }
  }
}

// A YAML single-quoted scalar: only the quote itself needs escaping.
std::string yamlQuoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

// A Prometheus duration ("100ms", "1s", "3600s").
std::string promDuration(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) {
    return std::to_string(duration.count() / 1000) + "s";
  }
  return std::to_string(duration.count()) + "ms";
}

std::string configYaml(const AlertmanagerOptions& options) {
  std::string groupBy = "[";
  for (std::size_t i = 0; i < options.groupBy.size(); ++i) {
    groupBy += (i == 0 ? "" : ", ") + yamlQuoted(options.groupBy[i]);
  }
  groupBy += "]";
  std::string yaml =
      "# Written by the test fixture AlertmanagerServer.\n"
      "route:\n"
      "  receiver: lifeboat\n"
      "  group_by: " +
      groupBy +
      "\n"
      "  group_wait: " +
      promDuration(options.groupWait) +
      "\n"
      "  group_interval: " +
      promDuration(options.groupInterval) +
      "\n"
      "  repeat_interval: " +
      promDuration(options.repeatInterval) +
      "\n"
      "receivers:\n"
      "  - name: lifeboat\n"
      "    webhook_configs:\n"
      "      - url: " +
      yamlQuoted(options.webhookUrl) +
      "\n"
      "        send_resolved: true\n";
  if (!options.caFile.empty()) {
    yaml +=
        "        http_config:\n"
        "          tls_config:\n"
        "            ca_file: " +
        yamlQuoted(options.caFile) + "\n";
  }
  return yaml;
}

json::object toJson(const LabelList& labels) {
  json::object object;
  for (const auto& [name, value] : labels) {
    object[name] = value;
  }
  return object;
}

Timestamp nowMs() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

AlertmanagerServer::AlertmanagerServer(const fs::path& directory, AlertmanagerOptions options)
    : directory_(directory), options_(std::move(options)) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    switch (start(attempt)) {
      case Start::ready:
        return;
      case Start::failed:
        return;  // already reported
      case Start::retry:
        break;
    }
  }
  ADD_FAILURE() << "Alertmanager did not start; its log (" << log_ << "):\n" << logTail();
}

AlertmanagerServer::Start AlertmanagerServer::start(int attempt) {
  const int port = freePort();
  endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  const fs::path config = directory_ / "alertmanager.yml";
  const fs::path storage = directory_ / ("alertmanager-data-" + std::to_string(attempt));
  log_ = directory_ / ("alertmanager-" + std::to_string(attempt) + ".log");
  {
    std::ofstream out(config, std::ios::trunc);
    out << configYaml(options_);
    if (!out.flush()) {
      ADD_FAILURE() << "cannot write " << config;
      return Start::failed;
    }
  }
  const std::vector<std::string> argv{
      kAlertmanager,
      "--config.file=" + config.string(),
      "--storage.path=" + storage.string(),
      "--web.listen-address=127.0.0.1:" + std::to_string(port),
      "--web.external-url=" + endpoint_,
      // Empty: no cluster (else it binds 0.0.0.0:9094 and gossips).
      "--cluster.listen-address=",
      "--log.level=debug",
  };
  const int logFd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (logFd < 0) {
    ADD_FAILURE() << "cannot create " << log_ << ": " << std::strerror(errno);
    return Start::failed;
  }
  const pid_t started = test_support::startBackground(argv, {test_support::kDevNull, logFd, logFd});
  ::close(logFd);
  if (started <= 0) {
    ADD_FAILURE() << "cannot start " << kAlertmanager << ": " << std::strerror(-started)
                  << " (apt-get install prometheus-alertmanager)";
    return Start::failed;  // no point in retrying
  }
  pid_ = started;

  const auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  while (SteadyClock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: a bad config (the log says) or the port taken meanwhile
      return Start::retry;
    }
    http::Request ready;
    ready.url = endpoint_ + "/-/ready";
    ready.timeout = std::chrono::milliseconds(500);
    const http::Outcome outcome = http::perform(ready);
    if (outcome.result.ok() && outcome.result->status == 200) {
      return Start::ready;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return Start::retry;
}

AlertmanagerServer::~AlertmanagerServer() {
  stop();
}

void AlertmanagerServer::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  int status = 0;
  while (SteadyClock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string AlertmanagerServer::logTail() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

::testing::AssertionResult AlertmanagerServer::postAlert(const LabelList& labels,
                                                         const LabelList& annotations,
                                                         std::optional<Timestamp> startsAt,
                                                         std::optional<Timestamp> endsAt) {
  if (!running()) {
    return ::testing::AssertionFailure() << "Alertmanager is not running";
  }
  json::object alert;
  alert["labels"] = toJson(labels);
  alert["annotations"] = toJson(annotations);
  if (startsAt) {
    alert["startsAt"] = formatTimestamp(*startsAt);
  }
  if (endsAt) {
    alert["endsAt"] = formatTimestamp(*endsAt);
  }
  alert["generatorURL"] = "http://127.0.0.1/lifeboat-test";
  json::array alerts;
  alerts.push_back(std::move(alert));

  http::Request request;
  request.method = "POST";
  request.url = endpoint_ + "/api/v2/alerts";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = json::serialize(alerts);
  request.timeout = std::chrono::seconds(10);
  const http::Outcome outcome = http::perform(request);
  if (!outcome.result.ok()) {
    return ::testing::AssertionFailure()
           << outcome.result.error().message << "\nAlertmanager's log:\n"
           << logTail();
  }
  if (outcome.result->status != 200) {
    return ::testing::AssertionFailure()
           << "POST " << request.url << ": HTTP " << outcome.result->status << ": "
           << outcome.result->body << "\nrequest: " << request.body << "\nAlertmanager's log:\n"
           << logTail();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AlertmanagerServer::resolveAlert(const LabelList& labels,
                                                            const LabelList& annotations,
                                                            std::optional<Timestamp> startsAt) {
  return postAlert(labels, annotations, startsAt, nowMs());
}

}  // namespace lifeboat::watch::fixtures
