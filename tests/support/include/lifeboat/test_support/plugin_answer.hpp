#pragma once
// Runs a built plugin executable the way the agent does (one JSON request on
// stdin, JSON lines on stdout; docs/plugins.md) and reads its final line,
// for the plugins' tests.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "lifeboat/test_support/run_process.hpp"

namespace lifeboat::test_support {

struct PluginAnswer {
  ProcessResult process;
  boost::json::object final;  // the last stdout line; empty when it is not an object

  bool ok() const;
  // A string member of the final line ("" when absent or not a string).
  std::string text(std::string_view member) const;
  std::string error() const { return text("error"); }
  std::string hint() const { return text("hint"); }
  // outputs.NAME (throws when absent, which fails the test).
  const boost::json::value& output(std::string_view name) const;
  // outputs.NAME as text: strings as they are, anything else as JSON.
  std::string outputText(std::string_view name) const;
  // measurements.rpo_seconds.
  double rpoSeconds() const;
  // Everything the plugin printed, for assertion messages.
  std::string dump() const { return process.out + process.err; }
};

// Runs `executable` with `request` serialized on stdin.
PluginAnswer askPlugin(const std::string& executable, const boost::json::object& request);

}  // namespace lifeboat::test_support
