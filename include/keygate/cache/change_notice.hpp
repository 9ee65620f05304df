// keygate::cache change notices — the payloads of the store's change notifications (Postgres
// NOTIFY on channel keygate_invalidate, sent by the triggers of migrations/0002_invalidation_notify.sql):
//
//   k:<sha256 hex>[,<sha256 hex>]   an API key row changed (two hashes: its key_hash changed)
//   s:<sha256 hex>[,<sha256 hex>]   a session row changed
//   u:<user id>                     a user's role/disabled_at/tenant changed
//   t:<tenant id>                   a tenant's api_access changed
//
// The parser is strict: exact lowercase prefix, 64 lowercase hex per hash, one or two hashes,
// ids as manage::is_valid_external_id, no whitespace, nothing trailing. A payload that is not
// exactly one of these forms adds nothing (the caller counts and ignores it). Pure; no I/O.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

namespace keygate::cache {

// What a batch of notices asks to re-read: ordered sets, so repeats within a batch collapse.
struct change_set {
  std::set<std::string, std::less<>> keys;      // key hashes
  std::set<std::string, std::less<>> sessions;  // session token hashes
  std::set<std::string, std::less<>> users;     // user ids
  std::set<std::string, std::less<>> tenants;   // tenant ids
  std::size_t notices = 0;                      // well-formed payloads merged into this set

  bool empty() const noexcept { return keys.empty() && sessions.empty() && users.empty() && tenants.empty(); }
  std::size_t size() const noexcept { return keys.size() + sessions.size() + users.size() + tenants.size(); }
  // Moves every entry of `other` into this set (and adds its notice count).
  void merge(change_set&& other);
};

// The longest well-formed payload ("k:" + two hashes and a comma).
inline constexpr std::size_t max_change_notice_bytes = 2 + 64 + 1 + 64;

// Adds the notice in `payload` to `into`; false (and `into` unchanged) when it is malformed.
bool add_change_notice(std::string_view payload, change_set& into);

}  // namespace keygate::cache
