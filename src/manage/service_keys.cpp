// manage::service: API key lifecycle (create, list, show, revoke, enable, disable, rotate).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "keygate/auth/key_format.hpp"
#include "keygate/core/text.hpp"
#include "keygate/manage/validation.hpp"
#include "service_support.hpp"

namespace keygate::manage {
using namespace detail;

namespace {

outcome<std::vector<std::string>> validated_scopes(const std::vector<std::string>& in, const actor& a) {
  if (in.size() > max_scopes) return fail(errc::invalid_argument, "too many scopes (max 64)");
  std::vector<std::string> out;
  for (const auto& s : in) {
    if (!core::is_valid_scope(s))
      return fail(errc::invalid_argument, "invalid scope (1-64 characters of [A-Za-z0-9_.:-])");
    if (a.scopes && std::find(a.scopes->begin(), a.scopes->end(), s) == a.scopes->end())
      return fail(errc::insufficient_scope, "scope '" + s + "' is not held by the calling key");
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::string key_detail(const store::api_key& k) {
  return nlohmann::json{{"user_id", k.user_id}, {"display_prefix", k.display_prefix}}.dump();
}

// The tenant and user a create call targets, after the tenancy rules.
outcome<std::pair<std::string, std::string>> target_of(const actor& a, const create_key_request& r) {
  std::string tenant = r.tenant_id.value_or(a.cross_tenant() ? "" : a.tenant_id);
  std::string user = r.user_id.value_or(a.cross_tenant() ? "" : a.user_id);
  if (tenant.empty() || !is_valid_external_id(tenant))
    return fail(errc::invalid_argument, "invalid tenant id");
  if (user.empty() || !is_valid_external_id(user)) return fail(errc::invalid_argument, "invalid user id");
  if (auto ok = check_write_access(a, tenant, user); !ok) return ok.error();
  return std::pair{std::move(tenant), std::move(user)};
}

// Builds the key row and its secret; nothing is written.
created_key mint(const std::string& prefix, const std::string& tenant, const std::string& user,
                 store::time_point now) {
  created_key c;
  c.secret = auth::generate_key(prefix);
  const std::string_view secret = c.secret;
  c.key.id = new_id("key");
  c.key.tenant_id = tenant;
  c.key.user_id = user;
  c.key.key_hash = auth::sha256_hex_string(secret);
  c.key.display_prefix = std::string(secret.substr(0, prefix.size() + 1 + auth::display_body_chars));
  c.key.created_at = now;
  c.key.updated_at = now;
  return c;
}

}  // namespace

service::service(store::management_store& store, invalidation_sink& sink, service_options options)
    : store_(store), sink_(sink), options_(std::move(options)) {}

outcome<created_key> service::create_key(const actor& a, const create_key_request& r) {
  const auto now = options_.now();
  auto target = target_of(a, r);
  if (!target) return target.error();
  const auto& [tenant_id, user_id] = *target;
  if (!is_valid_name(r.name))
    return fail(errc::invalid_argument, "invalid name (1-128 bytes, no control characters)");
  if (!is_valid_description(r.description))
    return fail(errc::invalid_argument, "invalid description (max 1024 bytes, no control characters)");
  auto scopes = validated_scopes(r.scopes, a);
  if (!scopes) return scopes.error();
  if (r.expires_at && *r.expires_at <= now)
    return fail(errc::invalid_argument, "expiry must be in the future");
  if (r.role && !a.cross_tenant() && *r.role > a.role)
    return fail(errc::role_too_low, "a key's role cannot exceed the caller's role");
  auto prefix = mint_prefix(options_, r.prefix);
  if (!prefix) return prefix.error();

  created_key out = mint(*prefix, tenant_id, user_id, now);
  out.key.name = r.name;
  out.key.description = r.description;
  out.key.scopes = std::move(*scopes);
  out.key.expires_at = r.expires_at;

  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto t = tx.get_tenant(tenant_id);
    if (!t) return store_error(t.error(), "tenant '" + tenant_id + "'");
    if (!t->api_access)
      return fail(errc::api_access_disabled, "tenant '" + tenant_id + "' has no API access");
    // Locking the user row serialises concurrent creates for this user: count + insert is atomic.
    auto u = tx.get_user(user_id, true);
    if (!u || u->tenant_id != tenant_id)
      return fail(errc::not_found, "user '" + user_id + "' not found in tenant '" + tenant_id + "'");
    if (u->disabled_at) return fail(errc::forbidden, "user '" + user_id + "' is disabled");
    const auto role = r.role.value_or(a.cross_tenant() ? u->role : std::min(u->role, a.role));
    if (role > u->role) return fail(errc::role_too_low, "a key's role cannot exceed its user's role");
    out.key.role = role;
    const std::size_t limit =
        t->max_keys_per_user ? *t->max_keys_per_user : options_.default_max_keys_per_user;
    auto live = tx.count_live_keys(user_id, now);
    if (!live) return store_error(live.error(), "keys");
    if (*live >= limit)
      return fail(errc::limit_exceeded, "user '" + user_id + "' already has " + std::to_string(*live) +
                                            " keys (limit " + std::to_string(limit) + ")");
    if (auto ins = tx.insert_key(out.key); !ins) return store_error(ins.error(), "key");
    return audit(tx, a, "key.create", out.key.id, tenant_id, key_detail(out.key), now);
  });
  if (!done) return done.error();
  // A new key only has to clear negative entries; a failure here is bounded by negative_ttl, and
  // losing the secret would be worse, so it does not fail the call.
  const std::string hashes[] = {out.key.key_hash};
  (void)sink_.keys_changed(hashes);
  return out;
}

outcome<std::vector<store::api_key>> service::list_keys(const actor& a,
                                                        const std::optional<std::string>& tenant_id,
                                                        const std::optional<std::string>& user_id) {
  const std::string tenant = tenant_id.value_or(a.cross_tenant() ? "" : a.tenant_id);
  if (!is_valid_external_id(tenant)) return fail(errc::invalid_argument, "invalid tenant id");
  if (user_id && !is_valid_external_id(*user_id)) return fail(errc::invalid_argument, "invalid user id");
  std::optional<std::string> user = user_id;
  if (!a.cross_tenant() && a.role < core::role::admin) user = a.user_id;  // members: their own only
  if (auto ok = check_read_access(a, tenant, user.value_or(a.user_id)); !ok) return ok.error();
  std::vector<store::api_key> keys;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto t = tx.get_tenant(tenant);
    if (!t) return store_error(t.error(), "tenant '" + tenant + "'");
    auto r = tx.list_keys(tenant, user ? std::optional<std::string_view>(*user) : std::nullopt);
    if (!r) return store_error(r.error(), "keys");
    keys = std::move(*r);
    return {};
  });
  if (!done) return done.error();
  return keys;
}

outcome<store::api_key> service::show_key(const actor& a, const std::string& key_id) {
  if (!is_valid_generated_id(key_id, "key")) return fail(errc::invalid_argument, "invalid key id");
  store::api_key key;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto k = tx.get_key(key_id, false);
    if (!k) return store_error(k.error(), "key '" + key_id + "'");
    if (auto ok = check_read_access(a, k->tenant_id, k->user_id); !ok) return ok;
    key = std::move(*k);
    return {};
  });
  if (!done) return done.error();
  return key;
}

outcome<store::api_key> service::revoke_key(const actor& a, const std::string& id) {
  return change_key(a, id, key_change::revoke);
}
outcome<store::api_key> service::enable_key(const actor& a, const std::string& id) {
  return change_key(a, id, key_change::enable);
}
outcome<store::api_key> service::disable_key(const actor& a, const std::string& id) {
  return change_key(a, id, key_change::disable);
}

outcome<store::api_key> service::change_key(const actor& a, const std::string& key_id, key_change change) {
  if (!is_valid_generated_id(key_id, "key")) return fail(errc::invalid_argument, "invalid key id");
  const auto now = options_.now();
  store::api_key key;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto k = tx.get_key(key_id, true);
    if (!k) return store_error(k.error(), "key '" + key_id + "'");
    if (auto ok = check_write_access(a, k->tenant_id, k->user_id); !ok) return ok;
    key = std::move(*k);
    const char* action = "key.revoke";
    switch (change) {
      case key_change::revoke:
        if (!key.revoked_at) key.revoked_at = now;  // revoking twice is a no-op success
        break;
      case key_change::enable:
        if (key.revoked_at)
          return fail(errc::conflict, "key '" + key_id + "' is revoked and cannot be re-enabled");
        key.disabled_at.reset();
        action = "key.enable";
        break;
      case key_change::disable:
        if (key.revoked_at) return fail(errc::conflict, "key '" + key_id + "' is revoked");
        if (!key.disabled_at) key.disabled_at = now;
        action = "key.disable";
        break;
    }
    key.updated_at = now;
    if (auto u = tx.update_key_state(key); !u) return store_error(u.error(), "key '" + key_id + "'");
    return audit(tx, a, action, key.id, key.tenant_id, key_detail(key), now);
  });
  if (!done) return done.error();
  const std::string hashes[] = {key.key_hash};
  if (!sink_.keys_changed(hashes))
    return fail(errc::invalidation_incomplete, "change committed but caches could not be invalidated; retry");
  return key;
}

outcome<rotated_key> service::rotate_key(const actor& a, const std::string& key_id,
                                         std::chrono::seconds grace) {
  if (!is_valid_generated_id(key_id, "key")) return fail(errc::invalid_argument, "invalid key id");
  if (grace.count() < 0) return fail(errc::invalid_argument, "grace must not be negative");
  const auto now = options_.now();
  rotated_key out;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto k = tx.get_key(key_id, true);
    if (!k) return store_error(k.error(), "key '" + key_id + "'");
    if (auto ok = check_write_access(a, k->tenant_id, k->user_id); !ok) return ok;
    if (k->revoked_at) return fail(errc::conflict, "key '" + key_id + "' is revoked");
    if (k->disabled_at) return fail(errc::conflict, "key '" + key_id + "' is disabled; enable it first");
    if (k->expires_at && *k->expires_at <= now)
      return fail(errc::conflict, "key '" + key_id + "' has expired");
    auto t = tx.get_tenant(k->tenant_id);
    if (!t) return store_error(t.error(), "tenant '" + k->tenant_id + "'");
    if (!t->api_access)
      return fail(errc::api_access_disabled, "tenant '" + k->tenant_id + "' has no API access");
    auto prefix = mint_prefix(options_, prefix_of_display(k->display_prefix));
    if (!prefix) return prefix.error();

    out.new_key = mint(*prefix, k->tenant_id, k->user_id, now);
    auto& nk = out.new_key.key;
    nk.name = k->name;
    nk.description = k->description;
    nk.scopes = k->scopes;
    nk.role = k->role;
    nk.expires_at = k->expires_at;
    nk.rotated_from = k->id;
    // The old key lives on for the grace period, but never past its own expiry.
    const auto grace_end = now + grace;
    k->expires_at = k->expires_at ? std::min(*k->expires_at, grace_end) : grace_end;
    k->updated_at = now;
    if (auto u = tx.update_key_state(*k); !u) return store_error(u.error(), "key '" + key_id + "'");
    if (auto ins = tx.insert_key(nk); !ins) return store_error(ins.error(), "key");
    out.old_key = std::move(*k);
    const auto detail = nlohmann::json{{"new_key_id", nk.id}, {"grace_seconds", grace.count()}}.dump();
    return audit(tx, a, "key.rotate", key_id, nk.tenant_id, detail, now);
  });
  if (!done) return done.error();
  const std::string hashes[] = {out.old_key.key_hash, out.new_key.key.key_hash};
  out.caches_invalidated = sink_.keys_changed(hashes).has_value();
  return out;
}

}  // namespace keygate::manage
