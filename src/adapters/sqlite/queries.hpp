// Every SQL statement the SQLite adapter runs, in one place (SQLite dialect of
// postgres/queries.hpp). Each is prepared once per connection and cached by address
// (connection::prepare), so they must stay static. Timestamps are INTEGER microseconds since the
// epoch, scopes space-joined text; column orders are those of shared/row_mapping.hpp.
#pragma once

#include <string_view>

namespace keygate::sqlite::queries {

// The data plane's lookups (one row each, by unique index).
inline constexpr std::string_view find_key_by_hash =
    "SELECT k.id, k.tenant_id, k.user_id, k.display_prefix, u.role, k.role, k.scopes, k.expires_at, "
    "k.disabled_at, k.revoked_at, t.api_access, u.disabled_at IS NOT NULL "
    "FROM api_keys k JOIN users u ON u.id = k.user_id JOIN tenants t ON t.id = k.tenant_id "
    "WHERE k.key_hash = ?1";
inline constexpr std::string_view find_session_by_hash =
    "SELECT s.id, s.tenant_id, s.user_id, u.role, s.expires_at, s.revoked_at, t.api_access, "
    "u.disabled_at IS NOT NULL "
    "FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id "
    "WHERE s.token_hash = ?1";

// last_used_at writes, one key per execution inside one transaction.
inline constexpr std::string_view touch_last_used =
    "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND revoked_at IS NULL "
    "AND (last_used_at IS NULL OR last_used_at < ?2)";

// Management.
inline constexpr std::string_view insert_tenant =
    "INSERT INTO tenants (id, name, api_access, max_keys_per_user, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr std::string_view get_tenant =
    "SELECT id, name, api_access, max_keys_per_user, created_at FROM tenants WHERE id = ?1";
inline constexpr std::string_view list_tenants =
    "SELECT id, name, api_access, max_keys_per_user, created_at FROM tenants ORDER BY id";

inline constexpr std::string_view insert_user =
    "INSERT INTO users (id, tenant_id, role, created_at) VALUES (?1, ?2, ?3, ?4)";
inline constexpr std::string_view get_user =
    "SELECT id, tenant_id, role, disabled_at, created_at FROM users WHERE id = ?1";
inline constexpr std::string_view list_users =
    "SELECT id, tenant_id, role, disabled_at, created_at FROM users WHERE tenant_id = ?1 ORDER BY id";

#define KG_KEY_COLS                                                                                 \
  "id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes, role, created_at, " \
  "updated_at, expires_at, disabled_at, revoked_at, last_used_at, rotated_from"
inline constexpr std::string_view count_live_keys =
    "SELECT count(*) FROM api_keys WHERE user_id = ?1 AND revoked_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > ?2)";
inline constexpr std::string_view insert_key =
    "INSERT INTO api_keys (id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes, "
    "role, created_at, updated_at, expires_at, rotated_from) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
// Import: a hash already present inserts nothing (changes() == 0) instead of failing.
inline constexpr std::string_view import_key =
    "INSERT INTO api_keys (id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes, "
    "role, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) "
    "ON CONFLICT (key_hash) DO NOTHING";
inline constexpr std::string_view get_key = "SELECT " KG_KEY_COLS " FROM api_keys WHERE id = ?1";
inline constexpr std::string_view list_keys_by_tenant =
    "SELECT " KG_KEY_COLS " FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, id";
inline constexpr std::string_view list_keys_by_user =
    "SELECT " KG_KEY_COLS " FROM api_keys WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY created_at, id";
inline constexpr std::string_view update_key_state =
    "UPDATE api_keys SET expires_at = ?2, disabled_at = ?3, revoked_at = ?4, updated_at = ?5 WHERE id = ?1";
#undef KG_KEY_COLS

inline constexpr std::string_view insert_session =
    "INSERT INTO sessions (id, token_hash, tenant_id, user_id, created_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr std::string_view get_session =
    "SELECT id, token_hash, tenant_id, user_id, created_at, expires_at, revoked_at FROM sessions WHERE id = "
    "?1";
inline constexpr std::string_view update_session_state = "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1";
inline constexpr std::string_view list_sessions_by_tenant =
    "SELECT id, token_hash, tenant_id, user_id, created_at, expires_at, revoked_at FROM sessions "
    "WHERE tenant_id = ?1 ORDER BY id";
inline constexpr std::string_view list_sessions_by_user =
    "SELECT id, token_hash, tenant_id, user_id, created_at, expires_at, revoked_at FROM sessions "
    "WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY id";

inline constexpr std::string_view insert_audit =
    "INSERT INTO audit_events (at, tenant_id, actor, auth_method, action, target, request_id, client_ip, "
    "outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
inline constexpr std::string_view list_audit_all =
    "SELECT at, tenant_id, actor, auth_method, action, target, request_id, client_ip, outcome, detail "
    "FROM audit_events ORDER BY id DESC LIMIT ?1";
inline constexpr std::string_view list_audit_tenant =
    "SELECT at, tenant_id, actor, auth_method, action, target, request_id, client_ip, outcome, detail "
    "FROM audit_events WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2";

// Migrations (sqlite_migrator.cpp).
inline constexpr std::string_view create_schema_migrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, "
    "checksum TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT";
inline constexpr std::string_view list_migrations =
    "SELECT version, name, checksum, strftime('%Y-%m-%dT%H:%M:%SZ', applied_at / 1000000, 'unixepoch') "
    "FROM schema_migrations ORDER BY version";
inline constexpr std::string_view record_migration =
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)";

}  // namespace keygate::sqlite::queries
