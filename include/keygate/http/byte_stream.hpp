// keygate::http::byte_stream — a TCP connection, optionally wrapped in TLS, with
// error-code-returning coroutine I/O. One type for client and upstream connections keeps the
// session code free of templates. Not thread-safe: used only on its worker's thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <span>
#include <tuple>

namespace keygate::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class byte_stream {
 public:
  explicit byte_stream(tcp::socket socket) : socket_(std::move(socket)) {}
  // Wraps the socket in TLS with `ctx` (server or client role decided by handshake()).
  void enable_tls(asio::ssl::context& ctx);
  bool is_tls() const noexcept { return tls_ != nullptr; }
  asio::ssl::stream<tcp::socket&>* tls() noexcept { return tls_.get(); }

  asio::awaitable<error_code> handshake(asio::ssl::stream_base::handshake_type type);
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  // Writes all of `buf`; plain TCP tries a synchronous non-blocking send first and suspends
  // only for what the kernel did not take.
  asio::awaitable<error_code> write(asio::const_buffer buf);
  asio::awaitable<error_code> write(std::span<const asio::const_buffer> bufs);

  // Cancels pending operations (deadline expiry); the awaiting coroutine sees operation_aborted.
  void cancel() noexcept;
  // Closes the socket immediately (no TLS close_notify: used on errors and timeouts).
  void close() noexcept;
  // Best-effort TLS shutdown + TCP FIN after the last response.
  asio::awaitable<void> graceful_close();
  bool is_open() const noexcept { return socket_.is_open(); }
  tcp::socket& socket() noexcept { return socket_; }
  // True when the peer closed or sent unexpected bytes on an idle connection (non-blocking peek).
  bool idle_peer_gone() noexcept;

 private:
  template <class Buffers>
  bool write_now(const Buffers& bufs, std::size_t& sent, error_code& ec);

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace keygate::http
