// keygate::http::drain_aware — plain-TCP reads that tell Asio's epoll reactor when they drained
// the socket, so that the read of the peer's next message waits for readiness instead of first
// trying a recv() that finds nothing.
//
// Why: Asio starts every read with one "speculative" recv() before it waits on epoll. For the
// first read of a message the peer sends in its turn (the client's next request, the
// upstream's response to the request just sent) that attempt nearly always fails with EAGAIN:
// one wasted system call per read, two per proxied request (~0.3 µs each on the benchmark
// machine). Asio's reactor skips the attempt once an operation on the descriptor reported
// `done_and_exhausted`, and tries again after the next epoll event; its own receive operation
// reports that only at end of stream.
//
// These reads report it when the kernel says the socket is drained: the read was short and
// the TCP_INQ hint (bytes still queued, non-zero after a FIN) is 0. With edge-triggered epoll
// every byte, FIN or reset that arrives later raises a new event. What a drained read cannot
// see is a reset that arrived together with the data it read. So a read that continues a
// message (`try_first`) always tries recv() itself when the previous read drained the socket;
// only the first read of a message waits, and there a reset is seen on the next write
// (client) or by the pool's liveness peek before the connection is reused (upstream).
// nginx draws the same inference (its `ready` flag, EPOLLRDHUP).
//
// Contract: as socket.async_read_some with one non-empty buffer: completes with (error_code,
// bytes), `eof` at end of stream, `operation_aborted` on cancel()/close() and on per-operation
// cancellation. The completion runs on the thread that runs the socket's io_context, which
// must also be the handler's executor (keygate: one io_context per worker thread). Without
// TCP_INQ (kernels before 4.18) no read ever reports drained: Asio's behaviour.
//
// Relies on Boost.Asio's reactor internals (asio::detail, Boost 1.81, the epoll reactor); the
// static_assert below stops the build on a platform with another reactor.
#pragma once

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <utility>

namespace keygate::http::drain_aware {

namespace asio = boost::asio;
using reactor = asio::detail::reactor;
static_assert(std::is_same_v<reactor, asio::detail::epoll_reactor>,
              "drain-aware reads are written for Asio's epoll reactor");

// The socket's reactor registration (protected in basic_socket; read through a member pointer
// named via a derived class, which the language permits).
struct socket_internals : asio::ip::tcp::socket {
  static auto& implementation(asio::ip::tcp::socket& s) {
    return (s.*&socket_internals::impl_).get_implementation();
  }
};

// Per-operation cancellation: cancels this descriptor's queued reads (as Asio's own operation).
class read_cancellation {
 public:
  read_cancellation(reactor& r, reactor::per_descriptor_data& data, int fd)
      : reactor_(&r), data_(&data), fd_(fd) {}
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total)))
      reactor_->cancel_ops_by_key(fd_, *data_, reactor::read_op, this);
  }

 private:
  reactor* reactor_;
  reactor::per_descriptor_data* data_;
  int fd_;
};

template <class Handler>
class read_op : public asio::detail::reactor_op {
 public:
  using allocator = asio::recycling_allocator<read_op>;

  // `drained` is the stream's record of whether its last read drained the socket.
  static read_op* create(int fd, asio::mutable_buffer buf, bool& drained, Handler&& handler) {
    allocator alloc;
    read_op* memory = alloc.allocate(1);
    return new (memory) read_op(fd, buf, drained, std::move(handler));
  }

 private:
  read_op(int fd, asio::mutable_buffer buf, bool& drained, Handler&& handler)
      : reactor_op(boost::system::error_code(), &perform_read, &complete),
        fd_(fd),
        buf_(buf),
        drained_(&drained),
        handler_(std::move(handler)) {}

  static void destroy(read_op* op) {
    op->~read_op();
    allocator().deallocate(op, 1);
  }

  // The TCP_INQ hint that recvmsg() attached, or -1 when there is none.
  static int queued_hint(msghdr& msg) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
        int queued = -1;
        std::memcpy(&queued, CMSG_DATA(c), sizeof queued);
        return queued;
      }
    }
    return -1;
  }

  static status perform_read(reactor_op* base) {
    auto* self = static_cast<read_op*>(base);
    for (;;) {
      iovec iov{self->buf_.data(), self->buf_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      // MSG_DONTWAIT: no reliance on Asio having made the socket non-blocking.
      const ssize_t n = ::recvmsg(self->fd_, &msg, MSG_DONTWAIT);
      if (n > 0) {
        self->bytes_transferred_ = static_cast<std::size_t>(n);
        *self->drained_ = self->bytes_transferred_ < self->buf_.size() && queued_hint(msg) == 0;
        return *self->drained_ ? done_and_exhausted : done;
      }
      if (n == 0) {
        self->ec_ = asio::error::eof;
        self->bytes_transferred_ = 0;
        *self->drained_ = true;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      self->ec_ = boost::system::error_code(errno, asio::error::get_system_category());
      self->bytes_transferred_ = 0;
      *self->drained_ = false;
      return done;
    }
  }

  // `owner` is null when the io_context is destroyed with the read pending: free, do not call.
  static void complete(void* owner, asio::detail::scheduler_operation* base, const boost::system::error_code&,
                       std::size_t) {
    auto* self = static_cast<read_op*>(base);
    Handler handler(std::move(self->handler_));
    const boost::system::error_code ec = self->ec_;
    const std::size_t bytes = self->bytes_transferred_;
    destroy(self);  // before the upcall: the handler may start the next read
    if (owner) std::move(handler)(ec, bytes);
  }

  int fd_;
  asio::mutable_buffer buf_;
  bool* drained_;
  Handler handler_;
};

// Asks the kernel to attach the TCP_INQ hint to every read of `fd`. False when it cannot
// (then no read reports drained).
inline bool enable_queued_hint(int fd) noexcept {
  const int on = 1;
  return ::setsockopt(fd, SOL_TCP, TCP_INQ, &on, sizeof on) == 0;
}

// Reads into `buf` from `socket`, whose io_context's reactor is `r`. `drained` is the
// stream's record of its last read. `try_first`: the read continues a message, so when the
// last read drained the socket it tries recv() itself instead of waiting (see above).
template <class CompletionToken>
auto async_read_some(asio::ip::tcp::socket& socket, reactor& r, asio::mutable_buffer buf, bool& drained,
                     bool try_first, CompletionToken&& token) {
  auto initiation = [&socket, &r, &drained, try_first](auto handler, asio::mutable_buffer into) {
    using handler_type = decltype(handler);
    auto& impl = socket_internals::implementation(socket);
    const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto* op = read_op<handler_type>::create(impl.socket_, into, drained, std::move(handler));
    if (slot.is_connected())
      op->cancellation_key_ = &slot.template emplace<read_cancellation>(r, impl.reactor_data_, impl.socket_);
    if (try_first && drained && op->perform()) {
      r.post_immediate_completion(op, is_continuation);
      return;
    }
    r.start_op(reactor::read_op, impl.socket_, impl.reactor_data_, op, is_continuation, true);
  };
  return asio::async_initiate<CompletionToken, void(boost::system::error_code, std::size_t)>(initiation,
                                                                                             token, buf);
}

}  // namespace keygate::http::drain_aware
