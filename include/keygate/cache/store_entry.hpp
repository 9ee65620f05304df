// keygate::cache::load_entry — a credential's current state read from the store, as a cache entry:
// its record when found, a negative sentinel when not. A store error stays an error (it is never
// turned into "not found"). Shared by lookups (tiered_lookup) and invalidations (invalidator).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "keygate/cache/entry.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/store/key_store.hpp"

namespace keygate::cache {

boost::asio::awaitable<result<entry_ptr>> load_entry(store::key_store& store, credential_type type,
                                                     std::string sha256_hex);

}  // namespace keygate::cache
