// keygate::cache::invalidator — makes a changed credential take effect on every instance
// (SPEC §5 `/cache/invalidate`, §6 "mutations overwrite with tombstones/fresh state").
//
// For each hash: re-read the state from the store (never from a cache), overwrite the Redis
// entry with it (revoked/disabled keys become tombstones, vanished ones negative entries),
// overwrite this instance's local entry, then publish the hashes on the bus so every instance
// drops its local copy (unless fanout::local_only). Runs on the executor that owns `redis` (the
// gateway's background executor, or the CLI's). Errors:
//  * a store error (nothing was written anywhere): store_unavailable / store_timeout / ...;
//  * errc::invalidation_incomplete: Redis could not be reached for some step (the local cache
//    was purged anyway; the call is retryable).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/cache/entry.hpp"
#include "keygate/cache/local_cache.hpp"
#include "keygate/cache/redis_client.hpp"
#include "keygate/cache/shared_tier.hpp"
#include "keygate/cache/tiered_lookup.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::cache {

// The pub/sub channel of a namespace, and the message format: "<k|s>:<hash>,<hash>,...".
std::string invalidation_channel(std::string_view namespace_prefix);
std::string encode_invalidation(credential_type type, const std::vector<std::string>& hashes);
// Calls `fn(type, hash)` for each hash of a well-formed message; false if malformed.
bool decode_invalidation(std::string_view message,
                         const std::function<void(credential_type, std::string_view)>& fn);

// Whether invalidate() announces the hashes on the Redis bus (step 3 above). The store's change
// notifications reach every instance by themselves (cache::change_applier), so invalidations made
// for them stay on this instance: N instances each publishing would cost N² local purges.
enum class fanout : bool { local_only, publish };

class invalidator {
 public:
  // `local` may be null (the CLI has no local cache); `tier`/`redis` null without Redis.
  invalidator(local_cache* local, store::key_store& store, shared_tier* tier, redis_client* redis,
              std::string channel, lookup_settings settings);

  boost::asio::awaitable<result<std::size_t>> invalidate(credential_type type,
                                                         std::vector<std::string> hashes,
                                                         fanout how = fanout::publish);

 private:
  local_cache* local_;
  store::key_store& store_;
  shared_tier* tier_;
  redis_client* redis_;
  std::string channel_;
  lookup_settings settings_;
};

}  // namespace keygate::cache
