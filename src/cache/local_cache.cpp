#include "keygate/cache/local_cache.hpp"

#include <algorithm>

namespace keygate::cache {

local_cache::local_cache(std::size_t capacity, std::chrono::milliseconds stale_window, std::size_t shards)
    : per_shard_capacity_(std::max<std::size_t>(1, (capacity + shards - 1) / shards)), stale_window_(stale_window) {
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<shard>());
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

local_cache::shard& local_cache::shard_of(std::string_view key) {
  // Keys end in SHA-256 hex: its last characters are already uniformly distributed.
  std::size_t h = 0;
  for (std::size_t i = key.size() > 8 ? key.size() - 8 : 0; i < key.size(); ++i) h = h * 31 + static_cast<unsigned char>(key[i]);
  return *shards_[h % shards_.size()];
}

entry_ptr local_cache::get(std::string_view key, steady::time_point now) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  auto it = s.map.find(key);
  if (it == s.map.end() || it->second.fresh_until <= now) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
  return it->second.value;
}

entry_ptr local_cache::get_stale(std::string_view key, steady::time_point now) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  auto it = s.map.find(key);
  if (it == s.map.end() || it->second.fresh_until + stale_window_ <= now) return nullptr;
  return it->second.value;
}

std::uint64_t local_cache::generation(std::string_view key) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  return s.generation;
}

void local_cache::insert_locked(shard& s, std::string_view key, entry_ptr e, steady::time_point fresh_until) {
  std::string k(key);
  if (auto it = s.map.find(k); it != s.map.end()) {
    it->second.value = std::move(e);
    it->second.fresh_until = fresh_until;
    s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
    return;
  }
  while (s.map.size() >= per_shard_capacity_ && !s.lru.empty()) {
    s.map.erase(s.lru.back());
    s.lru.pop_back();
  }
  s.lru.push_front(k);
  s.map.emplace(std::move(k), slot{std::move(e), fresh_until, s.lru.begin()});
}

bool local_cache::fill(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl,
                       std::uint64_t generation_at_start, steady::time_point now) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  if (s.generation != generation_at_start) return false;
  if (auto it = s.map.find(key); it != s.map.end() && it->second.fresh_until > now) return false;
  insert_locked(s, key, std::move(e), now + ttl);
  return true;
}

void local_cache::put(std::string_view key, entry_ptr e, std::chrono::milliseconds ttl, steady::time_point now) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  ++s.generation;
  insert_locked(s, key, std::move(e), now + ttl);
}

void local_cache::erase(std::string_view key) {
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  ++s.generation;
  if (auto it = s.map.find(key); it != s.map.end()) {
    s.lru.erase(it->second.lru);
    s.map.erase(it);
  }
}

void local_cache::clear() {
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    ++s->generation;
    s->map.clear();
    s->lru.clear();
  }
}

std::size_t local_cache::size() {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->map.size();
  }
  return n;
}

}  // namespace keygate::cache
