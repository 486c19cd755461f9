// The listener on a unix domain socket: the control API's transport. The
// file's mode is its access control, so the tests check it, and that the
// file is made, replaced and removed as the header promises.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "lifeboat/listener/server.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "raw_client.hpp"
#include "recorder.hpp"

namespace lifeboat::listener {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::bodyOf;
using testing::loopback;
using testing::RawClient;
using testing::Recorder;
using testing::startOrFail;
using testing::statusOf;

Endpoint unixEndpoint(const fs::path& path) {
  Endpoint endpoint;
  endpoint.unixPath = path;
  return endpoint;
}

// What a crashed daemon leaves behind: a socket file nobody listens on.
void leaveStaleSocket(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
  ASSERT_TRUE(fs::is_socket(path));
}

std::string askOverSocket(const fs::path& path) {
  RawClient client = RawClient::toSocket(path);
  if (!client.connected()) {
    return {};
  }
  client.send("POST /v1/approve HTTP/1.1\r\nHost: lifeboat\r\nContent-Length: 2\r\n\r\n{}");
  return client.readResponse();
}

TEST(ListenerUnixSocket, RoundTripWithMode0660AndRemovalOnStop) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "control.sock";
  Response answer;
  answer.body = R"({"approved":true})";
  Recorder recorder(answer);
  auto server = startOrFail({unixEndpoint(path)}, recorder.handler());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->port(0), 0);

  struct stat info {};
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0660U);

  const std::string response = askOverSocket(path);
  EXPECT_EQ(statusOf(response), 200) << response;
  EXPECT_EQ(bodyOf(response), R"({"approved":true})");
  ASSERT_EQ(recorder.count(), 1U);
  EXPECT_EQ(recorder.last().peer, "unix");
  EXPECT_EQ(recorder.last().target, "/v1/approve");
  EXPECT_EQ(recorder.last().body, "{}");

  server->stop();
  EXPECT_FALSE(fs::exists(fs::symlink_status(path)));
}

TEST(ListenerUnixSocket, StaleSocketFileIsReplaced) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "control.sock";
  leaveStaleSocket(path);
  EXPECT_FALSE(RawClient::toSocket(path).connected());

  Recorder recorder;
  auto server = startOrFail({unixEndpoint(path)}, recorder.handler());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(statusOf(askOverSocket(path)), 200);
}

TEST(ListenerUnixSocket, LiveSocketIsNotTakenOver) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "control.sock";
  Recorder recorder;
  auto first = startOrFail({unixEndpoint(path)}, recorder.handler());
  ASSERT_NE(first, nullptr);

  auto second = Server::start({unixEndpoint(path)}, recorder.handler());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(path.string()), std::string::npos)
      << second.error().message;
  EXPECT_EQ(statusOf(askOverSocket(path)), 200);  // the first still serves
}

TEST(ListenerUnixSocket, OtherFileInTheWayIsLeftAlone) {
  test_support::TempDir dir;
  const fs::path path = dir.write("control.sock", "precious");
  Recorder recorder;
  auto started = Server::start({unixEndpoint(path)}, recorder.handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find(path.string()), std::string::npos);
  std::ifstream kept(path);
  std::string content;
  std::getline(kept, content);
  EXPECT_EQ(content, "precious");
}

TEST(ListenerUnixSocket, MissingDirectoryAndTooLongPathAreErrors) {
  test_support::TempDir dir;
  Recorder recorder;
  const fs::path missing = dir.path() / "no-such-dir" / "control.sock";
  auto inMissing = Server::start({unixEndpoint(missing)}, recorder.handler());
  ASSERT_FALSE(inMissing.ok());
  EXPECT_NE(inMissing.error().message.find(missing.string()), std::string::npos);

  const fs::path tooLong = dir.path() / (std::string(120, 'x') + ".sock");
  EXPECT_FALSE(Server::start({unixEndpoint(tooLong)}, recorder.handler()).ok());
}

TEST(ListenerUnixSocket, TlsOnAUnixSocketIsRefused) {
  test_support::TempDir dir;
  Endpoint endpoint = unixEndpoint(dir.path() / "control.sock");
  endpoint.tls = TlsOptions{};
  Recorder recorder;
  auto started = Server::start({endpoint}, recorder.handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("TLS"), std::string::npos);
}

TEST(ListenerUnixSocket, ServesAlongsideTcpAndCleansUpAfterAFailedStart) {
  test_support::TempDir dir;
  const fs::path path = dir.path() / "control.sock";
  Recorder recorder;
  {
    auto server = startOrFail({loopback(), unixEndpoint(path)}, recorder.handler());
    ASSERT_NE(server, nullptr);
    EXPECT_GT(server->port(0), 0);
    EXPECT_EQ(server->port(1), 0);
    EXPECT_EQ(server->port(2), 0);
    EXPECT_EQ(statusOf(askOverSocket(path)), 200);
    RawClient tcp = RawClient::toPort(server->port(0));
    ASSERT_TRUE(tcp.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(statusOf(tcp.readResponse()), 200);
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(path)));  // the destructor stops

  // The second endpoint cannot be bound: nothing of the first stays behind.
  Endpoint badHost = loopback();
  badHost.host = "not an address";
  auto failed = Server::start({unixEndpoint(path), badHost}, recorder.handler());
  ASSERT_FALSE(failed.ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(path)));
}

}  // namespace
}  // namespace lifeboat::listener
