// keygate::manage credential scan — every credential (API keys and sessions, whatever their state)
// of a tenant or of one of its users, as the hashes the caches are keyed by. Used wherever a
// user/tenant change must reach cached credentials: POST /cache/invalidate with a user_id or
// tenant_id target, and the store's change notifications (cache::change_applier).
//
// Runs inside management_store::transact(); errors are the store_tx's (dependency errcs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/core/errc.hpp"
#include "keygate/store/management_store.hpp"

namespace keygate::manage {

struct credential_hashes {
  std::vector<std::string> keys;      // api_keys.key_hash
  std::vector<std::string> sessions;  // sessions.token_hash
};

// Appends the credentials of `tenant_id` (every user when `user_id` is nullopt) to `out`.
result<void> collect_credentials(store::store_tx& tx, std::string_view tenant_id,
                                 std::optional<std::string_view> user_id, credential_hashes& out);

// The same for a user named only by id (its tenant read from the store); an unknown user adds
// nothing and is not an error.
result<void> collect_user_credentials(store::store_tx& tx, std::string_view user_id, credential_hashes& out);

}  // namespace keygate::manage
