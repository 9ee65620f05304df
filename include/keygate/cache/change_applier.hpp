// keygate::cache::change_applier — applies the store's change notifications (store::change_feed,
// payloads per cache/change_notice.hpp) to this instance's caches, so a row edited with plain SQL
// takes effect without POST /cache/invalidate.
//
// Each batch goes through the invalidator (one set of rules for every path): user/tenant notices
// are first resolved to their credentials' hashes from the store (manage::collect_*), then every
// hash is re-read from the store, its Redis entry overwritten (tombstone / negative / fresh), and
// only then its local entry replaced — a request racing with it can never refill the local tier
// from the stale Redis entry. Nothing is published on the Redis bus (fanout::local_only): every
// instance receives every notification itself.
//
// Order and coalescing: one batch is applied at a time; notices arriving meanwhile are merged
// (repeats collapse) and applied next. A failed batch (store or Redis unreachable) is retried with
// capped backoff, `max_attempts` times in all, then counted as failed and dropped. At most
// `max_pending` distinct entries wait; beyond that notices are dropped, counted, and the local
// cache is cleared instead (Redis then converges within positive_ttl, as for any lost message).
//
// Threading: every member function runs on `executor` (the gateway's background executor, which
// also owns the invalidator's Redis connection). Lives until that io_context stopped running.
//
// Metrics: keygate_pg_notifications_received_total, and keygate_pg_notifications_total{outcome}
// with outcome applied | malformed | failed | dropped (one count per payload).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "keygate/cache/change_notice.hpp"
#include "keygate/cache/invalidator.hpp"
#include "keygate/cache/local_cache.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/key_store.hpp"
#include "keygate/store/management_store.hpp"

namespace keygate::cache {

struct change_applier_settings {
  std::size_t max_pending = 65536;  // distinct keys/sessions/users/tenants waiting
  int max_attempts = 5;
  std::chrono::milliseconds retry_initial{250};
  std::chrono::milliseconds retry_max{4000};
};

class change_applier {
 public:
  // `owners`/`runner` resolve user and tenant notices (null: those are ignored, keys/sessions
  // still apply); `runner` keeps the blocking transaction off `executor`'s thread.
  change_applier(boost::asio::any_io_executor executor, invalidator& inv, local_cache& local,
                 store::management_store* owners, store::blocking_runner* runner, obs::registry& metrics,
                 change_applier_settings settings = {});

  // Queues the payloads of one feed delivery (malformed ones are counted and ignored).
  void deliver(const std::vector<std::string>& payloads);
  // The feed may have missed notifications: drop the local cache.
  void resync();

 private:
  boost::asio::awaitable<void> drain();
  boost::asio::awaitable<result<void>> apply(change_set& batch);
  boost::asio::awaitable<result<void>> resolve_owners(change_set& batch);
  boost::asio::awaitable<result<void>> rewrite(credential_type type, std::vector<std::string> hashes);

  boost::asio::any_io_executor executor_;
  invalidator& invalidator_;
  local_cache& local_;
  store::management_store* owners_;
  store::blocking_runner* runner_;
  change_applier_settings settings_;
  boost::asio::steady_timer retry_timer_;
  change_set pending_;
  bool draining_ = false;
  bool overflowed_ = false;  // since the queue last ran empty (logged once per episode)

  obs::counter& received_;
  obs::counter& applied_;
  obs::counter& malformed_;
  obs::counter& failed_;
  obs::counter& dropped_;
};

}  // namespace keygate::cache
