// keygate::cli invalidation for management commands: the CLI propagates every mutation exactly
// like the HTTP API (SPEC §1) — with cache.redis configured, the new state is written over the
// Redis entry and published on the bus before the command reports success; without Redis there
// are no shared caches to purge. Owns a private io_context thread for the Redis connection.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>

#include "keygate/cache/blocking_invalidation_sink.hpp"
#include "keygate/cache/redis_tier.hpp"
#include "keygate/config/config.hpp"
#include "keygate/manage/invalidation_sink.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::cli {

class cli_invalidation {
 public:
  // Throws std::runtime_error for an unparsable cache.redis.url.
  cli_invalidation(const config::config& cfg, store::key_store& store);
  ~cli_invalidation();
  manage::invalidation_sink& sink() noexcept;

 private:
  obs::registry metrics_;  // the CLI exposes none; the Redis client requires a registry
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{io_.get_executor()};
  std::unique_ptr<cache::redis_client> redis_;
  std::unique_ptr<cache::redis_tier> tier_;
  std::unique_ptr<cache::invalidator> invalidator_;
  std::unique_ptr<cache::blocking_invalidation_sink> sink_;
  manage::no_invalidation none_;
  std::thread thread_;
};

}  // namespace keygate::cli
