#include "sqlite/sqlite_store_tx.hpp"

#include "keygate/core/role.hpp"
#include "shared/row_mapping.hpp"
#include "sqlite/queries.hpp"

namespace keygate::sqlite {
namespace q = queries;
using adapters::micros;

namespace {

template <class T, class Map>
std::optional<T> one(statement& s, Map map) {
  if (!s.step()) return std::nullopt;
  return map(s);
}

// A step's optional row as a result: no row is errc::not_found.
template <class T>
result<T> found(result<std::optional<T>> r) {
  if (!r) return r.error();
  if (!*r) return errc::not_found;
  return std::move(**r);
}

template <class T, class Map>
std::vector<T> all(statement& s, Map map) {
  std::vector<T> out;
  while (s.step()) out.push_back(map(s));
  return out;
}

std::string_view role_text(core::role r) {
  return core::to_string(r);
}

// The same key row for insert_key and import (import leaves expiry and rotation empty).
void bind_key(statement& s, const store::api_key& k) {
  s.bind_all(k.id, k.tenant_id, k.user_id, k.name, k.description, k.display_prefix, k.key_hash,
             adapters::join_scopes(k.scopes), role_text(k.role), micros(k.created_at));
}

}  // namespace

template <class F>
auto sqlite_store_tx::step(F&& f) -> result<decltype(f())> {
  c_.arm();
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      c_.disarm();
      return {};
    } else {
      auto v = f();
      c_.disarm();
      return v;
    }
  } catch (...) {
    c_.disarm();
    return c_.map_current_exception();
  }
}

result<void> sqlite_store_tx::insert_tenant(const store::tenant& t) {
  return step([&] {
    auto s = c_.prepare(q::insert_tenant);
    s.bind_all(t.id, t.name, std::int64_t{t.api_access ? 1 : 0},
               t.max_keys_per_user ? std::optional<std::int64_t>(*t.max_keys_per_user) : std::nullopt,
               micros(t.created_at));
    s.run();
  });
}

result<store::tenant> sqlite_store_tx::get_tenant(std::string_view id) {
  auto r = step([&] {
    auto s = c_.prepare(q::get_tenant);
    s.bind_all(id);
    return one<store::tenant>(s, adapters::rows::tenant<statement>);
  });
  return found(std::move(r));
}

result<std::vector<store::tenant>> sqlite_store_tx::list_tenants() {
  return step([&] {
    auto s = c_.prepare(q::list_tenants);
    return all<store::tenant>(s, adapters::rows::tenant<statement>);
  });
}

result<void> sqlite_store_tx::insert_user(const store::user& u) {
  return step([&] {
    auto s = c_.prepare(q::insert_user);
    s.bind_all(u.id, u.tenant_id, role_text(u.role), micros(u.created_at));
    s.run();
  });
}

result<store::user> sqlite_store_tx::get_user(std::string_view id, bool /*for_update: see header*/) {
  auto r = step([&] {
    auto s = c_.prepare(q::get_user);
    s.bind_all(id);
    return one<store::user>(s, adapters::rows::user<statement>);
  });
  return found(std::move(r));
}

result<std::vector<store::user>> sqlite_store_tx::list_users(std::string_view tenant_id) {
  return step([&] {
    auto s = c_.prepare(q::list_users);
    s.bind_all(tenant_id);
    return all<store::user>(s, adapters::rows::user<statement>);
  });
}

result<std::size_t> sqlite_store_tx::count_live_keys(std::string_view user_id, store::time_point now) {
  return step([&] {
    auto s = c_.prepare(q::count_live_keys);
    s.bind_all(user_id, micros(now));
    s.step();
    return static_cast<std::size_t>(s.int64(0));
  });
}

result<void> sqlite_store_tx::insert_key(const store::api_key& k) {
  return step([&] {
    auto s = c_.prepare(q::insert_key);
    bind_key(s, k);
    s.bind(11, micros(k.updated_at)).bind(12, micros(k.expires_at)).bind(13, k.rotated_from);
    s.run();
  });
}

// One prepared INSERT … ON CONFLICT (key_hash) DO NOTHING per key inside the caller's
// transaction: no row changed means the hash was already present (in the store or earlier in
// `keys`). 10,000 keys take well under a second; each key gets its own deadline.
result<std::optional<std::size_t>> sqlite_store_tx::insert_keys(std::span<const store::api_key> keys) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto inserted = step([&] {
      auto s = c_.prepare(q::import_key);
      bind_key(s, keys[i]);
      s.run();
      return s.changes() > 0;
    });
    if (!inserted) return inserted.error();
    if (!*inserted) return std::optional<std::size_t>(i);
  }
  return std::optional<std::size_t>();
}

result<store::api_key> sqlite_store_tx::get_key(std::string_view id, bool /*for_update*/) {
  auto r = step([&] {
    auto s = c_.prepare(q::get_key);
    s.bind_all(id);
    return one<store::api_key>(s, adapters::rows::api_key<statement>);
  });
  return found(std::move(r));
}

result<std::vector<store::api_key>> sqlite_store_tx::list_keys(std::string_view tenant_id,
                                                               std::optional<std::string_view> user_id) {
  return step([&] {
    auto s = c_.prepare(user_id ? q::list_keys_by_user : q::list_keys_by_tenant);
    s.bind(1, tenant_id);
    if (user_id) s.bind(2, *user_id);
    return all<store::api_key>(s, adapters::rows::api_key<statement>);
  });
}

result<void> sqlite_store_tx::update_key_state(const store::api_key& k) {
  auto r = step([&] {
    auto s = c_.prepare(q::update_key_state);
    s.bind_all(k.id, micros(k.expires_at), micros(k.disabled_at), micros(k.revoked_at), micros(k.updated_at));
    s.run();
    return s.changes();
  });
  if (!r) return r.error();
  if (*r == 0) return errc::not_found;
  return {};
}

result<void> sqlite_store_tx::insert_session(const store::session& ses) {
  return step([&] {
    auto s = c_.prepare(q::insert_session);
    s.bind_all(ses.id, ses.token_hash, ses.tenant_id, ses.user_id, micros(ses.created_at),
               micros(ses.expires_at));
    s.run();
  });
}

result<store::session> sqlite_store_tx::get_session(std::string_view id, bool /*for_update*/) {
  auto r = step([&] {
    auto s = c_.prepare(q::get_session);
    s.bind_all(id);
    return one<store::session>(s, adapters::rows::session<statement>);
  });
  return found(std::move(r));
}

result<std::vector<store::session>> sqlite_store_tx::list_sessions(std::string_view tenant_id,
                                                                   std::optional<std::string_view> user_id) {
  return step([&] {
    auto s = c_.prepare(user_id ? q::list_sessions_by_user : q::list_sessions_by_tenant);
    s.bind(1, tenant_id);
    if (user_id) s.bind(2, *user_id);
    return all<store::session>(s, adapters::rows::session<statement>);
  });
}

result<void> sqlite_store_tx::update_session_state(const store::session& ses) {
  auto r = step([&] {
    auto s = c_.prepare(q::update_session_state);
    s.bind_all(ses.id, micros(ses.revoked_at));
    s.run();
    return s.changes();
  });
  if (!r) return r.error();
  if (*r == 0) return errc::not_found;
  return {};
}

result<void> sqlite_store_tx::insert_audit(const store::audit_event& e) {
  return step([&] {
    auto s = c_.prepare(q::insert_audit);
    s.bind_all(micros(e.at), e.tenant_id, e.actor, e.auth_method, e.action, e.target, e.request_id,
               e.client_ip, e.outcome, e.detail);
    s.run();
  });
}

result<std::vector<store::audit_event>> sqlite_store_tx::list_audit(std::optional<std::string_view> tenant_id,
                                                                    std::size_t limit) {
  return step([&] {
    const auto n = static_cast<std::int64_t>(limit);
    auto s = c_.prepare(tenant_id ? q::list_audit_tenant : q::list_audit_all);
    if (tenant_id)
      s.bind_all(*tenant_id, n);
    else
      s.bind_all(n);
    return all<store::audit_event>(s, adapters::rows::audit_event<statement>);
  });
}

}  // namespace keygate::sqlite
