// keygate::cache entries — what the credential caches hold for one hash: the stored state of
// an API key or a session (revoked/disabled ones included: they are the tombstones that always
// win), or "not found" (the negative sentinel). Immutable once built; shared by pointer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keygate/cache/identity_memo.hpp"
#include "keygate/store/records.hpp"

namespace keygate::cache {

enum class credential_type : char { key = 'k', session = 's' };

struct entry {
  credential_type type = credential_type::key;
  bool found = false;  // false: negative sentinel
  // Not part of the state: when this instance last reported a use of the key to the
  // last_used tracker (store::clock ticks since the epoch; 0 = never), so requests inside the
  // debounce window skip the tracker (auth/authenticator.cpp).
  mutable std::atomic<std::int64_t> last_use_noted{0};
  // Not part of the state: the identity lines this credential forwards, once rendered. Entries
  // of found credentials made by make_entry() keep them in the same allocation; others (negative
  // sentinels, entries built by hand) have none, and every admission renders its own.
  identity_memo* identity = nullptr;
  // The store's change count (key_store::changes_seen) from a check made before this state was
  // read from the store; unset when the store cannot tell or the state came from elsewhere.
  // While the count stays the same, the state is still the store's (tiered_lookup renews it).
  std::optional<std::uint64_t> store_changes;
  std::optional<store::key_record> key;          // type == key && found
  std::optional<store::session_record> session;  // type == session && found
};

using entry_ptr = std::shared_ptr<const entry>;

// A new entry of `type`; `found` entries (the caller sets their record) come with room for their
// identity lines, right after the entry in the same allocation; negative sentinels without (they
// never admit anyone).
std::shared_ptr<entry> make_entry(credential_type type, bool found);

// Starts loading all of an entry's cache lines, with the identity lines make_entry puts after it:
// a hit is followed by reads all over the entry, and with a working set of many keys it then
// waits for memory about once rather than once per field. Prefetching never faults, so reaching
// past a smaller entry is harmless.
inline void prefetch(const entry& e) noexcept {
  const char* p = reinterpret_cast<const char*>(&e);
  for (std::size_t off = 0; off < sizeof(entry) + sizeof(identity_memo); off += 64)
    __builtin_prefetch(p + off);
}

// Compact JSON used for the Redis tier ({"v":1,...}); never contains the key itself.
std::string serialize(const entry& e);
// nullptr on anything malformed (treated as a miss).
entry_ptr deserialize(credential_type type, std::string_view text);

// How long an entry may be cached from `now`: negative entries `negative_ttl`; positive ones
// `ttl` but never past the key's expires_at (an expired key is cached like a negative entry,
// its state already decides the answer); revoked tombstones `ttl`.
std::chrono::milliseconds entry_ttl(const entry& e, std::chrono::milliseconds ttl,
                                    std::chrono::milliseconds negative_ttl, store::time_point now);

}  // namespace keygate::cache
