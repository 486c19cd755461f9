#pragma once
// A tiny TCP server for traffic tests: it listens on `address` (a loopback
// address, port chosen by the kernel), answers every connection with its own
// name and a newline, and keeps the connection open until the client closes
// it or the greeter stops. So a client that reads a name knows which backend
// server HAProxy sent it to, and a held connection shows whether HAProxy
// closed it. One background thread; stopped and joined by the destructor.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace lifeboat::test_servers {

class Greeter {
 public:
  Greeter(std::string name, const std::string& address);
  ~Greeter();
  Greeter(const Greeter&) = delete;
  Greeter& operator=(const Greeter&) = delete;

  int port() const { return port_; }

 private:
  void serve();

  std::string name_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<int> connections_;  // owned by the thread
  std::thread thread_;
};

// A client connection to 127.0.0.1:`port` (a frontend) that reads the
// greeting: the name of the server that answered, "" when none came within
// two seconds.
class HeldConnection {
 public:
  explicit HeldConnection(int port);
  ~HeldConnection();
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;

  const std::string& greeting() const { return greeting_; }
  // Whether the connection was closed by the other side (or reset) within
  // `timeoutMs`.
  bool closedWithin(int timeoutMs);

 private:
  int fd_ = -1;
  std::string greeting_;
};

// Connects to 127.0.0.1:`port`, returns the greeting and closes.
std::string greetingAt(int port);

}  // namespace lifeboat::test_servers
