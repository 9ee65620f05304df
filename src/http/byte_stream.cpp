#include "keygate/http/byte_stream.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace keygate::http {
namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}

void byte_stream::enable_tls(asio::ssl::context& ctx) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx);
}

asio::awaitable<error_code> byte_stream::handshake(asio::ssl::stream_base::handshake_type type) {
  auto [ec] = co_await tls_->async_handshake(type, tuple_awaitable);
  co_return ec;
}

asio::awaitable<std::pair<error_code, std::size_t>> byte_stream::read_some(asio::mutable_buffer buf) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buf, tuple_awaitable);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await socket_.async_read_some(buf, tuple_awaitable);
  co_return std::pair{ec, n};
}

asio::awaitable<error_code> byte_stream::write(asio::const_buffer buf) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buf, tuple_awaitable);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, buf, tuple_awaitable);
  co_return ec;
}

asio::awaitable<error_code> byte_stream::write(std::span<const asio::const_buffer> bufs) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, bufs, tuple_awaitable);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, bufs, tuple_awaitable);
  co_return ec;
}

void byte_stream::cancel() noexcept {
  error_code ignored;
  socket_.cancel(ignored);
}

void byte_stream::close() noexcept {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

asio::awaitable<void> byte_stream::graceful_close() {
  error_code ec;
  if (tls_ && socket_.is_open()) {
    // Do not wait for the peer's close_notify: send ours and close.
    socket_.shutdown(tcp::socket::shutdown_receive, ec);
  }
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
  co_return;
}

bool byte_stream::idle_peer_gone() noexcept {
  char probe;
  const auto n = ::recv(socket_.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;                                  // orderly close
  if (n > 0) return true;                                   // unsolicited bytes: unusable
  return !(errno == EAGAIN || errno == EWOULDBLOCK);        // reset or other error
}

}  // namespace keygate::http
