#pragma once
// Runs the built `postgres` plugin the way the agent does (one JSON request
// on stdin, JSON lines on stdout) and checks on every run that the target's
// password shows nowhere in its output.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "lifeboat/test_support/plugin_answer.hpp"
#include "postgres_server.hpp"

namespace lifeboat::test_servers {

// Every request carries this password; the servers trust 127.0.0.0/8, so it
// is never checked, only handed around, which is what the secret test needs.
inline constexpr const char* kTestPassword = "Lb-pg-S3cret-q7Zx";

using test_support::PluginAnswer;

inline std::string pluginPath() {
  return (test_support::binaryDir() / "lib/lifeboat/plugins/postgres").string();
}

// The target fields for `server` (dsn and password; data_dir when asked).
inline boost::json::object targetOf(const PostgresServer& server, bool withDataDir = false) {
  boost::json::object target{{"dsn", server.dsn()}, {"password", kTestPassword}};
  if (withDataDir) {
    target["data_dir"] = server.dataDir().string();
  }
  return target;
}

inline PluginAnswer runPlugin(std::string_view op, std::string_view action,
                              const boost::json::object& target,
                              const boost::json::object& params = {},
                              std::string_view run = "r-pg-1") {
  const boost::json::object request{
      {"v", 1},
      {"op", op},
      {"action", action},
      {"target", target},
      {"params", params},
      {"context", {{"run", run}, {"step", "s"}, {"drill", false}, {"fencing_token", 7}}}};
  PluginAnswer answer = test_support::askPlugin(pluginPath(), request);
  EXPECT_EQ(answer.process.out.find(kTestPassword), std::string::npos)
      << action << " printed the password on stdout";
  EXPECT_EQ(answer.process.err.find(kTestPassword), std::string::npos)
      << action << " printed the password on stderr";
  // Exit status agrees with the final line (docs/plugins.md).
  if (answer.ok()) {
    EXPECT_EQ(answer.process.exitCode, 0) << answer.dump();
  } else {
    EXPECT_NE(answer.process.exitCode, 0) << answer.dump();
  }
  return answer;
}

}  // namespace lifeboat::test_servers
