#include "keygate/auth/decide.hpp"

#include <gtest/gtest.h>

namespace keygate::auth {
namespace {

using namespace std::chrono_literals;
const store::time_point now = store::clock::now();

store::key_record good_key() {
  store::key_record k;
  k.key_id = "key_1";
  k.tenant_id = "t1";
  k.user_id = "u1";
  k.user_role = core::role::admin;
  k.key_role = core::role::member;
  k.scopes = {"read", "write"};
  k.tenant_api_access = true;
  return k;
}

config::route route_with(std::vector<std::string> scopes, std::optional<core::role> min_role = std::nullopt) {
  config::route r;
  r.scopes = std::move(scopes);
  r.min_role = min_role;
  return r;
}

struct key_case {
  const char* name;
  std::function<void(store::key_record&)> mutate;
  config::route route;
  errc expected;
};

TEST(Decide, KeyTable) {
  const std::vector<key_case> cases{
      {"valid", [](auto&) {}, route_with({}), errc::ok},
      {"valid_with_scopes", [](auto&) {}, route_with({"read"}), errc::ok},
      {"revoked", [](auto& k) { k.revoked_at = now - 1s; }, route_with({}), errc::key_revoked},
      {"revoked_wins_over_disabled",
       [](auto& k) {
         k.revoked_at = now - 1s;
         k.disabled_at = now - 1s;
       },
       route_with({}), errc::key_revoked},
      {"disabled", [](auto& k) { k.disabled_at = now - 1s; }, route_with({}), errc::key_disabled},
      {"user_disabled", [](auto& k) { k.user_disabled = true; }, route_with({}), errc::key_disabled},
      {"expired", [](auto& k) { k.expires_at = now - 1s; }, route_with({}), errc::key_expired},
      {"expires_exactly_now", [](auto& k) { k.expires_at = now; }, route_with({}), errc::key_expired},
      {"not_yet_expired", [](auto& k) { k.expires_at = now + 1s; }, route_with({}), errc::ok},
      {"api_access_off", [](auto& k) { k.tenant_api_access = false; }, route_with({}),
       errc::api_access_disabled},
      {"missing_scope", [](auto&) {}, route_with({"admin"}), errc::insufficient_scope},
      {"one_of_two_scopes", [](auto&) {}, route_with({"read", "admin"}), errc::insufficient_scope},
      {"key_role_too_low", [](auto&) {}, route_with({}, core::role::admin), errc::role_too_low},
      {"user_demoted",
       [](auto& k) {
         k.key_role = core::role::admin;
         k.user_role = core::role::viewer;
       },
       route_with({}, core::role::member), errc::role_too_low},
      {"role_enough", [](auto& k) { k.key_role = core::role::admin; }, route_with({}, core::role::admin),
       errc::ok},
  };
  for (const auto& c : cases) {
    auto k = good_key();
    c.mutate(k);
    EXPECT_EQ(decide(k, c.route, now), c.expected) << c.name;
  }
}

TEST(Decide, SessionTable) {
  store::session_record s;
  s.session_id = "ses_1";
  s.user_role = core::role::member;
  s.expires_at = now + 1h;
  s.tenant_api_access = true;
  EXPECT_EQ(decide(s, route_with({}), now), errc::ok);
  auto no_access = s;
  no_access.tenant_api_access = false;
  EXPECT_EQ(decide(no_access, route_with({}), now), errc::api_access_disabled);
  EXPECT_EQ(decide(s, route_with({"read"}), now), errc::insufficient_scope);
  EXPECT_EQ(decide(s, route_with({}, core::role::admin), now), errc::role_too_low);
  auto expired = s;
  expired.expires_at = now;
  EXPECT_EQ(decide(expired, route_with({}), now), errc::invalid_session);
  auto revoked = s;
  revoked.revoked_at = now - 1s;
  EXPECT_EQ(decide(revoked, route_with({}), now), errc::invalid_session);
  auto disabled = s;
  disabled.user_disabled = true;
  EXPECT_EQ(decide(disabled, route_with({}), now), errc::invalid_session);
}

}  // namespace
}  // namespace keygate::auth
