#include "keygate/manage/ownership.hpp"

namespace keygate::manage {

errc may_invalidate(const actor& a, std::string_view tenant_id,
                    std::optional<std::string_view> user_id) noexcept {
  if (a.cross_tenant()) return errc::ok;
  if (a.tenant_id != tenant_id) return errc::forbidden;
  if (a.role >= core::role::admin) return errc::ok;
  if (user_id && *user_id == a.user_id) return errc::ok;
  return errc::forbidden;
}

}  // namespace keygate::manage
