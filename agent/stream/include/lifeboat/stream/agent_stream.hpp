#pragma once
// What an agent process (`lifeboat run`, `drill`, `resume`, `watch`) holds to
// stream its events: a SpoolWriter every journaled event goes to (the sink)
// and a Streamer that sends the spool when this process holds it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "lifeboat/common/result.hpp"
#include "lifeboat/journal/sequence_store.hpp"
#include "lifeboat/net/tls_options.hpp"
#include "lifeboat/stream/spool.hpp"
#include "lifeboat/stream/streamer.hpp"

namespace lifeboat::stream {

struct AgentStreamSettings {
  std::filesystem::path stateDirectory;
  std::string agent;
  std::string agentVersion;
  std::string url;
  net::TlsClientOptions tls;
  std::uint64_t spoolMax = kDefaultSpoolMax;
  std::shared_ptr<journal::SharedSequence> sequence;  // numbers stream.gap events
  Log log;
};

class AgentStream {
 public:
  // An Error when the URL or a TLS file is unusable (nothing is started).
  static Result<std::unique_ptr<AgentStream>> start(AgentStreamSettings settings);
  ~AgentStream();

  journal::EventSink* sink() { return writer_.get(); }
  const std::filesystem::path& spoolDirectory() const { return writer_->directory(); }

  // At exit: waits up to `timeout` until the coordinator acknowledged every
  // event this process spooled, then closes the spool segment and the
  // connection. Returns how many of this process's events are still
  // unacknowledged (they stay spooled for the next agent process).
  std::uint64_t finish(std::chrono::milliseconds timeout);

  StreamerStatus status() const { return streamer_->status(); }

 private:
  AgentStream() = default;
  std::unique_ptr<SpoolWriter> writer_;
  std::unique_ptr<Streamer> streamer_;
  bool finished_ = false;
};

}  // namespace lifeboat::stream
