// hiredis_client — keygate::cache::redis_client on one redis_connection at a time, with a
// background supervisor (connect, probe, wait for loss, back off, repeat) and a circuit breaker.
//
// States, all on the client's executor:
//   connecting  conn_ is an attempt in progress or null; serving_ false → calls fail fast
//   serving     conn_ answered the probe (SELECT db, PING within `timeout`)
//   tripped     `breaker_threshold` consecutive timeouts: conn_ is closed at once (pending
//               commands complete with cache_unavailable) and the supervisor takes over; calls fail
//               fast until a *new* connection answers the probe — a frozen server (SIGSTOP) accepts
//               TCP connections but never answers it, so the breaker stays open until it thaws.
// The breaker is the connection: open = not serving. Backoff doubles per failed attempt (and per
// connection that did not survive `backoff_max`), capped, and resets after a stable connection.
#include "keygate/cache/redis_client.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "keygate/obs/metrics.hpp"
#include "redis_connection.hpp"
#include "redis_metrics.hpp"

namespace keygate::redis {

namespace asio = boost::asio;
using boost::system::error_code;
using cache::redis_reply;
using clock_type = std::chrono::steady_clock;

namespace {

class client_state : public std::enable_shared_from_this<client_state> {
 public:
  client_state(asio::any_io_executor executor, cache::redis_options options, obs::registry& registry)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        metrics_(registry),
        backoff_timer_(executor_) {
    metrics_.breaker_open.add(1);  // not serving until the first probe answers
  }

  void start() { asio::co_spawn(executor_, supervise(shared_from_this()), asio::detached); }

  // Ends the supervisor and closes the connection; in-flight commands complete with
  // cache_unavailable. The gauge stops counting this client.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    on_reconnect_ = nullptr;
    backoff_timer_.cancel();
    set_serving(false);
    metrics_.breaker_open.add(-1);
    if (conn_) conn_->close();
  }

  asio::awaitable<result<redis_reply>> execute(std::vector<std::string> argv) {
    auto self = shared_from_this();
    if (!serving_.load(std::memory_order_relaxed) || !conn_ || !conn_->open()) {
      metrics_.unavailable.inc();
      co_return errc::cache_unavailable;
    }
    auto conn = conn_;
    auto r = co_await conn->command(std::move(argv), options_.timeout);
    if (r) {
      if (conn == conn_) consecutive_timeouts_ = 0;
      if (r->is_error()) metrics_.error_reply.inc();
      co_return r;
    }
    if (r.error() == errc::cache_timeout) {
      metrics_.timeout.inc();
      // Only timeouts on the current connection count: a late one from a connection already
      // dropped must not trip its successor.
      if (conn == conn_ && serving_.load(std::memory_order_relaxed) &&
          ++consecutive_timeouts_ >= options_.breaker_threshold)
        trip();
    } else {
      metrics_.unavailable.inc();
    }
    co_return r;
  }

  void on_reconnect(std::function<void()> fn) { on_reconnect_ = std::move(fn); }
  bool healthy() const noexcept { return serving_.load(std::memory_order_relaxed); }
  bool settled() const noexcept { return settled_.load(std::memory_order_acquire); }

 private:
  void set_serving(bool on) {
    if (serving_.exchange(on, std::memory_order_relaxed) == on) return;
    metrics_.breaker_open.add(on ? -1 : 1);
  }

  void trip() {
    spdlog::warn("redis {}:{}: breaker open after {} consecutive timeouts ({} ms); dropping the connection",
                 options_.host, options_.port, consecutive_timeouts_, options_.timeout.count());
    set_serving(false);
    conn_->close();  // wakes the supervisor through wait_closed()
  }

  // SELECT (when db != 0) and PING, each within `timeout`: the half-open probe.
  asio::awaitable<error_code> probe(redis_connection& conn) {
    if (options_.db != 0) {
      // (Named vectors: GCC 12 rejects braced string-literal lists inside co_await expressions.)
      std::vector<std::string> select{"SELECT", std::to_string(options_.db)};
      auto r = co_await conn.command(std::move(select), options_.timeout);
      if (!r) co_return r.error();
      if (r->is_error()) {
        spdlog::error("redis {}:{}: SELECT {} failed: {}", options_.host, options_.port, options_.db, r->str);
        co_return errc::cache_unavailable;
      }
    }
    std::vector<std::string> ping{"PING"};
    auto r = co_await conn.command(std::move(ping), options_.timeout);
    if (!r) co_return r.error();
    if (r->is_error()) co_return errc::cache_unavailable;  // e.g. NOAUTH, LOADING
    co_return error_code{};
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    backoff_timer_.expires_after(d);
    error_code ec;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void notify_reconnect() {
    metrics_.reconnects.inc();
    if (!on_reconnect_) return;
    try {
      on_reconnect_();
    } catch (const std::exception& e) {
      spdlog::error("redis on_reconnect callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("redis on_reconnect callback threw");
    }
  }

  static asio::awaitable<void> supervise(std::shared_ptr<client_state> self) {
    try {
      co_await self->supervise_loop();
    } catch (const std::exception& e) {  // a bug, not a Redis condition: say so loudly
      spdlog::critical("redis client supervisor stopped: {}", e.what());
      self->set_serving(false);
    }
    self->settled_.store(true, std::memory_order_release);  // however the supervisor ended
  }

  asio::awaitable<void> supervise_loop() {
    bool had_connection = false, failing = false;
    auto backoff = options_.backoff_initial;
    auto grow = [&] { backoff = std::min(backoff * 2, options_.backoff_max); };
    while (!stopping_) {
      auto conn = redis_connection::create(executor_);
      conn_ = conn;
      auto ec = co_await conn->connect(options_.host, options_.port, options_.connect_timeout);
      if (!ec && !stopping_) ec = co_await probe(*conn);
      settled_.store(true, std::memory_order_release);  // an attempt is over, whatever its outcome
      if (stopping_) break;
      if (ec) {
        conn->close();
        if (!failing)
          spdlog::warn("redis {}:{} unreachable ({}); retrying with backoff up to {} ms", options_.host,
                       options_.port, ec.message(), options_.backoff_max.count());
        failing = true;
        co_await sleep(backoff);
        grow();
        continue;
      }
      const auto connected_at = clock_type::now();
      consecutive_timeouts_ = 0;
      set_serving(true);
      if (had_connection || failing) {
        spdlog::info("redis {}:{} connection re-established", options_.host, options_.port);
        notify_reconnect();
      }
      had_connection = true;
      failing = false;

      co_await conn->wait_closed();
      set_serving(false);
      if (stopping_) break;
      spdlog::warn("redis {}:{} connection lost", options_.host, options_.port);
      if (clock_type::now() - connected_at >= options_.backoff_max) backoff = options_.backoff_initial;
      co_await sleep(backoff);
      grow();
    }
    if (conn_) conn_->close();
  }

  asio::any_io_executor executor_;
  cache::redis_options options_;
  redis_metrics metrics_;
  asio::steady_timer backoff_timer_;
  std::shared_ptr<redis_connection> conn_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> settled_{false};  // first attempt over (see redis_client::settled)
  int consecutive_timeouts_ = 0;
  bool stopping_ = false;
  std::function<void()> on_reconnect_;
};

// The handle: owns the state's run; the state itself lives until its last coroutine ends.
class hiredis_client final : public cache::redis_client {
 public:
  explicit hiredis_client(std::shared_ptr<client_state> state) : state_(std::move(state)) {}
  ~hiredis_client() override { state_->stop(); }
  hiredis_client(const hiredis_client&) = delete;
  hiredis_client& operator=(const hiredis_client&) = delete;

  asio::awaitable<result<redis_reply>> execute(std::vector<std::string> argv) override {
    return state_->execute(std::move(argv));
  }
  void on_reconnect(std::function<void()> fn) override { state_->on_reconnect(std::move(fn)); }
  bool healthy() const noexcept override { return state_->healthy(); }
  bool settled() const noexcept override { return state_->settled(); }

 private:
  std::shared_ptr<client_state> state_;
};

}  // namespace
}  // namespace keygate::redis

namespace keygate::cache {

std::unique_ptr<redis_client> make_redis_client(boost::asio::any_io_executor executor, redis_options options,
                                                obs::registry& metrics) {
  auto state = std::make_shared<redis::client_state>(std::move(executor), std::move(options), metrics);
  state->start();
  return std::make_unique<redis::hiredis_client>(std::move(state));
}

}  // namespace keygate::cache
