#include "cli/cli_invalidation.hpp"

#include <chrono>
#include <stdexcept>

namespace keygate::cli {

cli_invalidation::cli_invalidation(const config::config& cfg, store::key_store& store) {
  if (!cfg.cache.redis) return;
  auto options = cache::make_redis_options(*cfg.cache.redis);
  if (!options) throw std::runtime_error("cache.redis.url: cannot parse '" + cfg.cache.redis->url + "'");
  redis_ = cache::make_redis_client(io_.get_executor(), *options, metrics_);
  tier_ = std::make_unique<cache::redis_tier>(*redis_, cfg.cache.redis->namespace_);
  const cache::lookup_settings settings{cfg.cache.local.ttl, cfg.cache.positive_ttl, cfg.cache.negative_ttl,
                                        false};
  invalidator_ = std::make_unique<cache::invalidator>(
      nullptr, store, tier_.get(), redis_.get(), cache::invalidation_channel(cfg.cache.redis->namespace_),
      settings);
  sink_ = std::make_unique<cache::blocking_invalidation_sink>(*invalidator_, io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  // The client connects in the background; give it its connect deadline before the first
  // mutation (otherwise the invalidation would fail fast and the command report it incomplete).
  const auto deadline = std::chrono::steady_clock::now() + options->connect_timeout;
  while (!redis_->healthy() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

cli_invalidation::~cli_invalidation() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

manage::invalidation_sink& cli_invalidation::sink() noexcept {
  if (sink_) return *sink_;
  return none_;
}

}  // namespace keygate::cli
