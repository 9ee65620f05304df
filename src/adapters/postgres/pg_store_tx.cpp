#include "postgres/pg_store_tx.hpp"

#include <unordered_set>

#include "keygate/core/role.hpp"
#include "postgres/pg_rows.hpp"
#include "postgres/queries.hpp"

namespace keygate::postgres {
namespace q = queries;

namespace {
constexpr std::size_t import_batch_rows = 1000;

std::string name_of(const q::statement& s) {
  return std::string(s.name);
}

template <class T, class Map>
result<T> one(const pqxx::result& r, Map map) {
  if (r.empty()) return errc::not_found;
  return map(r[0]);
}
}  // namespace

template <class F>
auto pg_store_tx::step(F&& f) -> result<decltype(f())> {
  w_.arm();
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      w_.disarm();
      return {};
    } else {
      auto v = f();
      w_.disarm();
      return v;
    }
  } catch (...) {
    w_.disarm();
    return w_.map_current_exception();
  }
}

result<void> pg_store_tx::insert_tenant(const store::tenant& t) {
  return step([&] {
    tx_.exec_prepared(name_of(q::insert_tenant), t.id, t.name, t.api_access,
                      t.max_keys_per_user ? std::optional<std::int64_t>(*t.max_keys_per_user) : std::nullopt,
                      rows::micros(t.created_at));
  });
}

result<store::tenant> pg_store_tx::get_tenant(std::string_view id) {
  auto r = step([&] { return tx_.exec_prepared(name_of(q::get_tenant), std::string(id)); });
  if (!r) return r.error();
  return one<store::tenant>(*r, rows::tenant);
}

result<std::vector<store::tenant>> pg_store_tx::list_tenants() {
  return step([&] {
    std::vector<store::tenant> out;
    for (const auto& row : tx_.exec_prepared(name_of(q::list_tenants))) out.push_back(rows::tenant(row));
    return out;
  });
}

result<void> pg_store_tx::insert_user(const store::user& u) {
  return step([&] {
    tx_.exec_prepared(name_of(q::insert_user), u.id, u.tenant_id, std::string(core::to_string(u.role)),
                      rows::micros(u.created_at));
  });
}

result<store::user> pg_store_tx::get_user(std::string_view id, bool for_update) {
  auto r = step([&] {
    return tx_.exec_prepared(name_of(for_update ? q::get_user_for_update : q::get_user), std::string(id));
  });
  if (!r) return r.error();
  return one<store::user>(*r, rows::user);
}

result<std::vector<store::user>> pg_store_tx::list_users(std::string_view tenant_id) {
  return step([&] {
    std::vector<store::user> out;
    for (const auto& row : tx_.exec_prepared(name_of(q::list_users), std::string(tenant_id)))
      out.push_back(rows::user(row));
    return out;
  });
}

result<std::size_t> pg_store_tx::count_live_keys(std::string_view user_id, store::time_point now) {
  return step([&] {
    auto r = tx_.exec_prepared(name_of(q::count_live_keys), std::string(user_id), rows::micros(now));
    return static_cast<std::size_t>(r[0][0].as<std::int64_t>());
  });
}

result<void> pg_store_tx::insert_key(const store::api_key& k) {
  return step([&] {
    tx_.exec_prepared(name_of(q::insert_key), k.id, k.tenant_id, k.user_id, k.name, k.description,
                      k.display_prefix, k.key_hash, rows::join_scopes(k.scopes),
                      std::string(core::to_string(k.role)), rows::micros(k.created_at),
                      rows::micros(k.updated_at), rows::micros(k.expires_at), k.rotated_from);
  });
}

// Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING key_hash, 1000 rows a statement: a hash
// missing from RETURNING was already present. 10,000 keys take well under a second.
result<std::optional<std::size_t>> pg_store_tx::insert_keys(std::span<const store::api_key> keys) {
  return step([&]() -> std::optional<std::size_t> {
    std::string sql;
    for (std::size_t start = 0; start < keys.size(); start += import_batch_rows) {
      const auto batch = keys.subspan(start, std::min(import_batch_rows, keys.size() - start));
      sql.assign(q::bulk_insert_keys_head);
      bool first = true;
      for (const auto& k : batch) {
        const auto ts = "(timestamptz 'epoch' + " + std::to_string(rows::micros(k.created_at)) +
                        " * interval '1 microsecond')";
        if (!first) sql += ',';
        first = false;
        sql += '(';
        for (const std::string* v :
             {&k.id, &k.tenant_id, &k.user_id, &k.name, &k.description, &k.display_prefix, &k.key_hash}) {
          sql += tx_.quote(*v);
          sql += ',';
        }
        sql += "string_to_array(" + tx_.quote(rows::join_scopes(k.scopes)) + ", ' '),";
        sql += tx_.quote(std::string(core::to_string(k.role))) + ',' + ts + ',' + ts + ')';
      }
      sql += q::bulk_insert_keys_tail;
      w_.arm();  // each batch gets its own deadline
      const auto r = tx_.exec(sql);
      if (r.size() != batch.size()) {
        std::unordered_set<std::string> inserted;
        for (const auto& row : r) inserted.insert(row[0].c_str());
        for (std::size_t i = 0; i < batch.size(); ++i)
          if (!inserted.count(batch[i].key_hash)) return start + i;
      }
    }
    return std::nullopt;
  });
}

result<store::api_key> pg_store_tx::get_key(std::string_view id, bool for_update) {
  auto r = step([&] {
    return tx_.exec_prepared(name_of(for_update ? q::get_key_for_update : q::get_key), std::string(id));
  });
  if (!r) return r.error();
  return one<store::api_key>(*r, rows::api_key);
}

result<std::vector<store::api_key>> pg_store_tx::list_keys(std::string_view tenant_id,
                                                           std::optional<std::string_view> user_id) {
  return step([&] {
    std::vector<store::api_key> out;
    const auto r = user_id ? tx_.exec_prepared(name_of(q::list_keys_by_user), std::string(tenant_id),
                                               std::string(*user_id))
                           : tx_.exec_prepared(name_of(q::list_keys_by_tenant), std::string(tenant_id));
    for (const auto& row : r) out.push_back(rows::api_key(row));
    return out;
  });
}

result<void> pg_store_tx::update_key_state(const store::api_key& k) {
  auto r = step([&] {
    return tx_
        .exec_prepared(name_of(q::update_key_state), k.id, rows::micros(k.expires_at),
                       rows::micros(k.disabled_at), rows::micros(k.revoked_at), rows::micros(k.updated_at))
        .affected_rows();
  });
  if (!r) return r.error();
  if (*r == 0) return errc::not_found;
  return {};
}

result<void> pg_store_tx::insert_session(const store::session& s) {
  return step([&] {
    tx_.exec_prepared(name_of(q::insert_session), s.id, s.token_hash, s.tenant_id, s.user_id,
                      rows::micros(s.created_at), rows::micros(s.expires_at));
  });
}

result<store::session> pg_store_tx::get_session(std::string_view id, bool for_update) {
  auto r = step([&] {
    return tx_.exec_prepared(name_of(for_update ? q::get_session_for_update : q::get_session),
                             std::string(id));
  });
  if (!r) return r.error();
  return one<store::session>(*r, rows::session);
}

result<std::vector<store::session>> pg_store_tx::list_sessions(std::string_view tenant_id,
                                                               std::optional<std::string_view> user_id) {
  return step([&] {
    std::vector<store::session> out;
    const auto r = user_id ? tx_.exec_prepared(name_of(q::list_sessions_by_user), std::string(tenant_id),
                                               std::string(*user_id))
                           : tx_.exec_prepared(name_of(q::list_sessions_by_tenant), std::string(tenant_id));
    for (const auto& row : r) out.push_back(rows::session(row));
    return out;
  });
}

result<void> pg_store_tx::update_session_state(const store::session& s) {
  auto r = step([&] {
    return tx_.exec_prepared(name_of(q::update_session_state), s.id, rows::micros(s.revoked_at))
        .affected_rows();
  });
  if (!r) return r.error();
  if (*r == 0) return errc::not_found;
  return {};
}

result<void> pg_store_tx::insert_audit(const store::audit_event& e) {
  return step([&] {
    tx_.exec_prepared(name_of(q::insert_audit), rows::micros(e.at), e.tenant_id, e.actor, e.auth_method,
                      e.action, e.target, e.request_id, e.client_ip, e.outcome, e.detail);
  });
}

result<std::vector<store::audit_event>> pg_store_tx::list_audit(std::optional<std::string_view> tenant_id,
                                                                std::size_t limit) {
  return step([&] {
    std::vector<store::audit_event> out;
    const auto n = static_cast<std::int64_t>(limit);
    const auto r = tenant_id ? tx_.exec_prepared(name_of(q::list_audit_tenant), std::string(*tenant_id), n)
                             : tx_.exec_prepared(name_of(q::list_audit_all), n);
    for (const auto& row : r) out.push_back(rows::audit_event(row));
    return out;
  });
}

}  // namespace keygate::postgres
