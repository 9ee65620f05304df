#include "keygate/http/worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "keygate/http/session.hpp"

namespace keygate::http {
namespace {
// How often the sweeper checks deadlines and evicts idle upstream connections: the precision
// of every client/upstream timeout.
constexpr auto sweep_interval = std::chrono::milliseconds(100);
}  // namespace

worker::worker(unsigned index, worker_shared& shared, std::shared_ptr<const proxy::runtime> rt)
    : index_(index), shared_(shared), runtime_(std::move(rt)) {}

worker::~worker() {
  join();
}

void worker::listen(const tcp::endpoint& ep) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  const int one = 1;
  ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void worker::start_accepting() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void worker::start_thread() {
  asio::co_spawn(io_, sweep_loop(), asio::detached);
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        break;
      } catch (const std::exception& e) {
        // A session's escaped exception must not take the worker down (DESIGN: outer catch).
        spdlog::error("worker {}: unhandled exception: {}", index_, e.what());
      }
    }
  });
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

void worker::update_runtime(std::shared_ptr<const proxy::runtime> rt) {
  asio::post(io_, [this, rt = std::move(rt)]() mutable { runtime_ = std::move(rt); });
}

void worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    for (auto* s = sessions_; s; s = s->next_) s->close_if_idle();
  });
}

void worker::stop() {
  asio::post(io_, [this] {
    for (auto* s = sessions_; s; s = s->next_) s->check_deadline(steady::time_point::max());
    io_.stop();
  });
}

void worker::attach(session* s) noexcept {
  s->next_ = sessions_;
  if (sessions_) sessions_->prev_ = s;
  sessions_ = s;
  live_.fetch_add(1, std::memory_order_relaxed);
}

void worker::detach(session* s) noexcept {
  if (s->prev_)
    s->prev_->next_ = s->next_;
  else
    sessions_ = s->next_;
  if (s->next_) s->next_->prev_ = s->prev_;
  s->prev_ = s->next_ = nullptr;
  live_.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> worker::accept_loop() {
  const auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(io_, tuple_awaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer t(io_, std::chrono::milliseconds(50));
      co_await t.async_wait(tuple_awaitable);
      continue;
    }
    const auto cap = runtime_->cfg->server.limits.max_connections;
    if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= cap) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      shared_.rejected_connections->inc();
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<session>(*this, std::move(socket));
    asio::co_spawn(io_, s->run(), [this](std::exception_ptr e) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("session ended by exception: {}", ex.what());
        }
      }
    });
  }
}

asio::awaitable<void> worker::sweep_loop() {
  const auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
  while (true) {
    sweep_timer_.expires_after(sweep_interval);
    auto [ec] = co_await sweep_timer_.async_wait(tuple_awaitable);
    if (ec) break;
    const auto now = steady::now();
    for (auto* s = sessions_; s; s = s->next_) s->check_deadline(now);
    for (const auto& u : runtime_->upstreams) u->pools[index_]->evict(now);
  }
}

}  // namespace keygate::http
