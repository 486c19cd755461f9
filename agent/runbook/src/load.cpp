#include "lifeboat/runbook/load.hpp"

#include <pthread.h>

#include <cstring>

#include "lifeboat/common/sha256.hpp"
#include "lifeboat/runbook/document.hpp"
#include "parser.hpp"
#include "validator.hpp"

namespace lifeboat::runbook {
namespace {

// toml++ recurses per nesting level and the validator per dependency chain.
// The input guard bounds nesting, but the stack a caller's thread has is
// unknown (256 KiB on some thread pools): run the whole load on a thread
// whose stack we size. Reserved, not committed: untouched pages cost nothing.
constexpr std::size_t kLoadStackBytes = 256 * 1024 * 1024;

struct LoadJob {
  std::string_view text;
  std::string_view path;
  const LoadOptions* options;
  DiagnosticSink* sink;
  std::optional<Runbook> result;
};

std::optional<Runbook> loadOnThisThread(std::string_view text, std::string_view path,
                                        const LoadOptions& options, DiagnosticSink& sink) {
  if (!checkInput(text, options.limits, sink)) {
    return std::nullopt;
  }
  std::unique_ptr<Node> document = parseDocument(text, sink);
  if (document == nullptr) {
    return std::nullopt;
  }
  ParsedRunbook parsed = parseModel(*document, sink);
  document.reset();
  for (auto& [name, value] : options.variables) {
    bool replaced = false;
    for (auto& [existing, current] : parsed.runbook.variables) {
      if (existing == name) {
        current = value;
        replaced = true;
      }
    }
    if (!replaced) {
      parsed.runbook.variables.emplace_back(name, value);
    }
  }
  validate(parsed, options, sink);
  Result<std::string> digest = sha256Hex(text);
  if (!digest) {
    sink.error(SourceLocation{}, digest.error().message, digest.error().hint);
  }
  if (sink.hasErrors()) {
    return std::nullopt;
  }
  parsed.runbook.path = std::string(path);
  parsed.runbook.sha256 = std::move(*digest);
  return std::move(parsed.runbook);
}

void* runJob(void* argument) {
  auto* job = static_cast<LoadJob*>(argument);
  job->result = loadOnThisThread(job->text, job->path, *job->options, *job->sink);
  return nullptr;
}

}  // namespace

std::optional<Runbook> loadRunbook(std::string_view text, std::string_view path,
                                   const LoadOptions& options, DiagnosticSink& sink) {
  LoadJob job{text, path, &options, &sink, std::nullopt};
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kLoadStackBytes);
  pthread_t thread;
  const int started = pthread_create(&thread, &attributes, &runJob, &job);
  pthread_attr_destroy(&attributes);
  if (started != 0) {
    sink.error(SourceLocation{},
               std::string("cannot start the runbook loader thread: ") + std::strerror(started),
               "the system is out of memory or threads");
    return std::nullopt;
  }
  pthread_join(thread, nullptr);
  return std::move(job.result);
}

}  // namespace lifeboat::runbook
