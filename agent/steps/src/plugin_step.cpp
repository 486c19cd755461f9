// Plugin actions: protocol v1 (docs/plugins.md) over a child's stdin/stdout.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string>
#include <variant>

#include "child_outcome.hpp"
#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {
namespace {

// What the plugin said on stdout, line by line.
struct Conversation {
  std::optional<plugin::FinalLine> final;
  std::string violation;  // the first protocol violation, if any
  int lineNumber = 0;
};

void hear(Conversation& conversation, std::string_view line, const Services& services) {
  ++conversation.lineNumber;
  if (!conversation.violation.empty()) {
    return;
  }
  if (conversation.final) {
    conversation.violation =
        "line " + std::to_string(conversation.lineNumber) + " of stdout came after the final line";
    return;
  }
  auto parsed = plugin::parseOutputLine(line);
  if (!parsed) {
    conversation.violation = "line " + std::to_string(conversation.lineNumber) +
                             " of stdout breaks the protocol: " + parsed.error().message;
    return;
  }
  if (auto* progress = std::get_if<plugin::ProgressLine>(&*parsed)) {
    if (services.onOutput) {
      services.onOutput(kProgress, progress->message);
    }
    return;
  }
  conversation.final = std::get<plugin::FinalLine>(std::move(*parsed));
}

boost::json::object memberObject(const boost::json::object& object, std::string_view key) {
  if (const auto* value = object.if_contains(key); value != nullptr && value->is_object()) {
    return value->as_object();
  }
  return {};
}

}  // namespace

StepOutcome runPlugin(const PluginCall& call, Milliseconds timeout, const Services& services) {
  boost::json::object request{{"v", 1},
                              {"op", call.op},
                              {"action", call.action},
                              {"target", call.target},
                              {"params", call.params},
                              {"context", call.context}};
  Conversation conversation;
  process::Command command;
  command.argv = {call.executable.string()};
  command.environment = services.childEnvironment;
  command.standardInput = boost::json::serialize(request);
  command.timeout = timeout;
  command.killGrace = services.killGrace;
  command.cancel = services.cancel;
  command.onStarted = services.onProcessStarted;
  command.onLine = [&](process::Stream stream, std::string_view line) {
    if (stream == process::Stream::standardOutput) {
      hear(conversation, line, services);
    } else if (services.onOutput) {
      services.onOutput(kStderr, line);
    }
  };
  const std::string name = "plugin " + call.executable.filename().string();
  Result<process::Outcome> result = services.runner->run(command);
  StepOutcome outcome;
  if (!result) {
    outcome.error = services.redactor->redact(result.error().message);
    return outcome;
  }
  const process::Outcome& child = *result;
  if (child.cancelled || child.timedOut || child.signal != 0) {
    return fromChildOutcome(child, name, timeout, *services.redactor);
  }
  outcome.exitCode = child.exitCode;
  std::string error;
  if (!conversation.violation.empty()) {
    error = name + " broke the protocol: " + conversation.violation;
  } else if (!conversation.final) {
    error =
        name + " exited with status " + std::to_string(child.exitCode) + " without a final line";
    if (const std::string line = lastLine(child.standardError, *services.redactor); !line.empty()) {
      error += ": " + line;
    }
  } else if (conversation.final->ok != (child.exitCode == 0)) {
    error = name + " exited with status " + std::to_string(child.exitCode) +
            (conversation.final->ok ? " after answering ok" : " after answering ok:false");
    if (!conversation.final->ok) {
      error += ": " + conversation.final->error;
    }
  } else if (!conversation.final->ok) {
    error = name + " " + call.action + ": " + conversation.final->error;
    if (!conversation.final->hint.empty()) {
      error += " (hint: " + conversation.final->hint + ")";
    }
  } else {
    boost::system::error_code parseError;
    boost::json::value answer = boost::json::parse(conversation.final->json, parseError);
    if (!parseError && answer.is_object()) {
      outcome.outputs = memberObject(answer.as_object(), "outputs");
      outcome.measurements = memberObject(answer.as_object(), "measurements");
    }
    outcome.status = Status::ok;
    return outcome;
  }
  outcome.status = Status::failed;
  outcome.error = services.redactor->redact(error);
  return outcome;
}

}  // namespace lifeboat::steps
