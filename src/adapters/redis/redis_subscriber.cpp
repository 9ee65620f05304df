// hiredis_subscriber — keygate::cache::redis_subscriber on its own redis_connection.
//
// Supervisor loop (on the executor): connect + PING → SUBSCRIBE every channel in one command →
// wait for all confirmations (within connect_timeout) → healthy, notify channels that may have
// missed messages → wait for the connection to die → back off → repeat.
//
// hiredis keeps the SUBSCRIBE callback per channel and calls it for the confirmation, for every
// message, and once with a null reply when the context is freed. Its privdata is the state
// object (raw): the state always outlives the context, because the context is freed by the
// state's connection at the latest in stop()/the destructor, and callbacks never run afterwards.
// Callbacks only copy and post, so user code never runs inside hiredis.
//
// Liveness: a killed connection (CLIENT KILL, restart) is seen as EOF/reset at once; a silently
// dead peer by TCP keepalive. A frozen server needs no detection here: nothing can be published
// through it either, so no message is missed while it is frozen.
#include "keygate/cache/redis_subscriber.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <map>

#include "redis_connection.hpp"
#include "redis_metrics.hpp"

namespace keygate::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

struct channel_entry {
  std::function<void(std::string_view)> on_message;
  std::function<void()> on_resubscribed;
  bool missed = false;  // the subscription was down since it was last confirmed (or never came up)
};

class subscriber_state : public std::enable_shared_from_this<subscriber_state> {
 public:
  subscriber_state(asio::any_io_executor executor, cache::redis_options options, obs::registry& registry)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        metrics_(registry),
        backoff_timer_(executor_),
        confirm_signal_(executor_) {}

  void start() { asio::co_spawn(executor_, supervise(shared_from_this()), asio::detached); }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    healthy_ = false;
    channels_.clear();
    backoff_timer_.cancel();
    confirm_signal_.cancel();
    if (conn_) conn_->close();
  }

  void subscribe(std::string channel, std::function<void(std::string_view)> on_message,
                 std::function<void()> on_resubscribed) {
    if (stopping_) return;
    if (auto it = channels_.find(channel); it != channels_.end()) {  // same subscription, new callbacks
      it->second.on_message = std::move(on_message);
      it->second.on_resubscribed = std::move(on_resubscribed);
      return;
    }
    // `missed` when wanted while Redis could not be reached: notified once it is subscribed.
    channels_.emplace(channel, channel_entry{std::move(on_message), std::move(on_resubscribed), failing_});
    // While connecting, establish() includes it; once the connection is up, send it now (the
    // confirmation is counted like the others).
    if (conn_ && conn_->open() && phase_ != phase::connecting) {
      ++expected_;
      healthy_ = false;  // until Redis confirms this one too
      if (!conn_->send({"SUBSCRIBE", channel}, &on_reply, this)) conn_->close();
    }
  }

  bool healthy() const noexcept { return healthy_.load(std::memory_order_relaxed); }

 private:
  enum class phase { connecting, confirming, subscribed };

  // Runs inside hiredis: copy, then post to the executor.
  static void on_reply(redisAsyncContext*, void* r, void* privdata) {
    auto* self = static_cast<subscriber_state*>(privdata);
    if (r == nullptr || self->stopping_) return;
    const auto& reply = *static_cast<const redisReply*>(r);
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3) return;
    const redisReply* kind = reply.element[0];
    if (kind->type != REDIS_REPLY_STRING && kind->type != REDIS_REPLY_STATUS) return;
    std::string_view k(kind->str, kind->len);
    if (k == "subscribe") {
      if (++self->confirmed_ >= self->expected_) self->all_confirmed();
    } else if (k == "message") {
      std::string channel(reply.element[1]->str, reply.element[1]->len);
      std::string payload(reply.element[2]->str, reply.element[2]->len);
      asio::post(self->executor_,
                 [weak = self->weak_from_this(), channel = std::move(channel), payload = std::move(payload)] {
                   auto s = weak.lock();
                   if (!s || s->stopping_) return;
                   auto it = s->channels_.find(channel);
                   if (it == s->channels_.end() || !it->second.on_message) return;
                   auto fn = it->second.on_message;  // a copy: the callback may subscribe() and rehash
                   guarded("on_message", [&] { fn(payload); });
                 });
    }
  }

  void all_confirmed() {
    if (phase_ == phase::confirming) {
      confirm_signal_.cancel();  // the supervisor finishes the transition
    } else if (phase_ == phase::subscribed) {
      healthy_ = true;  // a channel added later got confirmed
    }
  }

  template <class F>
  static void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("redis subscriber {} callback threw: {}", what, e.what());
    } catch (...) {
      spdlog::error("redis subscriber {} callback threw", what);
    }
  }

  void mark_missed() {
    for (auto& [name, entry] : channels_) entry.missed = true;
  }

  void notify_resubscribed() {
    std::vector<std::function<void()>> todo;
    for (auto& [name, entry] : channels_) {
      if (entry.missed && entry.on_resubscribed) todo.push_back(entry.on_resubscribed);
      entry.missed = false;
    }
    if (!todo.empty()) metrics_.reconnects.inc();
    asio::post(executor_, [weak = weak_from_this(), todo = std::move(todo)] {
      auto s = weak.lock();
      if (!s || s->stopping_) return;
      for (const auto& fn : todo) guarded("on_resubscribed", fn);
    });
  }

  // Connect, PING, SUBSCRIBE all channels, wait for the confirmations.
  asio::awaitable<error_code> establish(const std::shared_ptr<redis_connection>& conn) {
    auto ec = co_await conn->connect(options_.host, options_.port, options_.connect_timeout);
    if (ec) co_return ec;
    std::vector<std::string> ping{"PING"};
    auto pong = co_await conn->command(std::move(ping), options_.connect_timeout);
    if (!pong) co_return pong.error();
    if (pong->is_error()) co_return errc::cache_unavailable;
    conn->enable_keepalive();
    phase_ = phase::confirming;
    confirmed_ = 0;
    expected_ = static_cast<int>(channels_.size());
    if (expected_ == 0) co_return error_code{};
    std::vector<std::string> argv{"SUBSCRIBE"};
    for (const auto& [name, entry] : channels_) argv.push_back(name);
    if (!conn->send(argv, &on_reply, this)) co_return errc::cache_unavailable;
    confirm_signal_.expires_after(options_.connect_timeout);
    co_await confirm_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_ || !conn->open()) co_return errc::cache_unavailable;
    if (confirmed_ < expected_) co_return errc::cache_timeout;
    co_return error_code{};
  }

  static asio::awaitable<void> supervise(std::shared_ptr<subscriber_state> self) {
    try {
      co_await self->supervise_loop();
    } catch (const std::exception& e) {
      spdlog::critical("redis subscriber supervisor stopped: {}", e.what());
      self->healthy_ = false;
    }
  }

  asio::awaitable<void> supervise_loop() {
    auto backoff = options_.backoff_initial;
    while (!stopping_) {
      auto conn = redis_connection::create(executor_);
      conn_ = conn;
      phase_ = phase::connecting;
      auto ec = co_await establish(conn);
      if (stopping_) break;
      if (ec) {
        conn->close();
        metrics_.unavailable.inc();
        if (!failing_)
          spdlog::warn("redis subscriber {}:{}: cannot subscribe ({}); retrying with backoff up to {} ms",
                       options_.host, options_.port, ec.message(), options_.backoff_max.count());
        failing_ = true;
        mark_missed();
        co_await sleep(backoff);
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      phase_ = phase::subscribed;
      healthy_ = confirmed_ >= expected_;
      if (failing_) spdlog::info("redis subscriber {}:{}: subscribed again", options_.host, options_.port);
      failing_ = false;
      backoff = options_.backoff_initial;
      notify_resubscribed();

      co_await conn->wait_closed();
      healthy_ = false;
      if (stopping_) break;
      metrics_.unavailable.inc();
      spdlog::warn("redis subscriber {}:{}: subscription connection lost; resubscribing", options_.host,
                   options_.port);
      mark_missed();
      co_await sleep(options_.backoff_initial);
    }
    if (conn_) conn_->close();
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    backoff_timer_.expires_after(d);
    error_code ec;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::any_io_executor executor_;
  cache::redis_options options_;
  redis_metrics metrics_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer confirm_signal_;
  std::shared_ptr<redis_connection> conn_;
  std::map<std::string, channel_entry> channels_;
  std::atomic<bool> healthy_{false};
  phase phase_ = phase::connecting;
  int confirmed_ = 0, expected_ = 0;
  bool failing_ = false, stopping_ = false;
};

class hiredis_subscriber final : public cache::redis_subscriber {
 public:
  explicit hiredis_subscriber(std::shared_ptr<subscriber_state> state) : state_(std::move(state)) {}
  ~hiredis_subscriber() override { state_->stop(); }
  hiredis_subscriber(const hiredis_subscriber&) = delete;
  hiredis_subscriber& operator=(const hiredis_subscriber&) = delete;

  void subscribe(std::string channel, std::function<void(std::string_view)> on_message,
                 std::function<void()> on_resubscribed) override {
    state_->subscribe(std::move(channel), std::move(on_message), std::move(on_resubscribed));
  }
  bool healthy() const noexcept override { return state_->healthy(); }

 private:
  std::shared_ptr<subscriber_state> state_;
};

}  // namespace
}  // namespace keygate::redis

namespace keygate::cache {

std::unique_ptr<redis_subscriber> make_redis_subscriber(boost::asio::any_io_executor executor,
                                                        redis_options options, obs::registry& metrics) {
  auto state = std::make_shared<redis::subscriber_state>(std::move(executor), std::move(options), metrics);
  state->start();
  return std::make_unique<redis::hiredis_subscriber>(std::move(state));
}

}  // namespace keygate::cache
