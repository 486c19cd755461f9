#include "lifeboat/common/stream_message.hpp"

#include <boost/json.hpp>

namespace lifeboat {

namespace json = boost::json;

Result<std::vector<Event>> decodeBatch(std::string_view message) {
  if (message.empty()) {
    return Error{"empty batch", "send at least one event line"};
  }
  if (message.size() > kMaxBatchBytes) {
    return Error{"batch of " + std::to_string(message.size()) + " bytes is over the limit of " +
                     std::to_string(kMaxBatchBytes),
                 "send smaller batches"};
  }
  if (message.back() == '\n') {
    message.remove_suffix(1);
  }
  std::vector<Event> events;
  std::size_t number = 0;
  while (true) {
    const std::size_t end = message.find('\n');
    const std::string_view line = message.substr(0, end);
    ++number;
    if (number > kMaxBatchEvents) {
      return Error{"batch has more than " + std::to_string(kMaxBatchEvents) + " events",
                   "send smaller batches"};
    }
    if (line.empty()) {
      return Error{"batch line " + std::to_string(number) + " is empty", ""};
    }
    Result<Event> event = decodeEvent(line);
    if (!event) {
      return Error{"batch line " + std::to_string(number) + ": " + event.error().message,
                   event.error().hint};
    }
    events.push_back(std::move(*event));
    if (end == std::string_view::npos) {
      break;
    }
    message.remove_prefix(end + 1);
  }
  return events;
}

std::string encodeAck(std::uint64_t seq) {
  return "{\"ack\":" + std::to_string(seq) + "}";
}

std::string encodeStreamError(std::string_view message, bool fatal) {
  json::object reply;
  reply.emplace("error", message);
  reply.emplace("fatal", fatal);
  return json::serialize(reply);
}

Result<StreamReply> decodeStreamReply(std::string_view message) {
  json::error_code ec;
  json::value parsed = json::parse(message, ec);
  if (ec || !parsed.is_object()) {
    return Error{"coordinator reply is not a JSON object", "check the coordinator's version"};
  }
  const json::object& object = parsed.get_object();
  StreamReply reply;
  if (const json::value* ack = object.if_contains("ack")) {
    if (ack->is_uint64()) {
      reply.ack = ack->get_uint64();
    } else if (ack->is_int64() && ack->get_int64() >= 0) {
      reply.ack = static_cast<std::uint64_t>(ack->get_int64());
    } else {
      return Error{"coordinator reply: \"ack\" must be a non-negative integer", ""};
    }
    return reply;
  }
  if (const json::value* error = object.if_contains("error")) {
    if (!error->is_string()) {
      return Error{"coordinator reply: \"error\" must be a string", ""};
    }
    reply.kind = StreamReply::Kind::error;
    reply.error = std::string(error->get_string());
    const json::value* fatal = object.if_contains("fatal");
    if (fatal != nullptr && !fatal->is_bool()) {
      return Error{"coordinator reply: \"fatal\" must be true or false", ""};
    }
    reply.fatal = fatal != nullptr && fatal->get_bool();
    return reply;
  }
  return Error{"coordinator reply has neither \"ack\" nor \"error\"",
               "check the coordinator's version"};
}

}  // namespace lifeboat
