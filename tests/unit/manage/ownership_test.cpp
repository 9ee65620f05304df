#include "keygate/manage/ownership.hpp"

#include <gtest/gtest.h>

namespace keygate::manage {
namespace {

actor tenant_actor(std::string tenant, std::string user, core::role role) {
  actor a;
  a.kind = actor_kind::api_key;
  a.tenant_id = std::move(tenant);
  a.user_id = std::move(user);
  a.role = role;
  return a;
}

TEST(Ownership, Matrix) {
  actor service;
  service.kind = actor_kind::service;
  EXPECT_EQ(may_invalidate(service, "t2", std::nullopt), errc::ok);
  EXPECT_EQ(may_invalidate(actor::cli(), "t2", "u9"), errc::ok);

  const auto admin = tenant_actor("t1", "a", core::role::admin);
  EXPECT_EQ(may_invalidate(admin, "t1", "someone"), errc::ok);
  EXPECT_EQ(may_invalidate(admin, "t1", std::nullopt), errc::ok);
  EXPECT_EQ(may_invalidate(admin, "t2", "someone"), errc::forbidden);

  const auto member = tenant_actor("t1", "m", core::role::member);
  EXPECT_EQ(may_invalidate(member, "t1", "m"), errc::ok);
  EXPECT_EQ(may_invalidate(member, "t1", "other"), errc::forbidden);
  EXPECT_EQ(may_invalidate(member, "t1", std::nullopt), errc::forbidden);  // the whole tenant
  EXPECT_EQ(may_invalidate(member, "t2", "m"), errc::forbidden);
}

}  // namespace
}  // namespace keygate::manage
