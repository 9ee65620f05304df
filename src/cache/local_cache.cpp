#include "keygate/cache/local_cache.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace keygate::cache {
namespace {

std::uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

// A keyed 64-bit mix (murmur3's finalizer over seed-xored input): not a MAC, but without the
// seed a client cannot compute which slot or shard a credential's hash lands in.
std::uint64_t mix(std::uint64_t x, std::uint64_t seed) noexcept {
  x ^= seed;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Keys are a type character and 64 hex digits of SHA-256. The 64 digits are folded word by
// word (eight loads, cheaper than a byte-wise hash) and mixed with the seed; other lengths
// (tests) hash every byte.
std::uint64_t keyed_hash(std::string_view k, std::uint64_t seed) noexcept {
  if (k.size() == 65) {
    std::uint64_t h = static_cast<unsigned char>(k[0]);
    for (std::size_t i = 1; i < 65; i += 8) h = (h ^ load64(k.data() + i)) * 0x9E3779B97F4A7C15ull;
    return mix(h, seed);
  }
  std::uint64_t h = seed ^ k.size();
  for (unsigned char c : k) h = mix(h ^ c, seed);
  return h;
}

}  // namespace

local_cache::local_cache(std::size_t capacity, std::chrono::milliseconds stale_window, std::size_t shards)
    : seed_(random_seed()),
      per_shard_capacity_(std::max<std::size_t>(1, (capacity + shards - 1) / shards)),
      stale_window_(stale_window) {
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<shard>());
}

local_cache::probe local_cache::probe_of(std::string_view key) const noexcept {
  return probe{key, keyed_hash(key, seed_)};
}

std::string local_cache::key_of(credential_type type, std::string_view sha256_hex) {
  std::string k;
  k.reserve(1 + sha256_hex.size());
  k += static_cast<char>(type);
  k += sha256_hex;
  return k;
}

std::array<char, 65> local_cache::key_array(credential_type type, std::string_view sha256_hex) noexcept {
  std::array<char, 65> k{};
  k[0] = static_cast<char>(type);
  sha256_hex.copy(k.data() + 1, 64);
  return k;
}

// The high half picks the shard, the low bits the slot in the shard's table, so the keys of one
// shard still spread over its slots.
local_cache::shard& local_cache::shard_of(const probe& p) {
  return *shards_[(p.hash >> 32) % shards_.size()];
}

entry_ptr local_cache::get(std::string_view key, steady::time_point now) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  auto* slot = s.entries.find(p.key, p.hash);
  if (!slot || slot->payload.fresh_until <= now) return nullptr;
  prefetch(*slot->payload.value);
  slot->payload.referenced = true;
  return slot->payload.value;
}

entry_ptr local_cache::get_stale(std::string_view key, steady::time_point now) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  const auto* slot = s.entries.find(p.key, p.hash);
  if (!slot || slot->payload.fresh_until + stale_window_ <= now) return nullptr;
  return slot->payload.value;
}

local_cache::snapshot local_cache::peek(std::string_view key) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  const auto* slot = s.entries.find(p.key, p.hash);
  if (!slot) return {nullptr, {}, s.generation};
  return {slot->payload.value, slot->payload.fresh_until, s.generation};
}

std::uint64_t local_cache::generation(std::string_view key) {
  auto& s = shard_of(probe_of(key));
  std::lock_guard lock(s.mutex);
  return s.generation;
}

void local_cache::insert_locked(shard& s, const probe& p, table::slot* existing, entry_ptr e,
                                steady::time_point fresh_until) {
  if (p.key.size() > max_key_bytes) return;  // not a credential key: never cached (never found)
  if (existing) {
    existing->payload.value = std::move(e);
    existing->payload.fresh_until = fresh_until;
    existing->payload.referenced = true;
    return;
  }
  while (s.entries.size() >= per_shard_capacity_ && !s.lru.empty()) evict_one_locked(s);
  s.lru.emplace_front(p.key, p.hash);
  s.entries.insert(p.key, p.hash).payload = cached{std::move(e), fresh_until, s.lru.begin(), false};
}

// Second chance: the oldest entry goes unless it was hit since it was last here; then it is
// moved to the front with its mark cleared. Ends after at most one pass over the shard.
void local_cache::evict_one_locked(shard& s) {
  while (true) {
    const auto& oldest = s.lru.back();
    auto* slot = s.entries.find(oldest.view(), oldest.hash);
    if (slot && slot->payload.referenced) {
      slot->payload.referenced = false;
      s.lru.splice(s.lru.begin(), s.lru, slot->payload.lru);
      continue;
    }
    if (slot) s.entries.erase(*slot);
    s.lru.pop_back();
    return;
  }
}

template <class Change>
bool local_cache::unless_invalidated(std::string_view key, std::uint64_t generation_at_start,
                                     Change&& change) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  if (s.generation != generation_at_start) return false;
  return change(s, p, s.entries.find(p.key, p.hash));
}

bool local_cache::fill(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl,
                       std::uint64_t generation_at_start, steady::time_point now) {
  return unless_invalidated(key, generation_at_start, [&](shard& s, const probe& p, table::slot* slot) {
    if (slot && slot->payload.fresh_until > now) return false;
    insert_locked(s, p, slot, std::move(e), now + ttl);
    return true;
  });
}

bool local_cache::renew(std::string_view key, const entry_ptr& e, std::chrono::milliseconds ttl,
                        std::uint64_t generation_at_start, steady::time_point now) {
  return unless_invalidated(key, generation_at_start, [&](shard&, const probe&, table::slot* slot) {
    if (!slot || slot->payload.value != e) return false;
    slot->payload.fresh_until = now + ttl;
    slot->payload.referenced = true;
    return true;
  });
}

void local_cache::put(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl,
                      steady::time_point now) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  ++s.generation;
  insert_locked(s, p, s.entries.find(p.key, p.hash), std::move(e), now + ttl);
}

void local_cache::erase(std::string_view key) {
  const auto p = probe_of(key);
  auto& s = shard_of(p);
  std::lock_guard lock(s.mutex);
  ++s.generation;
  if (auto* slot = s.entries.find(p.key, p.hash)) {
    s.lru.erase(slot->payload.lru);
    s.entries.erase(*slot);
  }
}

void local_cache::clear() {
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    ++s->generation;
    s->entries.clear();
    s->lru.clear();
  }
}

std::size_t local_cache::size() {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->entries.size();
  }
  return n;
}

}  // namespace keygate::cache
