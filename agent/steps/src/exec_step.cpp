// exec steps: a program run without a shell (unless asked), in its own
// process group, killed with it on timeout or cancel.
#include <boost/json/parse.hpp>
#include <string>

#include "child_outcome.hpp"
#include "lifeboat/common/duration.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {

boost::json::object outputsFromLastLine(std::string_view standardOutput) {
  std::size_t end = standardOutput.size();
  while (end > 0) {
    std::size_t begin = standardOutput.rfind('\n', end - 1);
    begin = begin == std::string_view::npos ? 0 : begin + 1;
    std::string_view line = standardOutput.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      boost::system::error_code error;
      boost::json::value value = boost::json::parse(line, error);
      if (!error && value.is_object()) {
        return std::move(value.as_object());
      }
      return {};
    }
    if (begin == 0) {
      break;
    }
    end = begin - 1;
  }
  return {};
}

StepOutcome runExec(const runbook::ExecSpec& spec, Milliseconds timeout, const Services& services) {
  process::Command command;
  if (spec.shell) {
    command.argv = {"/bin/sh", "-c", spec.argv.empty() ? std::string() : spec.argv.front()};
  } else {
    command.argv = spec.argv;
  }
  command.environment = services.childEnvironment;
  command.environment.insert(command.environment.end(), spec.environment.begin(),
                             spec.environment.end());
  command.workingDirectory = spec.workingDirectory;
  command.timeout = timeout;
  command.killGrace = services.killGrace;
  command.cancel = services.cancel;
  command.onLine = [&services](process::Stream stream, std::string_view line) {
    if (services.onOutput) {
      services.onOutput(stream == process::Stream::standardOutput ? kStdout : kStderr, line);
    }
  };
  command.onStarted = services.onProcessStarted;

  Result<process::Outcome> result = services.runner->run(command);
  const std::string program = spec.shell ? std::string("/bin/sh") : command.argv.front();
  if (!result) {
    StepOutcome outcome;
    outcome.status = Status::failed;
    outcome.error = services.redactor->redact(result.error().message);
    return outcome;
  }
  StepOutcome outcome = fromChildOutcome(*result, program, timeout, *services.redactor);
  if (outcome.status == Status::ok) {
    outcome.outputs = outputsFromLastLine(result->standardOutput);
    if (const auto* rpo = outcome.outputs.if_contains("rpo_seconds");
        rpo != nullptr && rpo->is_number()) {
      outcome.measurements["rpo_seconds"] = *rpo;
    }
  }
  return outcome;
}

}  // namespace lifeboat::steps
