// keygate::cache::tiered_lookup — credential state by SHA-256: local cache → shared tier
// (Redis) → store (Postgres), with one flight per hash per instance (SPEC §6).
//
// Contract:
//  * a fresh local entry answers without any I/O;
//  * a miss goes through singleflight: at most one Redis read and one store query per hash at
//    a time in this instance; the store's answer is written to Redis with set-if-absent (an
//    existing entry there, e.g. a tombstone, wins and is used instead) and then to the local
//    cache with the generation taken before the lookup started (see local_cache);
//  * dependency errors are never cached: a store failure with nothing cached returns the error
//    (store_unavailable / store_timeout / store_overloaded) — or, when `serve_stale`, an entry
//    that expired less than max_stale ago;
//  * Redis failures only cost the Redis deadline; the store is asked instead;
//  * an expired local entry read from a store that tracks changes (SQLite) is made fresh again
//    without a read when the store's change count has not moved since (by a check made at most
//    `renew_window` before the renewal): a change committed by another process then shows
//    within local_ttl + renew_window.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string_view>

#include "keygate/cache/entry.hpp"
#include "keygate/cache/local_cache.hpp"
#include "keygate/cache/shared_tier.hpp"
#include "keygate/cache/singleflight.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::cache {

struct lookup_settings {
  std::chrono::milliseconds local_ttl{5000};
  std::chrono::milliseconds positive_ttl{60000};
  std::chrono::milliseconds negative_ttl{10000};
  bool serve_stale = false;
};

struct lookup_result {
  entry_ptr entry;
  std::string_view tier;  // local | redis | postgres | coalesced | stale
};

class tiered_lookup {
 public:
  tiered_lookup(local_cache& local, singleflight& flights, store::key_store* store, lookup_settings settings,
                obs::registry& metrics);

  // The fresh local entry for the hash, or nullptr (nothing counted then: find() follows).
  // No I/O and no suspension: the request hot path.
  entry_ptr find_local(credential_type type, std::string_view sha256_hex);
  // `shared` is the calling worker's Redis tier, or nullptr when Redis is not configured.
  boost::asio::awaitable<result<lookup_result>> find(credential_type type, std::string_view sha256_hex,
                                                     shared_tier* shared);
  local_cache& local() noexcept { return local_; }
  const lookup_settings& settings() const noexcept { return settings_; }

 private:
  // How old the change check that renews an entry may be at the renewal (one check then serves
  // every renewal within this window).
  static constexpr std::chrono::milliseconds renew_window{100};

  boost::asio::awaitable<result<entry_ptr>> from_store(credential_type type, std::string sha256_hex);
  // The key's expired entry (`seen`) made fresh again if the store has not changed since it was
  // read, or nullptr. Synchronous (the check reads a local file at most once per renew_window).
  entry_ptr renew_if_unchanged(const std::string& key, const local_cache::snapshot& seen,
                               steady::time_point now);
  void count_local_hit(const entry& e);
  // How long the local tier keeps `e`: local_ttl, never past the key's expiry (entry_ttl).
  std::chrono::milliseconds local_ttl_for(const entry& e) const;

  struct tier_counters {
    obs::counter *hit, *negative, *miss, *error;
  };
  local_cache& local_;
  singleflight& flights_;
  store::key_store* store_;
  lookup_settings settings_;
  tier_counters local_c_, redis_c_, store_c_;
  obs::counter* stale_served_;
};

}  // namespace keygate::cache
