// keygate::cache::local_cache — the in-process tier: bounded, sharded, approximately LRU within
// a shard (second chance: a hit only marks its entry; eviction gives marked entries one more
// round, so a hit writes one flag instead of relinking list nodes),
// with per-entry freshness and an optional stale window (auth.on_store_unavailable:
// serve_cached). Shared by every worker; each shard has its own mutex, so workers rarely
// contend.
//
// Fill-race protection (SPEC §6): a lookup takes `generation(key)` before it goes to Redis or
// Postgres and passes it to `fill()`. Every overwrite, erase or clear bumps the generation of
// the affected shard (clear: of all shards), so a fill whose lookup started before an
// invalidation is refused and can never resurrect a revoked key. fill() is also set-if-absent:
// it never replaces a live entry. put() is the overwrite used by invalidations.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/cache/entry.hpp"
#include "keygate/cache/flat_table.hpp"

namespace keygate::cache {

using steady = std::chrono::steady_clock;

class local_cache {
 public:
  // `capacity` entries in total; `stale_window` how long an expired entry is kept for
  // get_stale() (0: not kept).
  local_cache(std::size_t capacity, std::chrono::milliseconds stale_window, std::size_t shards = 64);

  // A fresh entry, or nullptr.
  entry_ptr get(std::string_view key, steady::time_point now);
  // An entry that expired less than `stale_window` ago (or a fresh one), or nullptr.
  entry_ptr get_stale(std::string_view key, steady::time_point now);

  // One look at the key's slot for a lookup that may fill or renew it next: its entry, fresh or
  // not (an expired one stays until replaced or evicted; null when there is none), until when it
  // is fresh, and the shard's generation to pass to fill() or renew().
  struct snapshot {
    entry_ptr value;
    steady::time_point fresh_until{};
    std::uint64_t generation = 0;
    bool fresh(steady::time_point now) const noexcept { return value && fresh_until > now; }
  };
  snapshot peek(std::string_view key);
  std::uint64_t generation(std::string_view key);
  // Inserts unless a live entry exists or the generation moved since `generation_at_start`.
  bool fill(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl,
            std::uint64_t generation_at_start, steady::time_point now);
  // Makes `e` fresh for `ttl` again, only if it is still the key's entry and the generation has
  // not moved since `generation_at_start` (taken before `e` was judged current), as fill().
  bool renew(std::string_view key, const entry_ptr& e, std::chrono::milliseconds ttl,
             std::uint64_t generation_at_start, steady::time_point now);
  // Unconditional overwrite (state re-read after a mutation).
  void put(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl, steady::time_point now);
  void erase(std::string_view key);
  void clear();
  std::size_t size();

  // Cache keys: the credential type character followed by the SHA-256 hex.
  static std::string key_of(credential_type type, std::string_view sha256_hex);
  // The same key without an allocation (for the hot path); `sha256_hex` has 64 characters.
  static std::array<char, 65> key_array(credential_type type, std::string_view sha256_hex) noexcept;

 private:
  // Keys are stored inline (a type character and 64 hex digits; never longer than
  // max_key_bytes), in the table's slots and in the eviction order.
  static constexpr std::size_t max_key_bytes = 65;
  using stored_key = inline_key<max_key_bytes>;
  // A lookup: the key and its hash, computed once per operation (it also picks the shard).
  struct probe {
    std::string_view key;
    std::uint64_t hash;
  };
  struct cached {
    entry_ptr value;
    steady::time_point fresh_until{};
    std::list<stored_key>::iterator lru;
    bool referenced = false;  // hit since it was last considered for eviction
  };
  using table = flat_table<cached, max_key_bytes>;
  struct shard {
    std::mutex mutex;
    table entries;
    std::list<stored_key> lru;  // front = most recently inserted or given a second chance
    std::uint64_t generation = 0;
  };
  // Keyed with a per-process random seed: the keys are SHA-256 of client-chosen credentials,
  // and with a public hash a client could grind credentials into one run of slots or one shard
  // (a flood of such unknown keys would turn lookups into long probe sequences).
  probe probe_of(std::string_view key) const noexcept;
  shard& shard_of(const probe& p);
  void evict_one_locked(shard& s);
  // Runs `change(shard, probe, slot or nullptr)` under the key's shard lock and returns its
  // answer, unless an invalidation bumped the generation since `generation_at_start` (false).
  template <class Change>
  bool unless_invalidated(std::string_view key, std::uint64_t generation_at_start, Change&& change);
  // `existing`: the key's slot in `s`, or nullptr (the caller has looked it up already).
  void insert_locked(shard& s, const probe& p, table::slot* existing, entry_ptr e,
                     steady::time_point fresh_until);

  std::uint64_t seed_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::size_t per_shard_capacity_;
  std::chrono::milliseconds stale_window_;
};

}  // namespace keygate::cache
