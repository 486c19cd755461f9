#pragma once
// Runs the built `postgres` plugin the way the agent does (one JSON request
// on stdin, JSON lines on stdout) and checks on every run that the target's
// password shows nowhere in its output.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "lifeboat/test_support/run_process.hpp"
#include "postgres_server.hpp"

namespace lifeboat::test_servers {

// Every request carries this password; the servers trust 127.0.0.0/8, so it
// is never checked, only handed around, which is what the secret test needs.
inline constexpr const char* kTestPassword = "Lb-pg-S3cret-q7Zx";

struct PluginAnswer {
  test_support::ProcessResult process;
  boost::json::object final;  // the last stdout line; empty when not an object

  bool ok() const { return final.contains("ok") && final.at("ok") == true; }
  std::string text(std::string_view member) const {
    const boost::json::value* value = final.if_contains(member);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
  }
  std::string error() const { return text("error"); }
  std::string hint() const { return text("hint"); }
  const boost::json::value& output(std::string_view name) const {
    return final.at("outputs").at(name);
  }
  std::string outputText(std::string_view name) const {
    const boost::json::value& value = output(name);
    return value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value);
  }
  double rpoSeconds() const {
    return final.at("measurements").at("rpo_seconds").to_number<double>();
  }
  // For assertion messages.
  std::string dump() const { return process.out + process.err; }
};

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
  PluginAnswer answer;
  answer.process = test_support::runProcess({pluginPath()}, boost::json::serialize(request));
  boost::system::error_code code;
  boost::json::value last = boost::json::parse(answer.process.lastLine(), code);
  if (!code && last.is_object()) {
    answer.final = last.get_object();
  }
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
