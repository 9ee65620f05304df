// keygate::cache::flat_table — the lookup structure of one local-cache shard: an open-addressed
// table (linear probing, backward-shift deletion, at most half full) whose slots hold the key
// inline next to its payload. A lookup reads the slot the hash points at (two adjacent cache
// lines, usually the only ones) instead of walking a chain of separately allocated nodes: with
// a working set of many keys every node in such a chain is a wait for memory.
//
// Keys are at most MaxKeyBytes (callers check). The caller supplies each key's hash, computed
// once per operation; the low bits pick the slot. Not thread-safe (the shard's mutex guards it).
// insert() and erase() move slots: pointers from find() are valid until the next of either.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace keygate::cache {

// A key of at most N bytes kept inline, with its hash (computed once, by the caller).
template <std::size_t N>
struct inline_key {
  static_assert(N <= 255, "the key's length is kept in one byte");
  inline_key() = default;
  inline_key(std::string_view k, std::uint64_t h) noexcept
      : hash(h), size(static_cast<std::uint8_t>(k.size())) {
    k.copy(bytes.data(), bytes.size());
  }
  std::string_view view() const noexcept { return {bytes.data(), size}; }
  std::uint64_t hash = 0;
  std::uint8_t size = 0;
  std::array<char, N> bytes{};
};

template <class Payload, std::size_t MaxKeyBytes>
class flat_table {
 public:
  struct alignas(64) slot {
    inline_key<MaxKeyBytes> key;
    bool used = false;
    Payload payload{};
  };

  // The slot holding `key`, or nullptr.
  slot* find(std::string_view key, std::uint64_t hash) noexcept {
    if (slots_.empty()) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key.hash == hash && s.key.view() == key) return &s;
    }
  }

  // Adds `key`, which must be absent and at most MaxKeyBytes long, and returns its slot with a
  // value-initialized payload.
  slot& insert(std::string_view key, std::uint64_t hash) {
    assert(key.size() <= MaxKeyBytes);
    if ((count_ + 1) * 2 > slots_.size()) grow();
    slot& s = free_slot_for(hash);
    s.key = inline_key<MaxKeyBytes>(key, hash);
    s.used = true;
    s.payload = Payload{};
    ++count_;
    return s;
  }

  // Removes a slot returned by find(). Later slots of the same probe run move back into the
  // hole, so no tombstones accumulate and lookups stay short.
  void erase(slot& victim) noexcept {
    const std::size_t mask = slots_.size() - 1;
    auto hole = static_cast<std::size_t>(&victim - slots_.data());
    for (std::size_t j = (hole + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      const std::size_t home = slots_[j].key.hash & mask;
      // Movable when its home is not after the hole on the way to j (cyclically).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = slot{};
    --count_;
  }

  void clear() {
    slots_ = std::vector<slot>();
    count_ = 0;
  }
  std::size_t size() const noexcept { return count_; }

 private:
  static constexpr std::size_t initial_slots = 16;

  slot& free_slot_for(std::uint64_t hash) noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    return slots_[i];
  }

  void grow() {
    auto old = std::exchange(slots_, std::vector<slot>(std::max(initial_slots, slots_.size() * 2)));
    for (auto& s : old)
      if (s.used) free_slot_for(s.key.hash) = std::move(s);
  }

  std::vector<slot> slots_;  // empty, or a power of two
  std::size_t count_ = 0;
};

}  // namespace keygate::cache
