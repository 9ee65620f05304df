#include "keygate/http/byte_stream.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "drain_aware_read.hpp"

namespace keygate::http {
namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The part of `bufs` after its first `skip` bytes.
std::vector<asio::const_buffer> buffers_after(std::span<const asio::const_buffer> bufs, std::size_t skip) {
  std::vector<asio::const_buffer> rest;
  for (const auto& b : bufs) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    rest.push_back(b + skip);
    skip = 0;
  }
  return rest;
}
}  // namespace

byte_stream::byte_stream(tcp::socket socket)
    : socket_(std::move(socket)),
      reactor_(&asio::use_service<drain_aware::reactor>(
          asio::query(socket_.get_executor(), asio::execution::context))) {}

void byte_stream::enable_tls(asio::ssl::context& ctx) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx);
}

asio::awaitable<error_code> byte_stream::handshake(asio::ssl::stream_base::handshake_type type) {
  auto [ec] = co_await tls_->async_handshake(type, tuple_awaitable);
  co_return ec;
}

// Not coroutines: the caller awaits the operation directly (no extra frame per read).
asio::awaitable<std::tuple<error_code, std::size_t>> byte_stream::read_some(asio::mutable_buffer buf) {
  if (tls_) return tls_->async_read_some(buf, tuple_awaitable);
  return read_plain(buf, true);
}

asio::awaitable<std::tuple<error_code, std::size_t>> byte_stream::read_next_message(
    asio::mutable_buffer buf) {
  if (tls_) return tls_->async_read_some(buf, tuple_awaitable);
  return read_plain(buf, false);
}

asio::awaitable<std::tuple<error_code, std::size_t>> byte_stream::read_plain(asio::mutable_buffer buf,
                                                                             bool try_first) {
  if (buf.size() == 0) return socket_.async_read_some(buf, tuple_awaitable);
  if (!queued_hint_requested_ && socket_.is_open()) {
    queued_hint_requested_ = true;
    drain_aware::enable_queued_hint(socket_.native_handle());
  }
  return drain_aware::async_read_some(socket_, *reactor_, buf, drained_, try_first, tuple_awaitable);
}

// Plain TCP writes first try to send right away (the socket is non-blocking): usually the
// kernel takes the whole message, and the coroutine then completes without suspending: no
// reactor round trip, no scheduler pass. Only what did not fit waits for writability.
// True when done: everything was sent, or `ec` holds a hard error.
template <class Buffers>
bool byte_stream::write_now(const Buffers& bufs, std::size_t& sent, error_code& ec) {
  const std::size_t total = asio::buffer_size(bufs);
  sent = 0;
  // Non-blocking mode makes a full socket buffer answer would_block instead of blocking the
  // worker (a socket opened by async_connect starts in blocking mode).
  if (!socket_.non_blocking()) {
    socket_.non_blocking(true, ec);
    if (ec) return true;
  }
  sent = socket_.write_some(bufs, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
    return false;
  }
  return ec || sent == total;
}

asio::awaitable<error_code> byte_stream::write(asio::const_buffer buf) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buf, tuple_awaitable);
    co_return ec;
  }
  error_code ec;
  std::size_t sent = 0;
  if (write_now(buf, sent, ec)) co_return ec;
  const asio::const_buffer rest = buf + sent;
  auto [wait_ec, n] = co_await asio::async_write(socket_, rest, tuple_awaitable);
  co_return wait_ec;
}

asio::awaitable<error_code> byte_stream::write(std::span<const asio::const_buffer> bufs) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, bufs, tuple_awaitable);
    co_return ec;
  }
  error_code ec;
  std::size_t sent = 0;
  if (write_now(bufs, sent, ec)) co_return ec;
  const std::vector<asio::const_buffer> rest = buffers_after(bufs, sent);
  auto [wait_ec, n] = co_await asio::async_write(socket_, rest, tuple_awaitable);
  co_return wait_ec;
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
  if (n == 0) return true;                            // orderly close
  if (n > 0) return true;                             // unsolicited bytes: unusable
  return !(errno == EAGAIN || errno == EWOULDBLOCK);  // reset or other error
}

}  // namespace keygate::http
