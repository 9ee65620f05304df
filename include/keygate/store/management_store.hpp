// keygate::store::management_store — transactional access used by the one management service
// (manage::service). The adapter knows SQL; the service knows the rules.
//
// Contract for every store_tx method: returns errc::not_found for a missing row, errc::conflict
// for a unique violation, a dependency errc (store_unavailable / store_timeout) when the store
// fails; never throws. A store_tx is only valid inside the transact() callback that received it.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "keygate/core/errc.hpp"
#include "keygate/store/records.hpp"

namespace keygate::store {

class store_tx {
 public:
  virtual ~store_tx() = default;

  virtual result<void> insert_tenant(const tenant& t) = 0;
  virtual result<tenant> get_tenant(std::string_view id) = 0;
  virtual result<std::vector<tenant>> list_tenants() = 0;

  virtual result<void> insert_user(const user& u) = 0;
  // `for_update` locks the row until the transaction ends: concurrent key creations for one
  // user serialise on it, which makes the per-user limit check atomic.
  virtual result<user> get_user(std::string_view id, bool for_update) = 0;
  virtual result<std::vector<user>> list_users(std::string_view tenant_id) = 0;

  // Keys that count against the per-user limit: not revoked and not expired at `now`.
  virtual result<std::size_t> count_live_keys(std::string_view user_id, time_point now) = 0;
  virtual result<void> insert_key(const api_key& k) = 0;
  // Bulk insert (import). On a key_hash already present (in the store or earlier in `keys`)
  // returns the index of the first such key and writes nothing the caller may keep (the caller
  // must fail the transaction).
  virtual result<std::optional<std::size_t>> insert_keys(std::span<const api_key> keys) = 0;
  virtual result<api_key> get_key(std::string_view id, bool for_update) = 0;
  virtual result<std::vector<api_key>> list_keys(std::string_view tenant_id,
                                                 std::optional<std::string_view> user_id) = 0;
  // Writes the mutable state of `k`: expires_at, disabled_at, revoked_at, updated_at.
  virtual result<void> update_key_state(const api_key& k) = 0;

  virtual result<void> insert_session(const session& s) = 0;
  virtual result<session> get_session(std::string_view id, bool for_update) = 0;
  virtual result<void> update_session_state(const session& s) = 0;  // revoked_at
  // Sessions of a tenant, or of one of its users (cache invalidation of user/tenant targets).
  virtual result<std::vector<session>> list_sessions(std::string_view tenant_id,
                                                     std::optional<std::string_view> user_id) = 0;

  virtual result<void> insert_audit(const audit_event& e) = 0;
  virtual result<std::vector<audit_event>> list_audit(std::optional<std::string_view> tenant_id,
                                                      std::size_t limit) = 0;
};

class management_store {
 public:
  virtual ~management_store() = default;
  // Runs `work` in one transaction; commits iff it returns success, rolls back otherwise (and the
  // error is returned). A commit failure is returned as a dependency errc. Blocking: call from a
  // thread that is not an io_context worker (the CLI), or inside blocking_runner::run().
  virtual result<void> transact(const std::function<result<void>(store_tx&)>& work) = 0;
};

}  // namespace keygate::store
