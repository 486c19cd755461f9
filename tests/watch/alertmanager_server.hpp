#pragma once
// A real Prometheus Alertmanager (the Debian package's
// /usr/bin/prometheus-alertmanager, 0.25) on 127.0.0.1 for tests: one route
// to one webhook receiver (named "lifeboat", send_resolved on) whose URL the
// test gives, clustering off, config, storage and log in a directory the
// caller owns. Its web port is below 32768, chosen free by binding it first;
// started again on another port if Alertmanager could not bind.
//
// Threads: one test thread owns it.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lifeboat/watch/alertmanager.hpp"

namespace lifeboat::watch::fixtures {

struct AlertmanagerOptions {
  // Where Alertmanager POSTs its webhooks: http://… or https://….
  std::string webhookUrl;
  // https: the PEM file of the CA that signed the receiver's certificate
  // (tls_config.ca_file); empty = the system's roots.
  std::string caFile;
  // The route's timing: the first notification of a new group waits
  // groupWait; changes to a group (new or resolved alerts) go out every
  // groupInterval; an unchanged firing group is sent again after
  // repeatInterval.
  std::chrono::milliseconds groupWait{100};
  std::chrono::milliseconds groupInterval{1000};
  std::chrono::milliseconds repeatInterval{std::chrono::hours(1)};
  // The route's group_by. The default "..." groups by every label: each
  // distinct alert is its own group, so each webhook carries one alert.
  std::vector<std::string> groupBy{"..."};
};

class AlertmanagerServer {
 public:
  // Writes alertmanager.yml, starts Alertmanager with its storage and log
  // under `directory`, and waits (up to 20 s, polling /-/ready) until it
  // serves. On failure the current test has failed (ADD_FAILURE with the tail
  // of Alertmanager's log) and running() is false.
  AlertmanagerServer(const std::filesystem::path& directory, AlertmanagerOptions options);
  ~AlertmanagerServer();  // stop()
  AlertmanagerServer(const AlertmanagerServer&) = delete;
  AlertmanagerServer& operator=(const AlertmanagerServer&) = delete;

  bool running() const { return pid_ > 0; }
  // "http://127.0.0.1:PORT"
  const std::string& endpoint() const { return endpoint_; }
  const std::filesystem::path& logFile() const { return log_; }
  // The last ~2000 bytes of Alertmanager's log, for failure messages.
  std::string logTail() const;

  // Posts one alert through API v2 (POST /api/v2/alerts), the way Prometheus
  // does. `startsAt` none = Alertmanager's now; `endsAt` none = firing until
  // Alertmanager's resolve_timeout (5 m) passes without a repeat. Fails with
  // the status, the response and the log's tail.
  ::testing::AssertionResult postAlert(const LabelList& labels, const LabelList& annotations = {},
                                       std::optional<Timestamp> startsAt = {},
                                       std::optional<Timestamp> endsAt = {});
  // Posts the alert with these labels again with endsAt = now: Alertmanager
  // marks it resolved and sends a "resolved" webhook at the group's next
  // interval. Pass the same startsAt as the firing post when there was one.
  ::testing::AssertionResult resolveAlert(const LabelList& labels,
                                          const LabelList& annotations = {},
                                          std::optional<Timestamp> startsAt = {});

  // SIGTERM, up to 5 s to exit, then SIGKILL; reaps the process. Idempotent.
  void stop();

 private:
  enum class Start { ready, retry, failed };
  Start start(int attempt);

  std::filesystem::path directory_;
  AlertmanagerOptions options_;
  pid_t pid_ = -1;
  std::string endpoint_;
  std::filesystem::path log_;
};

}  // namespace lifeboat::watch::fixtures
