// keygate::cache::shared_tier — the cache shared by every keygate instance (Redis), as the
// tiered lookup sees it. One object per worker, used only on that worker's executor.
//
// Errors are dependency errors (cache_unavailable / cache_timeout): the caller goes on to the
// store and never treats them as "invalid".
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string_view>

#include "keygate/cache/entry.hpp"
#include "keygate/core/errc.hpp"

namespace keygate::cache {

class shared_tier {
 public:
  virtual ~shared_tier() = default;
  // The cached entry, or nullptr on a miss (or an unreadable value).
  virtual boost::asio::awaitable<result<entry_ptr>> get(credential_type type,
                                                        std::string_view sha256_hex) = 0;
  // Set-if-absent. Returns the entry that holds afterwards: `e` if it was stored, otherwise the
  // one already there (a tombstone written by an invalidation wins over a late fill).
  virtual boost::asio::awaitable<result<entry_ptr>> fill(credential_type type, std::string_view sha256_hex,
                                                         entry_ptr e, std::chrono::milliseconds ttl) = 0;
  // Unconditional overwrite with state re-read from the store (invalidations).
  virtual boost::asio::awaitable<result<void>> put(credential_type type, std::string_view sha256_hex,
                                                   entry_ptr e, std::chrono::milliseconds ttl) = 0;
};

}  // namespace keygate::cache
