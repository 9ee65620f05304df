#include "keygate/auth/decide.hpp"

#include <algorithm>

namespace keygate::auth {
namespace {

bool scopes_cover(const std::vector<std::string>& have, const std::vector<std::string>& need) noexcept {
  return std::all_of(need.begin(), need.end(), [&](const std::string& s) {
    return std::find(have.begin(), have.end(), s) != have.end();
  });
}

}  // namespace

errc decide(const store::key_record& key, const config::route& route, store::time_point now) noexcept {
  if (key.revoked_at && *key.revoked_at <= now) return errc::key_revoked;
  if ((key.disabled_at && *key.disabled_at <= now) || key.user_disabled) return errc::key_disabled;
  if (key.expires_at && *key.expires_at <= now) return errc::key_expired;
  if (!key.tenant_api_access) return errc::api_access_disabled;
  if (!scopes_cover(key.scopes, route.scopes)) return errc::insufficient_scope;
  const auto effective = std::min(key.key_role, key.user_role);
  if (route.min_role && effective < *route.min_role) return errc::role_too_low;
  return errc::ok;
}

errc decide(const store::session_record& s, const config::route& route, store::time_point now) noexcept {
  if (s.revoked_at && *s.revoked_at <= now) return errc::invalid_session;
  if (s.expires_at <= now || s.user_disabled) return errc::invalid_session;
  if (!s.tenant_api_access) return errc::api_access_disabled;  // SPEC §4: a tenant entitlement
  if (!route.scopes.empty()) return errc::insufficient_scope;
  if (route.min_role && s.user_role < *route.min_role) return errc::role_too_low;
  return errc::ok;
}

}  // namespace keygate::auth
