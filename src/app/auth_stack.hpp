// keygate::app::auth_stack — builds the auth phase and everything behind it from the config:
// the store (Postgres), the local cache, the singleflight, one Redis client and tier per worker
// (when cache.redis is set), the last_used tracker and the authenticator. Owned by the gateway.
//
// Lifetime: created after the workers' io_contexts exist and destroyed after they stopped, so
// per-worker Redis clients never outlive their executors.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "keygate/auth/assertion_keys.hpp"
#include "keygate/auth/authenticator.hpp"
#include "keygate/cache/blocking_invalidation_sink.hpp"
#include "keygate/cache/change_applier.hpp"
#include "keygate/cache/invalidator.hpp"
#include "keygate/cache/local_cache.hpp"
#include "keygate/cache/redis_client.hpp"
#include "keygate/cache/redis_subscriber.hpp"
#include "keygate/cache/redis_tier.hpp"
#include "keygate/cache/singleflight.hpp"
#include "keygate/cache/tiered_lookup.hpp"
#include "keygate/config/config.hpp"
#include "keygate/manage/service.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/change_feed.hpp"
#include "keygate/store/key_store.hpp"
#include "keygate/store/management_store.hpp"

namespace keygate::app {

struct auth_stack {
  // `worker_executors[w]` is worker w's executor. Throws std::runtime_error on a bad Redis URL.
  auth_stack(const config::config& cfg, const std::vector<boost::asio::any_io_executor>& worker_executors,
             obs::registry& metrics);
  ~auth_stack();

  // Starts the background thread (last_used flushes, invalidation bus, invalidations).
  void start();
  // Stops the background thread; call after the workers stopped.
  void stop();

  // Postgres reachable (a lookup answers, found or not) — for /readyz. Blocking, bounded by
  // the store's query_timeout.
  bool store_ready();
  bool redis_healthy() const;
  // Blocks until every data-plane Redis client finished its first connection attempt (connected
  // or failed) and, when they connected, the invalidation subscription is confirmed; at most
  // the connect timeout. Called once at start-up, before accepting connections; returns at once
  // without Redis.
  void wait_for_redis() const;
  bool redis_configured() const { return !redis_clients.empty(); }

  // The background executor (its own thread): last_used flushes, the invalidation subscriber,
  // and invalidations (with their own Redis connection). Declared first: the clients below are
  // bound to it.
  boost::asio::io_context background;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> background_guard{
      background.get_executor()};

  std::unique_ptr<store::key_store> store;
  store::management_store* management = nullptr;  // the same object as `store`, when it supports it
  std::unique_ptr<cache::local_cache> local;
  cache::singleflight flights;
  std::unique_ptr<cache::tiered_lookup> lookup;
  std::vector<std::unique_ptr<cache::redis_client>> redis_clients;  // one per worker
  std::vector<std::unique_ptr<cache::redis_tier>> redis_tiers;
  std::unique_ptr<auth::last_used_tracker> last_used;
  auth::assertion_keys assertions;  // reinstalled on reload; outlives the authenticator
  std::unique_ptr<auth::authenticator> authenticator;

  // Invalidation (SPEC §5/§6): the bus subscriber purges the local cache on every instance;
  // the invalidator rewrites Redis and publishes; the sink and service are used by the
  // internal API's management calls (on `management_pool`, never on an io thread).
  std::unique_ptr<cache::redis_client> background_redis;
  std::unique_ptr<cache::redis_tier> background_tier;
  std::unique_ptr<cache::redis_subscriber> subscriber;
  std::unique_ptr<cache::invalidator> invalidator;
  std::unique_ptr<cache::blocking_invalidation_sink> sink;
  std::unique_ptr<manage::service> service;
  boost::asio::thread_pool management_pool{2};

  // Direct SQL edits (store.postgres.listen_notify): the store's change notifications, applied
  // through the invalidator on the background executor. The feed is declared last: destroyed
  // first, so no notification reaches a destroyed applier.
  std::unique_ptr<cache::change_applier> change_applier;
  std::unique_ptr<store::change_feed> change_feed;

 private:
  std::chrono::milliseconds redis_connect_timeout_{0};
  std::thread background_thread_;
};

}  // namespace keygate::app
