#pragma once
// A TLS stream that runs OpenSSL directly on a TCP socket's descriptor, for
// servers holding many idle connections. Asio's ssl::stream keeps ~68 KB per
// connection whatever the traffic (two 17 KB buffers in its stream core and
// a BIO pair of 2 x 17 KB); this one keeps no buffer of its own while idle:
// OpenSSL reads from and writes to the socket itself (SSL_MODE_RELEASE_BUFFERS
// on the context then frees OpenSSL's record buffers between records), and
// only TLS output the kernel cannot take at once is held, until it is sent.
//
// Satisfies Asio's AsyncReadStream and AsyncWriteStream, so Beast's HTTP
// functions and beast::websocket::stream<TlsSocket> work on it (teardown,
// async_teardown and beast_close_socket are found by ADL; the TlsSocket is
// the lowest layer: beast::get_lowest_layer(ws) returns it).
//
// Threading: like any Asio I/O object, one operation of each direction at a
// time (a read may run while a write does), every call and handler on one
// strand (the socket's executor should be a strand when the io_context runs
// on several threads). A handshake or shutdown runs alone.
//
// Errors: asio::error::eof when the peer closed the TLS session
// (close_notify), asio::ssl::error::stream_truncated when it closed the TCP
// connection without one, OpenSSL's reasons in asio's SSL error category
// (e.g. "certificate verify failed"), system errors from the socket, and
// asio::error::bad_descriptor once close() was called.

#include <openssl/types.h>

#include <algorithm>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/role.hpp>
#include <cstddef>
#include <memory>
#include <string>

namespace lifeboat::net {

class TlsSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  enum class Role { client, server };

  // Takes the connected socket; makes its own SSL object from `context`,
  // which must outlive the TlsSocket. An SSL object OpenSSL cannot make
  // (out of memory) makes every operation fail with no_memory.
  TlsSocket(boost::asio::ip::tcp::socket socket, SSL_CTX* context);
  TlsSocket(TlsSocket&&) noexcept;
  TlsSocket& operator=(TlsSocket&&) noexcept;
  ~TlsSocket();

  executor_type get_executor() const;
  boost::asio::ip::tcp::socket& socket();
  // The SSL object: the peer's certificate, verify result, per-connection
  // settings before the handshake (prepareClientConnection()).
  SSL* native_handle();

  // Closes the TCP socket at once (no close_notify): pending operations
  // complete with operation_aborted, later ones with bad_descriptor.
  void close();
  // Pending operations complete with operation_aborted; the TLS session is
  // then in an unknown state: close it.
  void cancel();

  // Completes with (error_code, bytes): at most one record's worth of
  // plaintext into the first non-empty buffer. An empty buffer sequence
  // completes with 0 bytes.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::mutable_buffer piece(*it); piece.size() > 0) {
        first = piece;
        break;
      }
    }
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer into) {
          startRead(into, IoHandler(std::move(handler)));
        },
        token, first);
  }

  // Completes with (error_code, bytes) once at most one record (16 KB) of
  // `buffers` is encrypted and handed to the kernel. Small leading pieces
  // (a websocket frame header, say) are joined with what follows into one
  // record rather than sent as records of their own.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    boost::asio::const_buffer first;
    std::size_t pieces = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && pieces < 2; ++it) {
      if (boost::asio::const_buffer piece(*it); piece.size() > 0) {
        if (pieces++ == 0) {
          first = piece;
        }
      }
    }
    std::string joined;
    if (pieces > 1 && first.size() < kRecordBytes) {
      joined.resize(std::min(boost::asio::buffer_size(buffers), kRecordBytes));
      boost::asio::buffer_copy(boost::asio::buffer(joined), buffers);
    }
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::const_buffer from, std::string owned) {
          startWrite(from, std::move(owned), IoHandler(std::move(handler)));
        },
        token, first, std::move(joined));
  }

  // Completes with (error_code) when the handshake is done, or failed: a
  // refused certificate shows as OpenSSL's reason (and SSL_get_verify_result
  // on native_handle() says why it did not verify).
  template <class Token>
  auto async_handshake(Role role, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler, Role as) { startHandshake(as, DoneHandler(std::move(handler))); },
        token, role);
  }

  // Sends close_notify and waits for the peer's (data arriving meanwhile is
  // dropped). Completes with no error when both were exchanged, eof or
  // stream_truncated when the peer closed the connection instead. After a
  // failed operation there is no session left to close: completes at once
  // with no error. Does not close the TCP socket.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { startShutdown(DoneHandler(std::move(handler))); }, token);
  }

  // The websocket's timeouts close the connection through this (found by
  // ADL from beast::close_socket).
  friend void beast_close_socket(TlsSocket& socket) { socket.close(); }

  using IoHandler =
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  using DoneHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  struct Core;

 private:
  static constexpr std::size_t kRecordBytes = 16 * 1024;

  void startRead(boost::asio::mutable_buffer into, IoHandler handler);
  void startWrite(boost::asio::const_buffer from, std::string owned, IoHandler handler);
  void startHandshake(Role role, DoneHandler handler);
  void startShutdown(DoneHandler handler);
  // For the synchronous teardown: close_notify without waiting for the
  // peer's; what the kernel does not take at once is written blocking.
  void sendCloseNotify();
  friend void teardown(boost::beast::role_type role, TlsSocket& socket,
                       boost::system::error_code& error);

  std::unique_ptr<Core> core_;
};

// Beast's websocket teardown for a TlsSocket: close_notify both ways, then
// the TCP teardown Beast does for a plain socket (the server shuts down its
// sending side and waits for the client to close first), then close.
void teardown(boost::beast::role_type role, TlsSocket& socket, boost::system::error_code& error);

void asyncTeardown(boost::beast::role_type role, TlsSocket& socket, TlsSocket::DoneHandler handler);

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, TlsSocket& socket, TeardownHandler&& handler) {
  asyncTeardown(role, socket, TlsSocket::DoneHandler(std::forward<TeardownHandler>(handler)));
}

}  // namespace lifeboat::net
