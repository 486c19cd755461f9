#include "lifeboat/stream/agent_stream.hpp"

#include <thread>

namespace lifeboat::stream {

Result<std::unique_ptr<AgentStream>> AgentStream::start(AgentStreamSettings settings) {
  std::unique_ptr<AgentStream> stream(new AgentStream());
  const std::filesystem::path spool = settings.stateDirectory / kSpoolDirectoryName;
  StreamerOptions options;
  options.url = settings.url;
  options.tls = settings.tls;
  options.spoolDirectory = spool;
  options.agent = settings.agent;
  options.agentVersion = settings.agentVersion;
  options.log = settings.log;
  Result<std::unique_ptr<Streamer>> streamer = Streamer::start(std::move(options));
  if (!streamer) {
    return streamer.error();
  }
  stream->streamer_ = std::move(*streamer);
  SpoolOptions spoolOptions;
  spoolOptions.directory = spool;
  spoolOptions.maxBytes = settings.spoolMax;
  spoolOptions.log = settings.log;
  Streamer* raw = stream->streamer_.get();
  spoolOptions.onAppend = [raw] { raw->notify(); };
  Result<std::unique_ptr<SpoolWriter>> writer =
      SpoolWriter::open(std::move(spoolOptions), settings.sequence, settings.agent);
  if (!writer) {
    return writer.error();
  }
  stream->writer_ = std::move(*writer);
  return stream;
}

AgentStream::~AgentStream() {
  finish(std::chrono::milliseconds(0));
}

std::uint64_t AgentStream::finish(std::chrono::milliseconds timeout) {
  if (finished_) {
    return writer_->unacknowledged();
  }
  finished_ = true;
  writer_->sync();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint64_t pending = writer_->unacknowledged();
  while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pending = writer_->unacknowledged();
  }
  writer_->close();
  streamer_->stop();
  return writer_->unacknowledged();
}

}  // namespace lifeboat::stream
