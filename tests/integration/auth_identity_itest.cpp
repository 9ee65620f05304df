// Identity to the upstream (SPEC §4, guarantee 2): inbound X-Keygate-* headers (any case, with
// underscores, named in Connection) never reach the recording upstream; keygate's own identity
// headers appear exactly once each; Authorization / X-API-Key / the session cookie are removed;
// the access log has auth_method, key_id, tenant, cache_tier and never the raw credential.
#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthIdentity : public auth_db_suite {
 protected:
  gateway_config config(const recording_upstream& up) const {
    auto cfg = auth_gateway_config(up, db().url());
    cfg.route("{match: {prefix: /}, upstream: app, auth: required}");
    return cfg;
  }
};

const header_list& spoofed() {
  static const header_list h{
      {"X-Keygate-User", "mallory"},
      {"X-Keygate-Tenant", "evil"},
      {"x-keygate-key-id", "key_forged"},
      {"X-KEYGATE-SCOPES", "admin root"},
      {"X-Keygate-Auth-Method", "session"},
      {"X-Keygate-Session-Id", "ses_forged"},
      {"X-Keygate-Assertion", "forged.jwt.value"},
      {"X-Keygate-Anything", "forged"},
      {"X_Keygate_User", "mallory"},
      {"x_keygate_tenant", "evil"},
      {"X-Keygate_Scopes", "admin"},
      {"Connection", "keep-alive, X-Keygate-Role, X-Hop-Private"},
      {"X-Keygate-Role", "owner"},
      {"X-Hop-Private", "hop"},
  };
  return h;
}

// Every header the upstream got whose name looks like an identity header (any case, '_' or '-').
std::vector<header> identity_like(const recorded_request& r) {
  std::vector<header> out;
  for (const auto& h : r.head.headers) {
    auto n = lower(h.name);
    for (auto& ch : n)
      if (ch == '_') ch = '-';
    if (n.find("keygate") != std::string::npos) out.push_back(h);
  }
  return out;
}

void expect_only_trusted(const recorded_request& r, const std::map<std::string, std::string>& want) {
  const auto got = identity_like(r);
  std::map<std::string, std::string> seen;
  for (const auto& h : got) {
    EXPECT_TRUE(seen.emplace(lower(h.name), h.value).second) << "duplicate identity header " << h.name;
    EXPECT_EQ(h.name.find('_'), std::string::npos) << "underscore header reached the upstream: " << h.name;
  }
  std::map<std::string, std::string> want_lower;
  for (const auto& [k, v] : want) want_lower[lower(k)] = v;
  EXPECT_EQ(seen, want_lower);
  for (const auto& h : r.head.headers) {
    EXPECT_NE(h.value, "mallory") << h.name;
    EXPECT_NE(h.value, "evil") << h.name;
    EXPECT_NE(h.value, "forged") << h.name;
  }
  EXPECT_FALSE(r.has("X-Hop-Private")) << "a header named in Connection was forwarded";
}

TEST_F(AuthIdentity, SpoofedIdentityNeverReachesTheUpstream) {
  const auto key = db().key("acme", "alice", {"--scopes", "read,write"});
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());

  auto h = spoofed();
  h.push_back({"Authorization", "Bearer " + key.secret});
  auto r = c.request("GET", "/id", h);
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  expect_only_trusted(up.requests()[0], {{"X-Keygate-Tenant", "acme"},
                                         {"X-Keygate-User", "alice"},
                                         {"X-Keygate-Key-Id", key.id},
                                         {"X-Keygate-Auth-Method", "api_key"},
                                         {"X-Keygate-Scopes", "read write"}});
  EXPECT_FALSE(up.requests()[0].has("Authorization")) << "credentials not hidden";

  // X-API-Key is hidden too; and the second request (a cache hit) is stripped the same way.
  auto h2 = spoofed();
  h2.push_back({"X-API-Key", key.secret});
  ASSERT_EQ(c.request("POST", "/id2", h2, "body").status(), 200);
  ASSERT_EQ(up.request_count(), 2u);
  expect_only_trusted(up.requests()[1], {{"X-Keygate-Tenant", "acme"},
                                         {"X-Keygate-User", "alice"},
                                         {"X-Keygate-Key-Id", key.id},
                                         {"X-Keygate-Auth-Method", "api_key"},
                                         {"X-Keygate-Scopes", "read write"}});
  EXPECT_FALSE(up.requests()[1].has("X-API-Key")) << "X-API-Key forwarded with hide_credentials";
  for (const auto& rec : up.requests())
    for (const auto& hd : rec.head.headers)
      EXPECT_EQ(hd.value.find(key.secret), std::string::npos) << hd.name;
}

TEST_F(AuthIdentity, SessionIdentityAndCookieHidden) {
  const auto ses = db().session("mia");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  auto h = spoofed();
  h.push_back({"Cookie", "theme=dark; keygate_session=" + ses.secret + "; lang=en"});
  auto r = c.request("GET", "/s", h);
  ASSERT_EQ(r.status(), 200) << r.describe();
  ASSERT_EQ(up.request_count(), 1u);
  const auto recorded = up.requests();
  const auto& rec = recorded[0];
  const auto got = identity_like(rec);
  std::map<std::string, std::string> seen;
  for (const auto& hd : got) seen[lower(hd.name)] = hd.value;
  EXPECT_EQ(seen["x-keygate-tenant"], "acme");
  EXPECT_EQ(seen["x-keygate-user"], "mia");
  EXPECT_EQ(seen["x-keygate-session-id"], ses.id);
  EXPECT_EQ(seen["x-keygate-auth-method"], "session");
  EXPECT_EQ(seen.count("x-keygate-key-id"), 0u);
  for (const auto& hd : got) EXPECT_NE(hd.value, "mallory");
  for (const auto& hd : rec.head.headers) EXPECT_EQ(hd.value.find(ses.secret), std::string::npos) << hd.name;
  // The other cookies still reach the upstream.
  std::string cookies;
  for (const auto& v : rec.headers("Cookie")) cookies += v + ";";
  EXPECT_NE(cookies.find("theme=dark"), std::string::npos) << cookies;
  EXPECT_NE(cookies.find("lang=en"), std::string::npos) << cookies;
}

TEST_F(AuthIdentity, HideCredentialsFalseForwardsAuthorization) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  auto cfg = config(up);
  cfg.auth("hide_credentials", "false");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  auto h = spoofed();
  h.push_back({"Authorization", "Bearer " + key.secret});
  ASSERT_EQ(c.request("GET", "/x", h).status(), 200);
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_EQ(up.requests()[0].header("Authorization"), "Bearer " + key.secret);
  // Identity stripping does not depend on hide_credentials.
  EXPECT_EQ(up.requests()[0].header("X-Keygate-User"), "alice");
  EXPECT_EQ(up.requests()[0].headers("X-Keygate-User").size(), 1u);
}

TEST_F(AuthIdentity, AccessLogHasIdentityAndNoSecret) {
  const auto key = db().key("acme", "alice");
  const auto ses = db().session("alice");
  ASSERT_FALSE(HasFailure());
  const auto bad = unknown_key();
  recording_upstream up;
  gateway gw(config(up));
  ASSERT_TRUE(gw.started());
  {
    http_client c(gw.port());
    ASSERT_EQ(c.request("GET", "/one", bearer(key.secret)).status(), 200);
    ASSERT_EQ(c.request("GET", "/two", bearer(key.secret)).status(), 200);
    ASSERT_EQ(c.request("GET", "/three", {{"Cookie", "keygate_session=" + ses.secret}}).status(), 200);
    ASSERT_EQ(c.request("GET", "/four", bearer(bad)).status(), 401);
    ASSERT_EQ(c.request("GET", "/five", bearer(key.secret + "x")).status(), 401);
  }
  ASSERT_TRUE(eventually([&] { return access_lines(gw).size() >= 5; }, 3s)) << gw.log();
  std::map<std::string, nlohmann::json> by_path;
  for (const auto& j : access_lines(gw)) by_path[j.value("path", "")] = j;
  ASSERT_EQ(by_path.count("/one"), 1u);
  EXPECT_EQ(by_path["/one"].value("auth_method", ""), "api_key");
  EXPECT_EQ(by_path["/one"].value("key_id", ""), key.id);
  EXPECT_EQ(by_path["/one"].value("tenant", ""), "acme");
  EXPECT_EQ(by_path["/one"].value("cache_tier", ""), "postgres") << by_path["/one"].dump();
  EXPECT_EQ(by_path["/two"].value("cache_tier", ""), "local") << by_path["/two"].dump();
  EXPECT_EQ(by_path["/three"].value("auth_method", ""), "session");
  EXPECT_EQ(by_path["/three"].value("key_id", by_path["/three"].value("session_id", "")), ses.id);
  const auto log = gw.log();
  for (const auto& s : {key.secret, ses.secret, bad})
    EXPECT_EQ(log.find(s), std::string::npos) << "a raw credential appears in keygate's log";
  const auto metrics = metrics_text(gw);
  for (const auto& s : {key.secret, ses.secret, bad}) EXPECT_EQ(metrics.find(s), std::string::npos);
}

}  // namespace
}  // namespace keygate::itest
