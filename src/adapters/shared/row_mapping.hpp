// Row → record mapping shared by every store adapter. Each adapter's queries select the columns in
// the orders below; a `Row` reads column i (0-based) of the current row:
//   text(i) → std::string ("" for NULL), opt_text(i), int64(i), opt_int64(i), boolean(i).
// Timestamps are int64 microseconds since the epoch (shared/row_values.hpp).
//
//   tenant          id, name, api_access, max_keys_per_user, created_at
//   user            id, tenant_id, role, disabled_at, created_at
//   api_key         id, tenant_id, user_id, name, description, display_prefix, key_hash, scopes,
//                   role, created_at, updated_at, expires_at, disabled_at, revoked_at,
//                   last_used_at, rotated_from
//   session         id, token_hash, tenant_id, user_id, created_at, expires_at, revoked_at
//   audit_event     at, tenant_id, actor, auth_method, action, target, request_id, client_ip,
//                   outcome, detail
//   key_record      id, tenant_id, user_id, display_prefix, user role, key role, scopes,
//                   expires_at, disabled_at, revoked_at, tenant api_access, user disabled
//   session_record  id, tenant_id, user_id, user role, expires_at, revoked_at,
//                   tenant api_access, user disabled
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "keygate/core/role.hpp"
#include "keygate/store/records.hpp"
#include "shared/row_values.hpp"

namespace keygate::adapters::rows {

template <class Row>
store::time_point time(const Row& r, unsigned i) {
  return from_micros(r.int64(i));
}
template <class Row>
std::optional<store::time_point> opt_time(const Row& r, unsigned i) {
  const auto v = r.opt_int64(i);
  if (!v) return std::nullopt;
  return from_micros(*v);
}
// An unknown role in the store reads as the least privileged one.
template <class Row>
core::role role(const Row& r, unsigned i) {
  return core::parse_role(r.text(i)).value_or(core::role::viewer);
}

template <class Row>
store::tenant tenant(const Row& r) {
  store::tenant t;
  t.id = r.text(0);
  t.name = r.text(1);
  t.api_access = r.boolean(2);
  if (const auto m = r.opt_int64(3)) t.max_keys_per_user = static_cast<std::uint32_t>(*m);
  t.created_at = time(r, 4);
  return t;
}

template <class Row>
store::user user(const Row& r) {
  return store::user{r.text(0), r.text(1), role(r, 2), opt_time(r, 3), time(r, 4)};
}

template <class Row>
store::api_key api_key(const Row& r) {
  store::api_key k;
  k.id = r.text(0);
  k.tenant_id = r.text(1);
  k.user_id = r.text(2);
  k.name = r.text(3);
  k.description = r.text(4);
  k.display_prefix = r.text(5);
  k.key_hash = r.text(6);
  k.scopes = split_scopes(r.text(7));
  k.role = role(r, 8);
  k.created_at = time(r, 9);
  k.updated_at = time(r, 10);
  k.expires_at = opt_time(r, 11);
  k.disabled_at = opt_time(r, 12);
  k.revoked_at = opt_time(r, 13);
  k.last_used_at = opt_time(r, 14);
  k.rotated_from = r.opt_text(15);
  return k;
}

template <class Row>
store::session session(const Row& r) {
  return store::session{r.text(0), r.text(1), r.text(2), r.text(3), time(r, 4), time(r, 5), opt_time(r, 6)};
}

template <class Row>
store::audit_event audit_event(const Row& r) {
  store::audit_event e;
  e.at = time(r, 0);
  e.tenant_id = r.opt_text(1);
  e.actor = r.text(2);
  e.auth_method = r.text(3);
  e.action = r.text(4);
  e.target = r.text(5);
  e.request_id = r.text(6);
  e.client_ip = r.text(7);
  e.outcome = r.text(8);
  e.detail = r.text(9);
  return e;
}

template <class Row>
store::key_record key_record(const Row& r, std::string key_hash) {
  store::key_record k;
  k.key_id = r.text(0);
  k.key_hash = std::move(key_hash);
  k.tenant_id = r.text(1);
  k.user_id = r.text(2);
  k.display_prefix = r.text(3);
  k.user_role = role(r, 4);
  k.key_role = role(r, 5);
  k.scopes = split_scopes(r.text(6));
  k.expires_at = opt_time(r, 7);
  k.disabled_at = opt_time(r, 8);
  k.revoked_at = opt_time(r, 9);
  k.tenant_api_access = r.boolean(10);
  k.user_disabled = r.boolean(11);
  return k;
}

template <class Row>
store::session_record session_record(const Row& r) {
  store::session_record s;
  s.session_id = r.text(0);
  s.tenant_id = r.text(1);
  s.user_id = r.text(2);
  s.user_role = role(r, 3);
  s.expires_at = time(r, 4);
  s.revoked_at = opt_time(r, 5);
  s.tenant_api_access = r.boolean(6);
  s.user_disabled = r.boolean(7);
  return s;
}

}  // namespace keygate::adapters::rows
