#include "app/auth_stack.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "store_factory.hpp"

namespace keygate::app {
namespace asio = boost::asio;

auth_stack::auth_stack(const config::config& cfg, const std::vector<asio::any_io_executor>& worker_executors,
                       obs::registry& metrics) {
  store = adapters::open_store(cfg.store);  // Postgres or SQLite; nullptr when none is configured
  const bool serve_stale = cfg.auth.on_store_unavailable == config::store_unavailable::serve_cached;
  local = std::make_unique<cache::local_cache>(
      cfg.cache.local.capacity, serve_stale ? cfg.auth.max_stale : std::chrono::milliseconds(0));
  lookup = std::make_unique<cache::tiered_lookup>(
      *local, flights, store.get(),
      cache::lookup_settings{cfg.cache.local.ttl, cfg.cache.positive_ttl, cfg.cache.negative_ttl,
                             serve_stale},
      metrics);

  std::vector<cache::shared_tier*> tiers;
  if (cfg.cache.redis) {
    auto options = cache::make_redis_options(*cfg.cache.redis);
    if (!options) throw std::runtime_error("cache.redis.url: cannot parse '" + cfg.cache.redis->url + "'");
    redis_connect_timeout_ = options->connect_timeout;
    for (const auto& ex : worker_executors) {
      redis_clients.push_back(cache::make_redis_client(ex, *options, metrics));
      // After a reconnect this instance may have missed invalidations: drop the local tier.
      redis_clients.back()->on_reconnect([l = local.get()] {
        spdlog::warn("redis reconnected: dropping the local credential cache");
        l->clear();
      });
      redis_tiers.push_back(
          std::make_unique<cache::redis_tier>(*redis_clients.back(), cfg.cache.redis->namespace_));
      tiers.push_back(redis_tiers.back().get());
    }
  }
  if (store) last_used = std::make_unique<auth::last_used_tracker>(cfg.auth.last_used_debounce, metrics);
  // Throws std::runtime_error on an unusable signing key: refuse to start rather than forward
  // without the assertion upstreams were told to expect.
  assertions.install(cfg.auth.assertion);
  authenticator =
      std::make_unique<auth::authenticator>(*lookup, std::move(tiers), last_used.get(), metrics, &assertions);

  if (!store) return;
  management = dynamic_cast<store::management_store*>(store.get());
  if (cfg.cache.redis) {
    auto options = *cache::make_redis_options(*cfg.cache.redis);
    const auto channel = cache::invalidation_channel(cfg.cache.redis->namespace_);
    background_redis = cache::make_redis_client(background.get_executor(), options, metrics);
    background_tier = std::make_unique<cache::redis_tier>(*background_redis, cfg.cache.redis->namespace_);
    subscriber = cache::make_redis_subscriber(background.get_executor(), options, metrics);
    auto* l = local.get();
    subscriber->subscribe(
        channel,
        [l](std::string_view message) {
          if (!cache::decode_invalidation(message, [l](cache::credential_type t, std::string_view h) {
                l->erase(cache::local_cache::key_of(t, h));
              }))
            spdlog::warn("ignored a malformed invalidation message ({} bytes)", message.size());
        },
        [l] {
          // Messages may have been missed while the subscription was down.
          spdlog::warn("invalidation bus resubscribed: dropping the local credential cache");
          l->clear();
        });
    invalidator = std::make_unique<cache::invalidator>(local.get(), *store, background_tier.get(),
                                                       background_redis.get(), channel, lookup->settings());
  } else {
    invalidator =
        std::make_unique<cache::invalidator>(local.get(), *store, nullptr, nullptr, "", lookup->settings());
  }
  sink = std::make_unique<cache::blocking_invalidation_sink>(*invalidator, background.get_executor());
  if (management)
    service = std::make_unique<manage::service>(*management, *sink, manage::service_options::from(cfg));

  change_applier =
      std::make_unique<cache::change_applier>(background.get_executor(), *invalidator, *local, management,
                                              dynamic_cast<store::blocking_runner*>(store.get()), metrics);
  auto* applier = change_applier.get();
  store::change_feed::handlers on_change{[applier](std::vector<std::string> p) { applier->deliver(p); },
                                         [applier] { applier->resync(); }};
  change_feed =
      adapters::open_change_feed(cfg.store, background.get_executor(), std::move(on_change), metrics);
  if (!change_feed) change_applier.reset();
}

auth_stack::~auth_stack() {
  stop();
}

void auth_stack::start() {
  background_thread_ = std::thread([this] { background.run(); });
  if (!last_used) return;
  asio::co_spawn(
      background,
      [this]() -> asio::awaitable<void> {
        asio::steady_timer timer(background);
        while (true) {
          timer.expires_after(std::chrono::seconds(1));
          auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          co_await last_used->flush(*store);
        }
      },
      asio::detached);
}

void auth_stack::stop() {
  management_pool.join();
  background.stop();
  if (background_thread_.joinable()) background_thread_.join();
}

bool auth_stack::store_ready() {
  return store && adapters::store_answers(*store);
}

void auth_stack::wait_for_redis() const {
  const auto deadline = std::chrono::steady_clock::now() + redis_connect_timeout_;
  const auto ready = [this] {
    const bool settled =
        std::all_of(redis_clients.begin(), redis_clients.end(), [](const auto& c) { return c->settled(); });
    if (!settled) return false;
    // Redis answered: also wait for the invalidation subscription, so that an invalidation
    // published just after start-up is not missed (it would be honoured only at the local
    // TTL). Redis down: nothing more to wait for.
    return !subscriber || !redis_healthy() || subscriber->healthy();
  };
  // Polled: a one-off start-up wait of a few milliseconds does not justify a notification path
  // through every client.
  while (!ready() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

bool auth_stack::redis_healthy() const {
  for (const auto& c : redis_clients)
    if (!c->healthy()) return false;
  return !redis_clients.empty();
}

}  // namespace keygate::app
