// Every SQL statement the Postgres adapter runs, in one place. Each is prepared once per
// connection (pg_worker::connection()). Timestamps cross the boundary as bigint microseconds since
// the Unix epoch (ts_in/ts_out), so no text parsing of timestamps is needed on either side.
#pragma once

#include <string_view>

namespace keygate::postgres::queries {

struct statement {
  std::string_view name;
  std::string_view sql;
};

#define KG_TS_IN(n) "(timestamptz 'epoch' + $" #n "::bigint * interval '1 microsecond')"
#define KG_TS_OUT(col) "(extract(epoch from " col ") * 1000000)::bigint"

// The data plane's lookups (one row each, by unique index).
inline constexpr statement find_key_by_hash{
    "find_key_by_hash",
    "SELECT k.id, k.tenant_id, k.user_id, k.display_prefix, u.role, k.role, array_to_string(k.scopes, ' '), " KG_TS_OUT(
        "k.expires_at") ", " KG_TS_OUT("k.disabled_at") ", " KG_TS_OUT("k.revoked_at") ", t.api_access, "
                                                                                      "u.disabled_at IS NOT NULL "
                                                                                      "FROM api_keys k JOIN users u ON u.id = k.user_id JOIN tenants t ON t.id = k.tenant_id "
                                                                                      "WHERE k.key_hash = $1"};
inline constexpr statement find_session_by_hash{
    "find_session_by_hash",
    "SELECT s.id, s.tenant_id, s.user_id, u.role, " KG_TS_OUT("s.expires_at") ", " KG_TS_OUT(
        "s.revoked_at") ", t.api_access, u.disabled_at IS NOT NULL "
                        "FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id "
                        "WHERE s.token_hash = $1"};

// Batched last_used_at writes (ids space-joined; ids never contain spaces).
inline constexpr statement touch_last_used{
    "touch_last_used", "UPDATE api_keys SET last_used_at = " KG_TS_IN(2) " WHERE id = ANY(string_to_array($1, ' ')) "
                       "AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < " KG_TS_IN(2) ")"};

// Management.
#define KG_TENANT_COLS "id, name, api_access, max_keys_per_user, " KG_TS_OUT("created_at")
inline constexpr statement insert_tenant{"insert_tenant",
                                         "INSERT INTO tenants (id, name, api_access, max_keys_per_user, "
                                         "created_at) VALUES ($1, $2, $3, $4, " KG_TS_IN(5) ")"};
inline constexpr statement get_tenant{"get_tenant", "SELECT " KG_TENANT_COLS " FROM tenants WHERE id = $1"};
inline constexpr statement list_tenants{"list_tenants", "SELECT " KG_TENANT_COLS " FROM tenants ORDER BY id"};

#define KG_USER_COLS "id, tenant_id, role, " KG_TS_OUT("disabled_at") ", " KG_TS_OUT("created_at")
inline constexpr statement insert_user{
    "insert_user",
    "INSERT INTO users (id, tenant_id, role, created_at) VALUES ($1, $2, $3, " KG_TS_IN(4) ")"};
inline constexpr statement get_user{"get_user", "SELECT " KG_USER_COLS " FROM users WHERE id = $1"};
inline constexpr statement get_user_for_update{"get_user_for_update",
                                               "SELECT " KG_USER_COLS " FROM users WHERE id = $1 FOR UPDATE"};
inline constexpr statement list_users{"list_users",
                                      "SELECT " KG_USER_COLS " FROM users WHERE tenant_id = $1 ORDER BY id"};

#define KG_KEY_COLS                                                                                          \
  "id, tenant_id, user_id, name, description, display_prefix, key_hash, array_to_string(scopes, ' '), "      \
  "role, " KG_TS_OUT("created_at") ", " KG_TS_OUT("updated_at") ", " KG_TS_OUT("expires_at") ", " KG_TS_OUT( \
      "disabled_at") ", " KG_TS_OUT("revoked_at") ", " KG_TS_OUT("last_used_at") ", rotated_from"
inline constexpr statement count_live_keys{
    "count_live_keys",
    "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > " KG_TS_IN(2) ")"};
inline constexpr statement insert_key{
    "insert_key",
    "INSERT INTO api_keys (id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes, "
    "role, "
    "created_at, updated_at, expires_at, rotated_from) VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "string_to_array($8, ' '), $9, " KG_TS_IN(10) ", " KG_TS_IN(11) ", " KG_TS_IN(12) ", $13)"};
inline constexpr statement get_key{"get_key", "SELECT " KG_KEY_COLS " FROM api_keys WHERE id = $1"};
inline constexpr statement get_key_for_update{
    "get_key_for_update", "SELECT " KG_KEY_COLS " FROM api_keys WHERE id = $1 FOR UPDATE"};
inline constexpr statement list_keys_by_tenant{"list_keys_by_tenant",
                                               "SELECT " KG_KEY_COLS
                                               " FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id"};
inline constexpr statement list_keys_by_user{
    "list_keys_by_user",
    "SELECT " KG_KEY_COLS " FROM api_keys WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id"};
inline constexpr statement update_key_state{
    "update_key_state", "UPDATE api_keys SET expires_at = " KG_TS_IN(2) ", disabled_at = " KG_TS_IN(
                            3) ", revoked_at = " KG_TS_IN(4) ", updated_at = " KG_TS_IN(5) " WHERE id = $1"};

#define KG_SESSION_COLS                                                          \
  "id, token_hash, tenant_id, user_id, " KG_TS_OUT("created_at") ", " KG_TS_OUT( \
      "expires_at") ", " KG_TS_OUT("revoked_at")
inline constexpr statement insert_session{
    "insert_session",
    "INSERT INTO sessions (id, token_hash, tenant_id, user_id, created_at, expires_at) VALUES "
    "($1, $2, $3, $4, " KG_TS_IN(5) ", " KG_TS_IN(6) ")"};
inline constexpr statement get_session{"get_session",
                                       "SELECT " KG_SESSION_COLS " FROM sessions WHERE id = $1"};
inline constexpr statement get_session_for_update{
    "get_session_for_update", "SELECT " KG_SESSION_COLS " FROM sessions WHERE id = $1 FOR UPDATE"};
inline constexpr statement list_sessions_by_tenant{
    "list_sessions_by_tenant", "SELECT " KG_SESSION_COLS " FROM sessions WHERE tenant_id = $1 ORDER BY id"};
inline constexpr statement list_sessions_by_user{
    "list_sessions_by_user",
    "SELECT " KG_SESSION_COLS " FROM sessions WHERE tenant_id = $1 AND user_id = $2 ORDER BY id"};
inline constexpr statement update_session_state{
    "update_session_state", "UPDATE sessions SET revoked_at = " KG_TS_IN(2) " WHERE id = $1"};

inline constexpr statement insert_audit{
    "insert_audit",
    "INSERT INTO audit_events (at, tenant_id, actor, auth_method, action, target, request_id, client_ip, "
    "outcome, detail) VALUES (" KG_TS_IN(1) ", $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)"};
#define KG_AUDIT_COLS \
  KG_TS_OUT("at")     \
  ", tenant_id, actor, auth_method, action, target, request_id, client_ip, outcome, detail::text"
inline constexpr statement list_audit_all{
    "list_audit_all", "SELECT " KG_AUDIT_COLS " FROM audit_events ORDER BY id DESC LIMIT $1"};
inline constexpr statement list_audit_tenant{
    "list_audit_tenant",
    "SELECT " KG_AUDIT_COLS " FROM audit_events WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"};

// Bulk import: one statement per batch; the caller appends "($1..),(..)" style rows built with
// quoted literals (see pg_store_tx.cpp insert_keys) and this suffix.
inline constexpr std::string_view bulk_insert_keys_head =
    "INSERT INTO api_keys (id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes, "
    "role, "
    "created_at, updated_at) VALUES ";
inline constexpr std::string_view bulk_insert_keys_tail =
    " ON CONFLICT (key_hash) DO NOTHING RETURNING key_hash";

inline constexpr statement all[] = {
    find_key_by_hash,
    find_session_by_hash,
    insert_tenant,
    get_tenant,
    list_tenants,
    insert_user,
    get_user,
    get_user_for_update,
    list_users,
    count_live_keys,
    insert_key,
    get_key,
    get_key_for_update,
    list_keys_by_tenant,
    list_keys_by_user,
    update_key_state,
    touch_last_used,
    insert_session,
    get_session,
    get_session_for_update,
    list_sessions_by_tenant,
    list_sessions_by_user,
    update_session_state,
    insert_audit,
    list_audit_all,
    list_audit_tenant,
};

#undef KG_TS_IN
#undef KG_TS_OUT
#undef KG_TENANT_COLS
#undef KG_USER_COLS
#undef KG_KEY_COLS
#undef KG_SESSION_COLS
#undef KG_AUDIT_COLS

}  // namespace keygate::postgres::queries
