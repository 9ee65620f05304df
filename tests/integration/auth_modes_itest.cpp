// Route auth modes and error shaping (SPEC §2 routes/auth, §4): `auth: optional` forwards
// anonymous requests without identity, `mode: shadow` logs would_deny and forwards,
// `uniform_errors: true` makes every credential failure 401 invalid_credentials.
#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthModes : public auth_db_suite {};

bool has_identity(const recorded_request& r) {
  for (const auto& h : r.head.headers)
    if (lower(h.name).rfind("x-keygate-", 0) == 0) return true;
  return false;
}

TEST_F(AuthModes, OptionalForwardsAnonymousWithoutIdentity) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.route("{match: {prefix: /}, upstream: app, auth: optional}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());

  auto anon = c.request("GET", "/anon", {{"X-Keygate-User", "forged"}, {"X-Keygate-Tenant", "forged"}});
  ASSERT_EQ(anon.status(), 200) << anon.describe();
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_FALSE(has_identity(up.requests()[0])) << "anonymous request forwarded with identity headers";

  ASSERT_EQ(c.request("GET", "/known", bearer(key.secret)).status(), 200);
  ASSERT_EQ(up.request_count(), 2u);
  EXPECT_EQ(up.requests()[1].header("X-Keygate-Key-Id"), key.id);

  // A credential that is present but wrong is still refused on an optional route.
  EXPECT_TRUE(is_401(c.request("GET", "/bad", bearer(unknown_key())), "invalid_api_key"));
  EXPECT_TRUE(is_401(c.request("GET", "/bad", bearer("kg_live_short")), "invalid_api_key"));
  EXPECT_EQ(up.request_count(), 2u);
}

TEST_F(AuthModes, ShadowForwardsAndLogsWouldDeny) {
  const auto key = db().key("acme", "alice");
  const auto revoked = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(db().keys("revoke", revoked.id));
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.route("{match: {prefix: /}, upstream: app, auth: required, scopes: [admin], mode: shadow}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());

  const std::vector<std::pair<std::string, header_list>> denied{
      {"req-shadow-missing-0001", {}},
      {"req-shadow-unknown-0001", bearer(unknown_key())},
      {"req-shadow-revoked-0001", bearer(revoked.secret)},
      {"req-shadow-noscope-0001", bearer(key.secret)},  // lacks scope admin
  };
  for (const auto& [rid, creds] : denied) {
    auto h = creds;
    h.push_back({"X-Request-Id", rid});
    h.push_back({"X-Keygate-User", "forged"});
    auto r = c.request("GET", "/s", h);
    EXPECT_EQ(r.status(), 200) << rid << ": " << r.describe();
  }
  ASSERT_EQ(up.request_count(), denied.size());
  for (const auto& r : up.requests()) EXPECT_FALSE(has_identity(r)) << r.header("X-Request-Id").value_or("");

  ASSERT_TRUE(eventually([&] { return access_lines(gw).size() >= denied.size(); }, 3s));
  std::size_t would_deny = 0;
  for (const auto& j : access_lines(gw)) {
    EXPECT_TRUE(j.value("would_deny", false)) << j.dump();
    would_deny += j.value("would_deny", false);
  }
  EXPECT_EQ(would_deny, denied.size());
  EXPECT_GE(metric(gw, "keygate_auth_shadow_denials_total"), static_cast<double>(denied.size()));
}

TEST_F(AuthModes, UniformErrorsHideTheReason) {
  const auto revoked = db().key("acme", "alice");
  const auto disabled = db().key("acme", "alice");
  const auto good = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(db().keys("revoke", revoked.id));
  ASSERT_TRUE(db().keys("disable", disabled.id));
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}").auth("uniform_errors", "true");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const std::vector<std::pair<const char*, header_list>> failures{
      {"missing", {}},
      {"malformed", bearer("kg_live_nope")},
      {"unknown", bearer(unknown_key())},
      {"revoked", bearer(revoked.secret)},
      {"disabled", bearer(disabled.secret)},
      {"bad session", {{"Cookie", "keygate_session=" + auth::generate_session_token()}}},
  };
  for (const auto& [what, h] : failures)
    EXPECT_TRUE(is_401(c.request("GET", "/u", h), "invalid_credentials")) << what;
  EXPECT_EQ(c.request("GET", "/u", bearer(good.secret)).status(), 200);
}

}  // namespace
}  // namespace keygate::itest
