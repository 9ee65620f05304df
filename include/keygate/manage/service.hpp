// keygate::manage::service — the one place that holds the key/session management rules
// (SPEC §5), used by the CLI and by the internal HTTP API. Blocking (runs store transactions):
// call it from the CLI thread or inside store::blocking_runner::run().
//
// Rules, for every call:
//  * tenant-scoped actors (api_key, session) act only inside their tenant; members (and
//    viewers, read-only) only on their own keys; admins/owners on all of the tenant's;
//  * a new key's role ≤ the actor's role and ≤ its user's role; its scopes ⊆ the calling key's
//    scopes; the tenant must have api_access; expiry must be in the future; the per-user limit
//    (tenant setting, else options.default_max_keys_per_user) is checked under a lock on the
//    user row, so concurrent creates cannot exceed it;
//  * rotation: the new key copies the old one's user, name, scopes, role, expiry; the old key's
//    expiry becomes min(now + grace, old expiry); revoked keys are final (no enable/rotate);
//  * every successful mutation writes one audit_events row in its own transaction; rejected
//    calls write none; after commit the invalidation sink hears the affected hashes.
// Errors come back as `error{code, message}`: the code for HTTP/exit-code mapping, the message
// (never containing a secret) for humans.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/manage/actor.hpp"
#include "keygate/manage/invalidation_sink.hpp"
#include "keygate/store/management_store.hpp"
#include "keygate/store/records.hpp"

namespace keygate::manage {

struct error {
  errc code = errc::internal;
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using outcome = boost::system::result<T, error>;

struct create_tenant_request {
  std::string id;
  std::string name;
  bool api_access = true;
  std::optional<std::uint32_t> max_keys_per_user;
};

struct create_user_request {
  std::string tenant_id;
  std::string id;
  core::role role = core::role::member;
};

struct create_key_request {
  std::optional<std::string> tenant_id;  // default: the actor's tenant
  std::optional<std::string> user_id;    // default: the actor's user
  std::string name;
  std::string description;
  std::vector<std::string> scopes;
  std::optional<core::role> role;  // default: the user's role (capped by the actor's)
  std::optional<store::time_point> expires_at;
  std::string prefix;  // empty: the first configured checksummed prefix
};

// `secret` is the raw key: hand it to the caller once, never log it.
struct created_key {
  store::api_key key;
  std::string secret;
};

struct rotated_key {
  store::api_key old_key;  // with its shortened expiry
  created_key new_key;
  // false: committed, but the sink failed (the caller must retry an invalidation); the new
  // secret is still returned because losing it would be worse.
  bool caches_invalidated = true;
};

struct import_item {
  std::size_t line = 0;  // 1-based line in the import file (0: not from a file)
  std::string sha256;
  std::string name;
};

struct import_request {
  std::string tenant_id;
  std::string user_id;
  std::string prefix;
  std::vector<import_item> items;
};

struct create_session_request {
  std::string user_id;
  std::chrono::seconds ttl = std::chrono::hours(24);
};

struct created_session {
  store::session session;
  std::string token;  // raw token: once, never logged
};

struct service_options {
  std::vector<config::key_prefix> key_prefixes;
  std::size_t default_max_keys_per_user = 25;
  std::function<store::time_point()> now = [] { return store::clock::now(); };

  static service_options from(const config::config& cfg);
};

class service {
 public:
  service(store::management_store& store, invalidation_sink& sink, service_options options);

  outcome<store::tenant> create_tenant(const actor& a, const create_tenant_request& r);
  outcome<std::vector<store::tenant>> list_tenants(const actor& a);
  outcome<store::user> create_user(const actor& a, const create_user_request& r);
  outcome<std::vector<store::user>> list_users(const actor& a, const std::string& tenant_id);

  outcome<created_key> create_key(const actor& a, const create_key_request& r);
  outcome<std::vector<store::api_key>> list_keys(const actor& a, const std::optional<std::string>& tenant_id,
                                                 const std::optional<std::string>& user_id);
  outcome<store::api_key> show_key(const actor& a, const std::string& key_id);
  outcome<store::api_key> revoke_key(const actor& a, const std::string& key_id);
  outcome<store::api_key> enable_key(const actor& a, const std::string& key_id);
  outcome<store::api_key> disable_key(const actor& a, const std::string& key_id);
  outcome<rotated_key> rotate_key(const actor& a, const std::string& key_id, std::chrono::seconds grace);
  outcome<std::size_t> import_keys(const actor& a, const import_request& r);

  outcome<created_session> create_session(const actor& a, const create_session_request& r);
  outcome<store::session> revoke_session(const actor& a, const std::string& session_id);

  outcome<std::vector<store::audit_event>> list_audit(const actor& a, std::size_t limit);

 private:
  enum class key_change { revoke, enable, disable };
  outcome<store::api_key> change_key(const actor& a, const std::string& key_id, key_change change);

  store::management_store& store_;
  invalidation_sink& sink_;
  service_options options_;
};

}  // namespace keygate::manage
