// manage::service: tenants, users, sessions, key import and the audit trail.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "keygate/auth/key_format.hpp"
#include "keygate/core/text.hpp"
#include "keygate/manage/validation.hpp"
#include "service_support.hpp"

namespace keygate::manage {
using namespace detail;

namespace {
constexpr std::size_t max_import_items = 1'000'000;
constexpr auto max_session_ttl = std::chrono::hours(24 * 365);
}  // namespace

outcome<store::tenant> service::create_tenant(const actor& a, const create_tenant_request& r) {
  if (auto ok = require_cross_tenant(a, "creating tenants"); !ok) return ok.error();
  if (!is_valid_external_id(r.id))
    return fail(errc::invalid_argument, "invalid tenant id (1-128 of [A-Za-z0-9._:@-])");
  if (!is_valid_name(r.name))
    return fail(errc::invalid_argument, "invalid name (1-128 bytes, no control characters)");
  if (r.max_keys_per_user && (*r.max_keys_per_user == 0 || *r.max_keys_per_user > 100000))
    return fail(errc::invalid_argument, "max-keys-per-user must be 1..100000");
  const auto now = options_.now();
  store::tenant t{r.id, r.name, r.api_access, r.max_keys_per_user, now};
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    if (auto ins = tx.insert_tenant(t); !ins) return store_error(ins.error(), "tenant '" + r.id + "'");
    const auto detail = nlohmann::json{{"name", t.name}, {"api_access", t.api_access}}.dump();
    return audit(tx, a, "tenant.create", t.id, t.id, detail, now);
  });
  if (!done) return done.error();
  return t;
}

outcome<std::vector<store::tenant>> service::list_tenants(const actor& a) {
  if (auto ok = require_cross_tenant(a, "listing tenants"); !ok) return ok.error();
  std::vector<store::tenant> out;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto r = tx.list_tenants();
    if (!r) return store_error(r.error(), "tenants");
    out = std::move(*r);
    return {};
  });
  if (!done) return done.error();
  return out;
}

outcome<store::user> service::create_user(const actor& a, const create_user_request& r) {
  if (auto ok = require_cross_tenant(a, "creating users"); !ok) return ok.error();
  if (!is_valid_external_id(r.tenant_id)) return fail(errc::invalid_argument, "invalid tenant id");
  if (!is_valid_external_id(r.id))
    return fail(errc::invalid_argument, "invalid user id (1-128 of [A-Za-z0-9._:@-])");
  const auto now = options_.now();
  store::user u{r.id, r.tenant_id, r.role, std::nullopt, now};
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto t = tx.get_tenant(r.tenant_id);
    if (!t) return store_error(t.error(), "tenant '" + r.tenant_id + "'");
    if (auto ins = tx.insert_user(u); !ins) return store_error(ins.error(), "user '" + r.id + "'");
    const auto detail = nlohmann::json{{"role", std::string(core::to_string(u.role))}}.dump();
    return audit(tx, a, "user.create", u.id, u.tenant_id, detail, now);
  });
  if (!done) return done.error();
  return u;
}

outcome<std::vector<store::user>> service::list_users(const actor& a, const std::string& tenant_id) {
  if (!is_valid_external_id(tenant_id)) return fail(errc::invalid_argument, "invalid tenant id");
  if (!a.cross_tenant() && (a.tenant_id != tenant_id || a.role < core::role::admin))
    return fail(errc::forbidden, "listing users needs an admin of the tenant");
  std::vector<store::user> out;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto t = tx.get_tenant(tenant_id);
    if (!t) return store_error(t.error(), "tenant '" + tenant_id + "'");
    auto r = tx.list_users(tenant_id);
    if (!r) return store_error(r.error(), "users");
    out = std::move(*r);
    return {};
  });
  if (!done) return done.error();
  return out;
}

outcome<std::size_t> service::import_keys(const actor& a, const import_request& r) {
  if (auto ok = require_cross_tenant(a, "importing keys"); !ok) return ok.error();
  if (!is_valid_external_id(r.tenant_id)) return fail(errc::invalid_argument, "invalid tenant id");
  if (!is_valid_external_id(r.user_id)) return fail(errc::invalid_argument, "invalid user id");
  const bool configured = std::any_of(options_.key_prefixes.begin(), options_.key_prefixes.end(),
                                      [&](const config::key_prefix& p) { return p.prefix == r.prefix; });
  if (!configured)
    return fail(errc::invalid_argument, "prefix '" + r.prefix + "' is not configured in auth.key_prefixes");
  if (r.items.empty()) return fail(errc::invalid_argument, "nothing to import");
  if (r.items.size() > max_import_items) return fail(errc::invalid_argument, "too many keys in one import");

  const auto now = options_.now();
  auto where = [](const import_item& it) {
    return it.line ? "line " + std::to_string(it.line) + ": " : std::string();
  };
  std::vector<store::api_key> keys;
  keys.reserve(r.items.size());
  std::unordered_map<std::string_view, std::size_t> seen;
  seen.reserve(r.items.size());
  for (const auto& it : r.items) {
    if (!core::is_sha256_hex(it.sha256))
      return fail(errc::invalid_argument, where(it) + "expected 64 lowercase hex characters (sha256)");
    if (!is_valid_name(it.name)) return fail(errc::invalid_argument, where(it) + "invalid name");
    if (auto [pos, fresh] = seen.emplace(it.sha256, it.line); !fresh)
      return fail(errc::conflict,
                  where(it) + "duplicate hash (also on line " + std::to_string(pos->second) + ")");
    store::api_key k;
    k.id = new_id("key");
    k.tenant_id = r.tenant_id;
    k.user_id = r.user_id;
    k.name = it.name;
    k.key_hash = it.sha256;
    k.display_prefix = r.prefix + "_";  // the key itself is unknown: no body characters to show
    k.created_at = now;
    k.updated_at = now;
    keys.push_back(std::move(k));
  }

  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto t = tx.get_tenant(r.tenant_id);
    if (!t) return store_error(t.error(), "tenant '" + r.tenant_id + "'");
    auto u = tx.get_user(r.user_id, true);
    if (!u || u->tenant_id != r.tenant_id)
      return fail(errc::not_found, "user '" + r.user_id + "' not found in tenant '" + r.tenant_id + "'");
    for (auto& k : keys) k.role = u->role;
    // Imports adopt an existing key table: the per-user limit (meant for self-service) does not apply.
    auto dup = tx.insert_keys(keys);
    if (!dup) return store_error(dup.error(), "keys");
    if (*dup) return fail(errc::conflict, where(r.items[**dup]) + "key hash already present");
    const auto detail =
        nlohmann::json{{"user_id", r.user_id}, {"prefix", r.prefix}, {"count", keys.size()}}.dump();
    return audit(tx, a, "key.import", r.user_id, r.tenant_id, detail, now);
  });
  if (!done) return done.error();
  std::vector<std::string> hashes;
  hashes.reserve(keys.size());
  for (auto& k : keys) hashes.push_back(std::move(k.key_hash));
  (void)sink_.keys_changed(hashes);  // clears negative entries only; see create_key
  return r.items.size();
}

outcome<created_session> service::create_session(const actor& a, const create_session_request& r) {
  if (auto ok = require_cross_tenant(a, "creating sessions"); !ok) return ok.error();
  if (!is_valid_external_id(r.user_id)) return fail(errc::invalid_argument, "invalid user id");
  if (r.ttl.count() <= 0 || r.ttl > max_session_ttl)
    return fail(errc::invalid_argument, "ttl must be 1s..365d");
  const auto now = options_.now();
  created_session out;
  out.token = auth::generate_session_token();
  out.session.id = new_id("ses");
  out.session.token_hash = auth::sha256_hex_string(out.token);
  out.session.user_id = r.user_id;
  out.session.created_at = now;
  out.session.expires_at = now + r.ttl;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto u = tx.get_user(r.user_id, false);
    if (!u) return store_error(u.error(), "user '" + r.user_id + "'");
    if (u->disabled_at) return fail(errc::forbidden, "user '" + r.user_id + "' is disabled");
    out.session.tenant_id = u->tenant_id;
    if (auto ins = tx.insert_session(out.session); !ins) return store_error(ins.error(), "session");
    const auto detail = nlohmann::json{{"user_id", r.user_id}, {"ttl_seconds", r.ttl.count()}}.dump();
    return audit(tx, a, "session.create", out.session.id, u->tenant_id, detail, now);
  });
  if (!done) return done.error();
  const std::string hashes[] = {out.session.token_hash};
  (void)sink_.sessions_changed(hashes);
  return out;
}

outcome<store::session> service::revoke_session(const actor& a, const std::string& session_id) {
  if (auto ok = require_cross_tenant(a, "revoking sessions"); !ok) return ok.error();
  if (!is_valid_generated_id(session_id, "ses")) return fail(errc::invalid_argument, "invalid session id");
  const auto now = options_.now();
  store::session s;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto got = tx.get_session(session_id, true);
    if (!got) return store_error(got.error(), "session '" + session_id + "'");
    s = std::move(*got);
    if (!s.revoked_at) s.revoked_at = now;
    if (auto u = tx.update_session_state(s); !u) return store_error(u.error(), "session");
    return audit(tx, a, "session.revoke", s.id, s.tenant_id, "{}", now);
  });
  if (!done) return done.error();
  const std::string hashes[] = {s.token_hash};
  if (!sink_.sessions_changed(hashes))
    return fail(errc::invalidation_incomplete,
                "revocation committed but caches could not be invalidated; retry");
  return s;
}

outcome<std::vector<store::audit_event>> service::list_audit(const actor& a, std::size_t limit) {
  if (!a.cross_tenant() && a.role < core::role::admin)
    return fail(errc::forbidden, "reading the audit trail needs an admin of the tenant");
  std::vector<store::audit_event> out;
  auto done = in_tx(store_, [&](store::store_tx& tx) -> outcome<void> {
    auto r = tx.list_audit(a.cross_tenant() ? std::nullopt : std::optional<std::string_view>(a.tenant_id),
                           std::min<std::size_t>(limit, 1000));
    if (!r) return store_error(r.error(), "audit events");
    out = std::move(*r);
    return {};
  });
  if (!done) return done.error();
  return out;
}

}  // namespace keygate::manage
