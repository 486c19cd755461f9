#include "lifeboat/net/tls_socket.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cerrno>

namespace lifeboat::net {

namespace asio = boost::asio;
using boost::system::error_code;

// Owned by the TlsSocket, at a fixed address (the BIO points to it), used
// only from the socket's strand.
struct TlsSocket::Core {
  explicit Core(asio::ip::tcp::socket connected) : socket(std::move(connected)) {}
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;
  ~Core() { SSL_free(ssl); }  // frees the BIO too

  asio::ip::tcp::socket socket;
  SSL* ssl = nullptr;
  // TLS output the kernel did not take at once. `pending` is what one
  // operation sends with Asio (`flushing` while it does); output made
  // meanwhile waits in `queued` and goes next. Both empty while idle.
  std::string pending;
  std::string queued;
  bool flushing = false;
  // A fatal error happened: no close_notify may follow.
  bool failed = false;
  bool sawEof = false;
  int lastErrno = 0;
  // Where waiting for input peeks one byte (never consumed).
  char peekByte = 0;
};

namespace {

using Core = TlsSocket::Core;

Core& coreOf(BIO* bio) {
  return *static_cast<Core*>(BIO_get_data(bio));
}

int socketBioWrite(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  if (length <= 0) {
    return 0;
  }
  Core& core = coreOf(bio);
  const auto size = static_cast<std::size_t>(length);
  if (core.flushing) {
    core.queued.append(data, size);
    return length;
  }
  if (!core.pending.empty()) {
    core.pending.append(data, size);
    return length;
  }
  ssize_t sent = 0;
  do {
    sent = ::send(core.socket.native_handle(), data, size, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      core.lastErrno = errno;
      return -1;
    }
    sent = 0;
  }
  // The operation that made this output sends the rest before it completes
  // (see Operation::needsFlush), so OpenSSL never sees a short write.
  if (static_cast<std::size_t>(sent) < size) {
    core.pending.append(data + sent, size - static_cast<std::size_t>(sent));
  }
  return length;
}

int socketBioRead(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  if (length <= 0) {
    return 0;
  }
  Core& core = coreOf(bio);
  ssize_t got = 0;
  do {
    got = ::recv(core.socket.native_handle(), data, static_cast<std::size_t>(length), 0);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    return static_cast<int>(got);
  }
  if (got == 0) {
    core.sawEof = true;
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_read(bio);
    return -1;
  }
  core.lastErrno = errno;
  return -1;
}

long socketBioControl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return coreOf(bio).sawEof ? 1 : 0;
    default:
      return 0;
  }
}

// One method for every TlsSocket of the process, made on first use.
BIO_METHOD* socketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* made =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lifeboat tls socket");
    if (made != nullptr) {
      BIO_meth_set_write(made, socketBioWrite);
      BIO_meth_set_read(made, socketBioRead);
      BIO_meth_set_ctrl(made, socketBioControl);
    }
    return made;
  }();
  return method;
}

// OpenSSL's failure as an error_code, in the words Asio's ssl::stream uses
// (so that Beast treats it alike), and a clean error queue.
error_code failureOf(Core& core, int sslError) {
  const unsigned long queued = ERR_get_error();
  ERR_clear_error();
  if (queued != 0) {
    if (ERR_GET_LIB(queued) == ERR_LIB_SSL &&
        ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      return asio::ssl::error::stream_truncated;
    }
    return error_code(static_cast<int>(queued), asio::error::get_ssl_category());
  }
  if (sslError == SSL_ERROR_SYSCALL && core.lastErrno != 0) {
    return error_code(core.lastErrno, boost::system::system_category());
  }
  // SSL_ERROR_SYSCALL with nothing queued: the peer closed mid-record.
  return asio::ssl::error::stream_truncated;
}

enum class Kind { read, write, handshake, shutdown };

// One read, write, handshake or shutdown: the OpenSSL call, a wait when it
// wants the socket, a flush of output the kernel did not take, until done.
// `kWithBytes`: completes with (error, bytes) rather than (error).
template <bool kWithBytes>
class Operation {
 public:
  Operation(Core& core, Kind kind) : core_(core), kind_(kind) {}

  asio::mutable_buffer into;
  asio::const_buffer from;
  std::string owned;  // `from` joined from several pieces, when it was

  template <class Self>
  void operator()(Self& self, error_code error = {}, std::size_t = 0) {
    switch (step_) {
      case Step::start:
        break;
      case Step::posted:
        return complete(self, result_, bytes_);
      case Step::waited:
        suspended_ = true;
        if (error == asio::error::operation_aborted) {
          return finish(self, error, 0);
        }
        waitError_ = error;
        break;
      case Step::flushed:
        suspended_ = true;
        core_.flushing = false;
        core_.pending.clear();
        if (error) {
          core_.failed = true;
          core_.queued.clear();
          core_.pending.shrink_to_fit();
          core_.queued.shrink_to_fit();
          return finish(self, done_ && result_ ? result_ : error, 0);
        }
        if (!core_.queued.empty()) {
          core_.pending.swap(core_.queued);
          return flush(self);
        }
        core_.pending.shrink_to_fit();
        core_.queued.shrink_to_fit();
        if (done_) {
          return finish(self, result_, bytes_);
        }
        break;
    }
    attempt(self);
  }

 private:
  enum class Step { start, waited, flushed, posted };

  template <class Self>
  void attempt(Self& self) {
    for (;;) {
      if (!core_.socket.is_open()) {
        return finish(self, asio::error::bad_descriptor, 0);
      }
      if (core_.ssl == nullptr) {
        return finish(self, asio::error::no_memory, 0);
      }
      if ((kind_ == Kind::read && into.size() == 0) ||
          (kind_ == Kind::write && from.size() == 0 && owned.empty()) ||
          (kind_ == Kind::shutdown && core_.failed)) {
        return finish(self, {}, 0);
      }
      ERR_clear_error();
      core_.lastErrno = 0;
      std::size_t bytes = 0;
      int status = 0;
      bool again = false;
      switch (kind_) {
        case Kind::read:
          status = SSL_read_ex(core_.ssl, into.data(), into.size(), &bytes);
          break;
        case Kind::write: {
          const asio::const_buffer data = owned.empty() ? from : asio::buffer(owned);
          status = SSL_write_ex(core_.ssl, data.data(), data.size(), &bytes);
          break;
        }
        case Kind::handshake:
          status = SSL_do_handshake(core_.ssl);
          break;
        case Kind::shutdown:
          status = shutdownStep(again);
          break;
      }
      if (again) {
        continue;
      }
      const int sslError = status > 0 ? SSL_ERROR_NONE : SSL_get_error(core_.ssl, status);
      if (sslError == SSL_ERROR_WANT_READ || sslError == SSL_ERROR_WANT_WRITE) {
        // Our part of the conversation goes out before waiting for the answer.
        if (needsFlush()) {
          return flush(self);
        }
        return wait(self, sslError);
      }
      done_ = true;
      bytes_ = bytes;
      if (sslError == SSL_ERROR_NONE) {
        result_ = {};
      } else if (sslError == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        // close_notify: the end of the stream, or the answer a shutdown waits for.
        result_ = kind_ == Kind::shutdown ? error_code() : error_code(asio::error::eof);
      } else {
        result_ = failureOf(core_, sslError);
        core_.failed = true;
      }
      if (needsFlush()) {
        return flush(self);
      }
      return finish(self, result_, bytes_);
    }
  }

  // SSL_shutdown sends close_notify; then SSL_read drops data until the
  // peer's close_notify (SSL_ERROR_ZERO_RETURN). Sets `again` to go on.
  int shutdownStep(bool& again) {
    if (!closeSent_) {
      const int status = SSL_shutdown(core_.ssl);
      if (status == 0) {
        closeSent_ = true;
        again = true;
      }
      return status;
    }
    char scratch[512];
    std::size_t dropped = 0;
    const int status = SSL_read_ex(core_.ssl, scratch, sizeof scratch, &dropped);
    again = status > 0;
    return status;
  }

  bool needsFlush() const { return !core_.flushing && !core_.pending.empty(); }

  template <class Self>
  void flush(Self& self) {
    core_.flushing = true;
    step_ = Step::flushed;
    asio::async_write(core_.socket, asio::buffer(core_.pending), std::move(self));
  }

  // Waiting for input peeks at one byte rather than async_wait(wait_read):
  // Asio tries a peek under the descriptor's lock, so input that arrived
  // between OpenSSL's EAGAIN and this call is not missed (a plain wait on
  // the edge-triggered reactor could miss it when another thread handled
  // the edge in between).
  template <class Self>
  void wait(Self& self, int sslError) {
    step_ = Step::waited;
    if (sslError == SSL_ERROR_WANT_READ) {
      if (waitError_) {
        // The peek saw the end or an error, and OpenSSL still wants input.
        return finish(self, waitError_, 0);
      }
      core_.socket.async_receive(asio::buffer(&core_.peekByte, 1), asio::socket_base::message_peek,
                                 std::move(self));
      return;
    }
    // Only when OpenSSL itself asks to write first (the socket BIO never
    // does): wait until the socket takes data.
    core_.socket.async_wait(asio::socket_base::wait_write, std::move(self));
  }

  // Never completes inside the initiating call: posts first when nothing
  // was waited for.
  template <class Self>
  void finish(Self& self, error_code error, std::size_t bytes) {
    if (suspended_) {
      return complete(self, error, bytes);
    }
    result_ = error;
    bytes_ = bytes;
    step_ = Step::posted;
    asio::post(core_.socket.get_executor(), std::move(self));
  }

  template <class Self>
  static void complete(Self& self, error_code error, std::size_t bytes) {
    if constexpr (kWithBytes) {
      self.complete(error, bytes);
    } else {
      (void)bytes;
      self.complete(error);
    }
  }

  Core& core_;
  Kind kind_;
  Step step_ = Step::start;
  bool suspended_ = false;
  bool done_ = false;
  bool closeSent_ = false;
  error_code result_;
  error_code waitError_;
  std::size_t bytes_ = 0;
};

using IoSignature = void(error_code, std::size_t);
using DoneSignature = void(error_code);

}  // namespace

TlsSocket::TlsSocket(asio::ip::tcp::socket socket, SSL_CTX* context)
    : core_(std::make_unique<Core>(std::move(socket))) {
  error_code ignored;
  // O_NONBLOCK for OpenSSL's reads and writes; Asio's own synchronous calls
  // on the socket still block (it polls), since the user flag stays off.
  core_->socket.native_non_blocking(true, ignored);
  SSL* ssl = context != nullptr ? SSL_new(context) : nullptr;
  BIO_METHOD* method = socketBioMethod();
  BIO* bio = ssl != nullptr && method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl);
    ERR_clear_error();
    return;
  }
  BIO_set_data(bio, core_.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                        SSL_MODE_RELEASE_BUFFERS);
  core_->ssl = ssl;
}

TlsSocket::TlsSocket(TlsSocket&&) noexcept = default;
TlsSocket& TlsSocket::operator=(TlsSocket&&) noexcept = default;
TlsSocket::~TlsSocket() = default;

TlsSocket::executor_type TlsSocket::get_executor() const {
  return core_->socket.get_executor();
}

asio::ip::tcp::socket& TlsSocket::socket() {
  return core_->socket;
}

SSL* TlsSocket::native_handle() {
  return core_->ssl;
}

void TlsSocket::close() {
  error_code ignored;
  core_->socket.close(ignored);
}

void TlsSocket::cancel() {
  error_code ignored;
  core_->socket.cancel(ignored);
}

void TlsSocket::startRead(asio::mutable_buffer into, IoHandler handler) {
  Operation<true> operation(*core_, Kind::read);
  operation.into = into;
  asio::async_compose<IoHandler, IoSignature>(std::move(operation), handler, core_->socket);
}

void TlsSocket::startWrite(asio::const_buffer from, std::string owned, IoHandler handler) {
  Operation<true> operation(*core_, Kind::write);
  operation.from = from;
  operation.owned = std::move(owned);
  asio::async_compose<IoHandler, IoSignature>(std::move(operation), handler, core_->socket);
}

void TlsSocket::startHandshake(Role role, DoneHandler handler) {
  if (core_->ssl != nullptr) {
    if (role == Role::server) {
      SSL_set_accept_state(core_->ssl);
    } else {
      SSL_set_connect_state(core_->ssl);
    }
  }
  asio::async_compose<DoneHandler, DoneSignature>(Operation<false>(*core_, Kind::handshake),
                                                  handler, core_->socket);
}

void TlsSocket::startShutdown(DoneHandler handler) {
  asio::async_compose<DoneHandler, DoneSignature>(Operation<false>(*core_, Kind::shutdown), handler,
                                                  core_->socket);
}

void TlsSocket::sendCloseNotify() {
  Core& core = *core_;
  if (core.ssl == nullptr || core.failed || !core.socket.is_open() || core.flushing) {
    return;
  }
  ERR_clear_error();
  if (SSL_shutdown(core.ssl) < 0) {
    core.failed = true;
  }
  ERR_clear_error();
  if (!core.pending.empty()) {
    error_code ignored;
    asio::write(core.socket, asio::buffer(core.pending), ignored);
    core.pending.clear();
    core.pending.shrink_to_fit();
  }
}

void teardown(boost::beast::role_type role, TlsSocket& socket, error_code& error) {
  socket.sendCloseNotify();
  boost::beast::websocket::teardown(role, socket.socket(), error);
}

namespace {

// async_shutdown, then the TCP teardown Beast does for a plain socket (the
// server shuts its sending side first, the client after the server's end;
// both read until the end, then close). Written here rather than calling
// Beast's: Beast's posts to the handler's associated executor with
// blocking.never, which any_completion_executor does not offer in 1.81.
// The first error is the result, as for Asio's ssl::stream.
class TeardownOperation {
 public:
  TeardownOperation(boost::beast::role_type role, TlsSocket& socket)
      : role_(role), socket_(socket), scratch_(std::make_unique<char[]>(kScratchBytes)) {}

  template <class Self>
  void operator()(Self& self, error_code error = {}, std::size_t = 0) {
    asio::ip::tcp::socket& tcp = socket_.socket();
    error_code ignored;
    switch (step_) {
      case Step::start:
        step_ = Step::shutDown;
        return socket_.async_shutdown(std::move(self));
      case Step::shutDown:
        shutdownError_ = error;
        if (role_ == boost::beast::role_type::server) {
          tcp.shutdown(asio::socket_base::shutdown_send, ignored);
        }
        step_ = Step::draining;
        break;
      case Step::draining:
        if (error) {
          if (error != asio::error::eof) {
            tcp.close(ignored);
            return self.complete(shutdownError_ ? shutdownError_ : error);
          }
          if (role_ == boost::beast::role_type::client) {
            tcp.shutdown(asio::socket_base::shutdown_send, ignored);
          }
          tcp.close(ignored);
          return self.complete(shutdownError_);
        }
        break;
    }
    tcp.async_receive(asio::buffer(scratch_.get(), kScratchBytes), std::move(self));
  }

 private:
  static constexpr std::size_t kScratchBytes = 512;
  enum class Step { start, shutDown, draining };

  boost::beast::role_type role_;
  TlsSocket& socket_;
  Step step_ = Step::start;
  error_code shutdownError_;
  std::unique_ptr<char[]> scratch_;  // on the heap: the operation moves
};

}  // namespace

void asyncTeardown(boost::beast::role_type role, TlsSocket& socket,
                   TlsSocket::DoneHandler handler) {
  asio::async_compose<TlsSocket::DoneHandler, DoneSignature>(TeardownOperation(role, socket),
                                                             handler, socket.socket());
}

}  // namespace lifeboat::net
