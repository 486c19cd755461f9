#pragma once
// A blocking socket client for the listener's tests: sends exact bytes and
// reads exact responses, for what libcurl cannot show or will not send
// (response headers, malformed requests, idle and half-sent connections).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace lifeboat::listener::testing {

class RawClient {
 public:
  // Connects to 127.0.0.1:port, or to a unix socket; connected() says
  // whether it worked.
  static RawClient toPort(std::uint16_t port);
  static RawClient toSocket(const std::filesystem::path& path);
  ~RawClient();
  RawClient(RawClient&& other) noexcept;
  RawClient& operator=(RawClient&&) = delete;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return socket_ >= 0; }
  bool send(std::string_view bytes);
  // One whole response (status line, headers, and the Content-Length body,
  // none when `head`: the answer to a HEAD), or "" when the connection
  // closed or `within` passed first.
  std::string readResponse(std::chrono::milliseconds within = std::chrono::seconds(10),
                           bool head = false);
  // True when the server closes the connection (end of file or reset)
  // within `within`; what it sends meanwhile is dropped.
  bool closedWithin(std::chrono::milliseconds within = std::chrono::seconds(10));
  void close();

 private:
  explicit RawClient(int socket) : socket_(socket) {}
  // Reads more into buffered_; false on close, error or deadline.
  bool readMore(std::chrono::steady_clock::time_point deadline);

  int socket_ = -1;
  std::string buffered_;
};

// Pieces of a raw response.
int statusOf(const std::string& response);
std::string headerOf(const std::string& response, std::string_view name);  // case-insensitive
std::string bodyOf(const std::string& response);

}  // namespace lifeboat::listener::testing
