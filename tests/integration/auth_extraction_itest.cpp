// Where credentials are read (SPEC §3): Bearer (scheme case-insensitive) wins, then X-API-Key,
// then the session cookie; two Authorization headers → 400; an invalid Bearer never falls back
// to a valid cookie; keys in the query string and in Proxy-Authorization are never accepted.
#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthExtraction : public auth_db_suite {
 protected:
  gateway_config config(const recording_upstream& up) const {
    auto cfg = auth_gateway_config(up, db().url());
    cfg.route("{match: {prefix: /}, upstream: app, auth: required}");
    return cfg;
  }
};

TEST_F(AuthExtraction, WhereCredentialsAreRead) {
  const auto key = db().key("acme", "alice", {"--scopes", "read"});
  const auto other = db().key("acme", "mia");
  const auto ses = db().session("mia");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto method_of = [&](const header_list& h) -> std::string {
    const auto before = up.request_count();
    auto r = c.request("GET", "/who", h);
    if (r.status() != 200 || up.request_count() != before + 1) return "status " + std::to_string(r.status());
    return up.requests().back().header("X-Keygate-Auth-Method").value_or("none") + ":" +
           up.requests().back().header("X-Keygate-User").value_or("none");
  };

  // Bearer, any case of the scheme.
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR  "})
    EXPECT_EQ(method_of({{"Authorization", scheme + key.secret}}), "api_key:alice") << scheme;
  EXPECT_EQ(method_of({{"authorization", "Bearer " + key.secret}}), "api_key:alice");
  // X-API-Key (any case of the name), then the cookie (among other cookies).
  EXPECT_EQ(method_of({{"X-API-Key", key.secret}}), "api_key:alice");
  EXPECT_EQ(method_of({{"x-api-key", key.secret}}), "api_key:alice");
  EXPECT_EQ(method_of({{"Cookie", "a=1; keygate_session=" + ses.secret + "; b=2"}}), "session:mia");
  // Precedence: Bearer over X-API-Key over cookie.
  EXPECT_EQ(method_of({{"Authorization", "Bearer " + key.secret},
                       {"X-API-Key", other.secret},
                       {"Cookie", "keygate_session=" + ses.secret}}),
            "api_key:alice");
  EXPECT_EQ(method_of({{"X-API-Key", other.secret}, {"Cookie", "keygate_session=" + ses.secret}}),
            "api_key:mia");

  // An invalid Bearer is a 401 and does not fall back to X-API-Key or the cookie.
  EXPECT_TRUE(is_401(
      c.request("GET", "/x",
                {{"Authorization", "Bearer kg_live_garbage"}, {"Cookie", "keygate_session=" + ses.secret}}),
      "invalid_api_key"));
  EXPECT_TRUE(is_401(
      c.request("GET", "/x",
                {{"Authorization", "Bearer " + unknown_key()}, {"Cookie", "keygate_session=" + ses.secret}}),
      "invalid_api_key"));
  EXPECT_TRUE(is_401(
      c.request("GET", "/x", {{"Authorization", "Bearer " + unknown_key()}, {"X-API-Key", key.secret}}),
      "invalid_api_key"));
  EXPECT_TRUE(is_401(
      c.request("GET", "/x", {{"Authorization", "Bearer"}, {"Cookie", "keygate_session=" + ses.secret}}),
      "invalid_api_key"));
}

TEST_F(AuthExtraction, DuplicateAuthorizationIs400) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  for (const auto& second : {std::string("Bearer ") + key.secret, std::string("Basic dXNlcjpwYXNz")}) {
    http_client c(gw.port());
    auto r = c.request("GET", "/x", {{"Authorization", "Bearer " + key.secret}, {"Authorization", second}});
    EXPECT_TRUE(is_json_error(r, 400, {"bad_request"})) << second;
  }
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(AuthExtraction, QueryStringAndProxyAuthorizationAreIgnored) {
  const auto key = db().key("acme", "alice");
  const auto ses = db().session("alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (const auto& target : {"/x?api_key=" + key.secret, "/x?access_token=" + key.secret,
                             "/x?key=" + key.secret + "&token=" + key.secret,
                             "/x?keygate_session=" + ses.secret, "/x?Authorization=Bearer%20" + key.secret})
    EXPECT_TRUE(is_401(c.request("GET", target), "missing_credentials")) << target;
  EXPECT_TRUE(is_401(c.request("GET", "/x", {{"Proxy-Authorization", "Bearer " + key.secret}}),
                     "missing_credentials"));
  EXPECT_TRUE(
      is_401(c.request("GET", "/x", {{"Authorization", "Basic dXNlcjpwYXNz"}}), "missing_credentials"));
  EXPECT_EQ(up.request_count(), 0u);
  // No secret in the log (the access log records the path without its query).
  const auto log = gw.log();
  EXPECT_EQ(log.find(key.secret), std::string::npos) << "raw key in keygate's log";
  EXPECT_EQ(log.find(ses.secret), std::string::npos) << "raw session token in keygate's log";
}

TEST_F(AuthExtraction, ConfiguredHeaderAndCookieNames) {
  const auto key = db().key("acme", "alice");
  const auto ses = db().session("alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  auto cfg = config(up);
  cfg.auth("api_key_header", "X-Custom-Key").auth("session_cookie", "sid");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  EXPECT_EQ(c.request("GET", "/x", {{"X-Custom-Key", key.secret}}).status(), 200);
  EXPECT_EQ(c.request("GET", "/x", {{"Cookie", "sid=" + ses.secret}}).status(), 200);
  EXPECT_TRUE(is_401(c.request("GET", "/x", {{"X-API-Key", key.secret}}), "missing_credentials"));
  EXPECT_TRUE(
      is_401(c.request("GET", "/x", {{"Cookie", "keygate_session=" + ses.secret}}), "missing_credentials"));
  // Credentials are hidden under the configured names too.
  for (const auto& r : up.requests()) {
    EXPECT_FALSE(r.has("X-Custom-Key"));
    for (const auto& h : r.head.headers) EXPECT_EQ(h.value.find(ses.secret), std::string::npos) << h.name;
  }
}

}  // namespace
}  // namespace keygate::itest
