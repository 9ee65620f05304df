// keygate::auth::decide — the pure authorization decision (DESIGN: "Authentication is the
// heart"). Given the credential's stored state, the route and the current time, returns
// errc::ok or the precise denial code of SPEC §4. No I/O, no clock reads: table-tested.
//
// Order of checks (first failure wins): revoked → disabled (key or user) → expired (a rotated
// key's grace end is its expires_at) → tenant api_access (keys and sessions) → route scopes ⊆
// credential scopes → min_role.
//
// Sessions have no scopes: a route that requires scopes refuses sessions (insufficient_scope).
// A key acts with min(key role, user role): demoting a user also demotes their keys.
#pragma once

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"
#include "keygate/store/records.hpp"

namespace keygate::auth {

errc decide(const store::key_record& key, const config::route& route, store::time_point now) noexcept;
errc decide(const store::session_record& session, const config::route& route, store::time_point now) noexcept;

}  // namespace keygate::auth
