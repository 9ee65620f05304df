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

namespace boost::asio::detail {
class epoll_reactor;
}

namespace keygate::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class byte_stream {
 public:
  explicit byte_stream(tcp::socket socket);
  // Wraps the socket in TLS with `ctx` (server or client role decided by handshake()).
  void enable_tls(asio::ssl::context& ctx);
  bool is_tls() const noexcept { return tls_ != nullptr; }
  asio::ssl::stream<tcp::socket&>* tls() noexcept { return tls_.get(); }

  asio::awaitable<error_code> handshake(asio::ssl::stream_base::handshake_type type);
  // Reads what the peer has sent, waiting for it when nothing is there yet.
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  // The first read of a message the peer sends in its turn: the client's next request, the
  // upstream's response to the request just sent. When the previous read drained the socket,
  // plain TCP waits for readiness without first trying a recv() that would find nothing
  // (src/http/drain_aware_read.hpp). Same results as read_some.
  asio::awaitable<std::tuple<error_code, std::size_t>> read_next_message(asio::mutable_buffer buf);
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
  asio::awaitable<std::tuple<error_code, std::size_t>> read_plain(asio::mutable_buffer buf, bool try_first);

  tcp::socket socket_;
  asio::detail::epoll_reactor* reactor_;  // of the socket's io_context
  bool drained_ = false;                  // the last plain read left nothing queued
  bool queued_hint_requested_ = false;    // TCP_INQ asked for (on the first plain read)
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace keygate::http
