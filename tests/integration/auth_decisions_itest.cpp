// Every 401/403 code of SPEC §4 from a real request through `keygate serve` with a real store
// (issue 4, "Tests that must exist"): missing_credentials, invalid_api_key, key_revoked,
// key_disabled, key_expired, invalid_session, api_access_disabled, insufficient_scope,
// role_too_low — each 401 with WWW-Authenticate: Bearer realm="keygate" — and the upstream never
// sees a refused request. (503 auth_unavailable: auth_store_outage_itest.cpp.)
#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthDecisions : public auth_db_suite {
 protected:
  gateway_config config(const recording_upstream& up) const {
    auto cfg = auth_gateway_config(up, db().url());
    cfg.route("{match: {prefix: /admin/}, upstream: app, auth: required, scopes: [admin], min_role: admin}")
        .route("{match: {prefix: /members/}, upstream: app, auth: required, min_role: member}")
        .route("{match: {prefix: /}, upstream: app, auth: required}");
    return cfg;
  }
};

TEST_F(AuthDecisions, EveryKeyCodeFromARealRequest) {
  const auto ok = db().key("acme", "alice", {"--scopes", "admin,read"});
  const auto revoked = db().key("acme", "alice");
  const auto disabled = db().key("acme", "alice");
  const auto expired = db().key("acme", "alice");
  const auto no_api = db().key("noapi", "carol", {"--scopes", "admin"});
  const auto no_scope = db().key("acme", "alice", {"--scopes", "read"});
  const auto viewer = db().key("acme", "bob", {"--scopes", "admin"});
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(db().keys("revoke", revoked.id));
  ASSERT_TRUE(db().keys("disable", disabled.id));
  ASSERT_TRUE(db().sql("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = '" +
                       expired.id + "'"));
  ASSERT_TRUE(db().sql("UPDATE tenants SET api_access = false WHERE id = 'noapi'"));

  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());

  auto r = c.request("GET", "/admin/x", bearer(ok.secret));
  EXPECT_EQ(r.status(), 200) << r.describe();
  const auto forwarded = up.request_count();

  EXPECT_TRUE(is_401(c.request("GET", "/x"), "missing_credentials"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer("kg_live_not-a-key")), "invalid_api_key"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer(unknown_key())), "invalid_api_key"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer(revoked.secret)), "key_revoked"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer(disabled.secret)), "key_disabled"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer(expired.secret)), "key_expired"));
  EXPECT_TRUE(is_json_error(c.request("GET", "/x", bearer(no_api.secret)), 403, {"api_access_disabled"}));
  EXPECT_TRUE(
      is_json_error(c.request("GET", "/admin/x", bearer(no_scope.secret)), 403, {"insufficient_scope"}));
  EXPECT_TRUE(is_json_error(c.request("GET", "/admin/x", bearer(viewer.secret)), 403, {"role_too_low"}));
  EXPECT_TRUE(is_json_error(c.request("GET", "/members/x", bearer(viewer.secret)), 403, {"role_too_low"}));
  // The same keys pass where the route does not ask for more.
  EXPECT_EQ(c.request("GET", "/x", bearer(no_scope.secret)).status(), 200);
  EXPECT_EQ(c.request("GET", "/x", bearer(viewer.secret)).status(), 200);

  // A refused request never reaches the upstream.
  EXPECT_EQ(up.request_count(), forwarded + 2);

  // auth decisions by result code.
  const auto text = metrics_text(gw);
  for (const char* code : {"missing_credentials", "invalid_api_key", "key_revoked", "key_disabled",
                           "key_expired", "api_access_disabled", "insufficient_scope", "role_too_low"})
    EXPECT_GE(metric_sum(text, "keygate_auth_decisions_total", {{"result", code}}), 1) << code << "\n"
                                                                                       << text;
  EXPECT_EQ(metric_sum(text, "keygate_auth_decisions_total", {{"result", "ok"}}), 3) << text;
}

TEST_F(AuthDecisions, EverySessionCode) {
  const auto live = db().session("alice");
  const auto revoked = db().session("alice");
  const auto expired = db().session("alice");
  const auto viewer = db().session("bob");
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(db().cli({"sessions", "revoke", revoked.id}).exit_code, 0);
  ASSERT_TRUE(db().sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '" +
                       expired.id + "'"));

  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto cookie = [](const std::string& token) {
    return header_list{{"Cookie", "keygate_session=" + token}};
  };

  EXPECT_EQ(c.request("GET", "/x", cookie(live.secret)).status(), 200);
  EXPECT_TRUE(is_401(c.request("GET", "/x", cookie(revoked.secret)), "invalid_session"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", cookie(expired.secret)), "invalid_session"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", cookie(auth::generate_session_token())), "invalid_session"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", cookie("not-a-session-token")), "invalid_session"));
  EXPECT_TRUE(is_401(c.request("GET", "/x", cookie("")), "invalid_session"));
  // A session carries no scopes; a viewer's session is below member.
  EXPECT_TRUE(is_json_error(c.request("GET", "/admin/x", cookie(live.secret)), 403, {"insufficient_scope"}));
  EXPECT_TRUE(is_json_error(c.request("GET", "/members/x", cookie(viewer.secret)), 403, {"role_too_low"}));
  EXPECT_EQ(up.request_count(), 1u);
}

// A refused credential is refused on every request of a keep-alive connection, and the next
// valid request on it is served (authentication is per request, not per connection).
TEST_F(AuthDecisions, EachRequestOnAConnectionIsDecidedOnItsOwn) {
  const auto good = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.request("GET", "/a", bearer(good.secret)).status(), 200);
    EXPECT_TRUE(is_401(c.request("GET", "/b"), "missing_credentials"));
    EXPECT_TRUE(is_401(c.request("GET", "/c", bearer(unknown_key())), "invalid_api_key"));
  }
  const auto seen = up.requests();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& r : seen) EXPECT_EQ(r.target(), "/a");
}

}  // namespace
}  // namespace keygate::itest
