// keygate::cache redis subscriber — Redis pub/sub on its own connection, for the invalidation
// bus. Like redis_client (see redis_client.hpp for options, metrics and threading), the hiredis
// implementation lives in src/adapters/redis behind make_redis_subscriber.
//
// Threading: bound to one executor; subscribe() is called on it, and every callback runs on it
// (posted, never from inside the driver, so a callback may call subscribe()). `healthy()` may be
// read from any thread. Destroy it on its executor's thread or after its io_context stopped
// running, and before its io_context is destroyed; no callback runs after destruction.
//
// Delivery: at most once. A message published while the subscription is down is lost — which is
// why, whenever the subscription is (re)established after a loss (connection killed, e.g.
// `CLIENT KILL TYPE pubsub`, Redis restarted) or after failed first attempts, every channel's
// `on_resubscribed` is called: the owner must assume it missed messages (the bus drops its local
// cache there). Not called for a first subscription that succeeds on its first attempt.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "keygate/cache/redis_client.hpp"

namespace keygate::cache {

class redis_subscriber {
 public:
  virtual ~redis_subscriber() = default;

  // Subscribes to `channel` now (if connected) and on every reconnect. `on_message` receives each
  // payload (binary-safe; the view is valid during the call only). Subscribing to a channel twice
  // replaces its callbacks. Never throws; connection problems are handled in the background
  // (logged and counted as keygate_dependency_errors_total{dependency="redis",kind="unavailable"}).
  virtual void subscribe(std::string channel, std::function<void(std::string_view message)> on_message,
                         std::function<void()> on_resubscribed) = 0;

  // Connected and every channel's subscription confirmed by Redis. Any thread.
  virtual bool healthy() const noexcept = 0;
};

// Uses options.host/port/connect_timeout/backoff_*; the db is irrelevant to pub/sub.
// `metrics` must outlive the subscriber.
std::unique_ptr<redis_subscriber> make_redis_subscriber(boost::asio::any_io_executor executor,
                                                        redis_options options, obs::registry& metrics);

}  // namespace keygate::cache
