// keygate::store records: the rows of SPEC §7 as plain values, shared by the management
// service, the data-plane lookup and every store adapter (Postgres now, SQLite later).
// No driver types here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keygate/core/role.hpp"

namespace keygate::store {

using clock = std::chrono::system_clock;
using time_point = clock::time_point;

struct tenant {
  std::string id;  // the caller's own id
  std::string name;
  bool api_access = true;
  std::optional<std::uint32_t> max_keys_per_user;  // nullopt: config auth.max_keys_per_user
  time_point created_at{};
};

// User ids are unique across tenants (`sessions create --user ID` names no tenant).
struct user {
  std::string id;
  std::string tenant_id;
  core::role role = core::role::member;
  std::optional<time_point> disabled_at;
  time_point created_at{};
};

// An api_keys row. `key_hash` is the SHA-256 hex of the key; the key itself is never stored.
struct api_key {
  std::string id;  // "key_…"
  std::string tenant_id;
  std::string user_id;
  std::string name;
  std::string description;
  std::string display_prefix;  // "<prefix>_" + 6 body characters
  std::string key_hash;
  std::vector<std::string> scopes;
  core::role role = core::role::member;
  time_point created_at{};
  time_point updated_at{};
  std::optional<time_point> expires_at;
  std::optional<time_point> disabled_at;
  std::optional<time_point> revoked_at;
  std::optional<time_point> last_used_at;
  std::optional<std::string> rotated_from;  // id of the key this one replaced
};

struct session {
  std::string id;  // "ses_…"
  std::string token_hash;
  std::string tenant_id;
  std::string user_id;
  time_point created_at{};
  time_point expires_at{};
  std::optional<time_point> revoked_at;
};

// One audit_events row per successful mutation, written in the mutation's transaction.
struct audit_event {
  std::string actor;        // "system:cli", "key:key_…", "service:webapp", "session:ses_…"
  std::string auth_method;  // "cli" | "service_token" | "api_key" | "session"
  std::string action;       // "key.create", "key.revoke", "tenant.create", …
  std::string target;       // id of the object acted on
  std::optional<std::string> tenant_id;
  std::string request_id;
  std::string client_ip;
  std::string outcome = "success";
  std::string detail;  // small JSON object, never a secret or a hash
  time_point at{};
};

// What the data plane needs to decide on an API key (one row, joined with user and tenant).
struct key_record {
  std::string key_id;
  std::string key_hash;
  std::string tenant_id;
  std::string user_id;
  std::string display_prefix;
  core::role user_role = core::role::viewer;
  core::role key_role = core::role::viewer;
  std::vector<std::string> scopes;
  std::optional<time_point> expires_at;
  std::optional<time_point> disabled_at;
  std::optional<time_point> revoked_at;
  bool tenant_api_access = false;
  bool user_disabled = false;
};

// What the data plane needs to decide on a session cookie.
struct session_record {
  std::string session_id;
  std::string tenant_id;
  std::string user_id;
  core::role user_role = core::role::viewer;
  time_point expires_at{};
  std::optional<time_point> revoked_at;
  bool tenant_api_access = false;
  bool user_disabled = false;
};

}  // namespace keygate::store
