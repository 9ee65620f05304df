// keygate::manage ownership rule for cache invalidation (SPEC §5 `/cache/invalidate`): who may
// purge the cached state of credentials owned by (tenant, user). Pure.
//  * service tokens and the CLI: anything;
//  * a tenant-scoped caller: only inside its own tenant; admins/owners any user's credentials,
//    others only their own (`user` nullopt means "every user of the tenant").
#pragma once

#include <optional>
#include <string_view>

#include "keygate/core/errc.hpp"
#include "keygate/manage/actor.hpp"

namespace keygate::manage {

errc may_invalidate(const actor& a, std::string_view tenant_id,
                    std::optional<std::string_view> user_id) noexcept;

}  // namespace keygate::manage
