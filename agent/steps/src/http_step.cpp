// http steps: one request through the agent's HTTP client, judged by the
// expected statuses and body text (runbook reference 9.3).
#include "lifeboat/common/duration.hpp"
#include "lifeboat/http/client.hpp"
#include "lifeboat/steps/step.hpp"

namespace lifeboat::steps {

StepOutcome runHttp(const runbook::HttpSpec& spec, Milliseconds timeout, const Services& services) {
  http::Request request;
  request.method = spec.method;
  request.url = spec.url;
  request.headers = spec.headers;
  request.body = spec.body;
  request.caFile = spec.caFile;
  request.clientCertificate = spec.clientCertificate;
  request.clientKey = spec.clientKey;
  request.insecureSkipVerify = spec.insecureSkipVerify;
  request.timeout = std::max(timeout, Milliseconds(1));
  const process::CancelSignal* cancel = services.cancel;
  request.cancelled = [cancel] { return cancel != nullptr && cancel->triggered(); };

  http::Outcome performed = http::perform(request);
  StepOutcome outcome;
  if (!performed.result) {
    switch (performed.failure) {
      case http::Failure::timedOut:
        outcome.status = Status::timedOut;
        break;
      case http::Failure::cancelled:
        outcome.status = Status::cancelled;
        break;
      default:
        outcome.status = Status::failed;
        break;
    }
    const Error& error = performed.result.error();
    outcome.error = services.redactor->redact(
        error.message + (error.hint.empty() ? std::string() : " (" + error.hint + ")"));
    return outcome;
  }
  const http::Response& response = *performed.result;
  outcome.httpStatus = response.status;
  const std::string problem = http::checkResponse(response, spec.expectStatus, spec.expectBody);
  if (!problem.empty()) {
    outcome.status = Status::failed;
    outcome.error = services.redactor->redact(spec.method + " " + spec.url + ": " + problem);
    return outcome;
  }
  outcome.status = Status::ok;
  outcome.outputs = {{"status", response.status}};
  return outcome;
}

}  // namespace lifeboat::steps
