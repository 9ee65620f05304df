#include "keygate/cache/tiered_lookup.hpp"

#include "keygate/cache/store_entry.hpp"
#include "keygate/core/coarse_clock.hpp"

namespace keygate::cache {
namespace asio = boost::asio;

tiered_lookup::tiered_lookup(local_cache& local, singleflight& flights, store::key_store* store,
                             lookup_settings settings, obs::registry& metrics)
    : local_(local), flights_(flights), store_(store), settings_(settings) {
  auto& lookups = metrics.counters("keygate_cache_lookups_total", "Credential lookups by tier and outcome",
                                   {"tier", "outcome"});
  const auto counters_for = [&](const char* tier) {
    return tier_counters{&lookups.with({tier, "hit"}), &lookups.with({tier, "negative"}),
                         &lookups.with({tier, "miss"}), &lookups.with({tier, "error"})};
  };
  local_c_ = counters_for("local");
  redis_c_ = counters_for("redis");
  store_c_ = counters_for("postgres");
  stale_served_ =
      &metrics
           .counters("keygate_stale_served_total",
                     "Credentials answered from expired cache entries while the store was unavailable", {})
           .with({});
}

asio::awaitable<result<entry_ptr>> tiered_lookup::from_store(credential_type type, std::string sha256_hex) {
  if (!store_) co_return errc::store_unavailable;
  auto loaded = co_await load_entry(*store_, type, std::move(sha256_hex));
  if (!loaded)
    store_c_.error->inc();
  else
    ((*loaded)->found ? store_c_.hit : store_c_.negative)->inc();
  co_return loaded;
}

void tiered_lookup::count_local_hit(const entry& e) {
  (e.found ? local_c_.hit : local_c_.negative)->inc();
}

std::chrono::milliseconds tiered_lookup::local_ttl_for(const entry& e) const {
  return std::min(settings_.local_ttl,
                  entry_ttl(e, settings_.positive_ttl, settings_.negative_ttl, store::clock::now()));
}

entry_ptr tiered_lookup::find_local(credential_type type, std::string_view sha256_hex) {
  const auto key = local_cache::key_array(type, sha256_hex);
  auto hit = local_.get(std::string_view(key.data(), key.size()), core::coarse_now());
  if (hit) count_local_hit(*hit);
  return hit;
}

entry_ptr tiered_lookup::renew_if_unchanged(const std::string& key, const local_cache::snapshot& seen,
                                            steady::time_point now) {
  if (!store_ || !seen.value || !seen.value->store_changes) return nullptr;
  // A check at most renew_window old *now*: the entry is then renewed with the store's state as
  // of that check, so it is never more than local_ttl + renew_window behind. (Relative to the
  // entry's expiry instead, an entry asked for long after it expired would be renewed on a count
  // taken long ago.)
  const auto changes = store_->changes_seen(now - renew_window);
  if (!changes || *changes != *seen.value->store_changes) return nullptr;
  if (!local_.renew(key, seen.value, local_ttl_for(*seen.value), seen.generation, now)) return nullptr;
  return seen.value;
}

asio::awaitable<result<lookup_result>> tiered_lookup::find(credential_type type, std::string_view sha256_hex,
                                                           shared_tier* shared) {
  const std::string key = local_cache::key_of(type, sha256_hex);
  auto now = steady::now();
  const auto seen = local_.peek(key);
  if (seen.fresh(now)) {
    count_local_hit(*seen.value);
    co_return lookup_result{seen.value, "local"};
  }
  if (auto renewed = renew_if_unchanged(key, seen, now)) {
    count_local_hit(*renewed);
    co_return lookup_result{std::move(renewed), "local"};
  }
  local_c_.miss->inc();
  const auto generation = seen.generation;

  std::string_view answered = "coalesced";
  bool leader = false;
  const std::string hash(sha256_hex);
  // Named, not a temporary of the co_await expression (GCC 12 coroutine temporaries bug).
  singleflight::work_fn work = [&]() -> asio::awaitable<result<entry_ptr>> {
    if (shared) {
      auto cached = co_await shared->get(type, hash);
      if (!cached) {
        redis_c_.error->inc();
      } else if (*cached) {
        ((*cached)->found ? redis_c_.hit : redis_c_.negative)->inc();
        answered = "redis";
        co_return *cached;
      } else {
        redis_c_.miss->inc();
      }
    }
    auto stored = co_await from_store(type, hash);
    if (!stored) co_return stored;
    answered = "postgres";
    entry_ptr e = *stored;
    if (shared) {
      const auto ttl = entry_ttl(*e, settings_.positive_ttl, settings_.negative_ttl, store::clock::now());
      auto kept = co_await shared->fill(type, hash, e, ttl);
      if (kept && *kept)
        e = *kept;  // an entry already there (e.g. a tombstone) wins
      else if (!kept)
        redis_c_.error->inc();
    }
    co_return e;
  };
  auto r = co_await flights_.run(key, std::move(work), &leader);

  now = steady::now();
  if (r) {
    local_.fill(key, *r, local_ttl_for(**r), generation, now);
    co_return lookup_result{*r, leader ? answered : std::string_view("coalesced")};
  }
  if (settings_.serve_stale) {
    if (auto stale = local_.get_stale(key, now)) {
      stale_served_->inc();
      co_return lookup_result{std::move(stale), "stale"};
    }
  }
  co_return r.error();
}

}  // namespace keygate::cache
