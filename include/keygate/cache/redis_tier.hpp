// keygate::cache::redis_tier — shared_tier on Redis (SPEC §6). Keys are
// `<namespace>:k:<sha256>` (API keys) and `<namespace>:s:<sha256>` (sessions); values are the
// entry's compact JSON (cache/entry.hpp) with a PX expiry. Fills use `SET NX GET` so an
// existing entry — a tombstone written by an invalidation — wins in one round trip.
#pragma once

#include <string>

#include "keygate/cache/redis_client.hpp"
#include "keygate/cache/shared_tier.hpp"

namespace keygate::cache {

class redis_tier final : public shared_tier {
 public:
  redis_tier(redis_client& client, std::string namespace_prefix)
      : client_(client), namespace_(std::move(namespace_prefix)) {}

  boost::asio::awaitable<result<entry_ptr>> get(credential_type type, std::string_view sha256_hex) override;
  boost::asio::awaitable<result<entry_ptr>> fill(credential_type type, std::string_view sha256_hex,
                                                 entry_ptr e, std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<result<void>> put(credential_type type, std::string_view sha256_hex, entry_ptr e,
                                           std::chrono::milliseconds ttl) override;

  // The Redis key of a credential (exposed for tests and the invalidation path).
  std::string key_of(credential_type type, std::string_view sha256_hex) const;

 private:
  redis_client& client_;
  std::string namespace_;
};

}  // namespace keygate::cache
