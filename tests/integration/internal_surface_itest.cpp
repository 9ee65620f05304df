// The internal listener's surface (issue 5 items 1, 4, 5; guarantee 6):
//   - internal endpoints are not reachable through the public listener;
//   - every internal response carries X-Content-Type-Options: nosniff and Cache-Control: no-store;
//   - list/show/mutation views never contain a secret or a hash (only create/rotate show the
//     secret, once); audit events neither;
//   - sessions are managed with a service token only.
#include <gtest/gtest.h>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class InternalSurface : public kc::cluster_suite {};

TEST_F(InternalSurface, InternalEndpointsAreNotReachableThroughThePublicListener) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto admin = a.create_key("acme", "alice");
  const auto victim = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(victim.secret), 200);
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + victim.id + "'"));
  const auto keys_before = db().scalar("SELECT count(*) FROM api_keys");
  const auto upstream_before = upstream().request_count();

  struct call {
    std::string method, target, body;
  };
  const std::vector<call> calls{
      {"POST", "/cache/invalidate", nlohmann::json{{"key_id", victim.id}}.dump()},
      {"POST", "/cache/invalidate", nlohmann::json{{"tenant_id", "acme"}}.dump()},
      {"POST", "/v1/keys", R"({"tenant_id":"acme","user_id":"alice","name":"via-public"})"},
      {"GET", "/v1/keys?tenant_id=acme", ""},
      {"GET", "/v1/keys/" + victim.id, ""},
      {"POST", "/v1/keys/" + admin.id + "/rotate", R"({"grace_seconds":0})"},
      {"DELETE", "/v1/keys/" + admin.id, ""},
      {"POST", "/v1/sessions", R"({"user_id":"mia","ttl_seconds":60})"},
      {"GET", "/v1/audit", ""},
  };
  // With the service token: not an end-user credential on the public path → 401 from keygate's
  // public auth, never an internal-API answer.
  for (const auto& c : calls) {
    SCOPED_TRACE("service token: " + c.method + " " + c.target);
    http_client cl(a.port());
    auto h = kc::svc();
    if (!c.body.empty()) h.push_back({"Content-Type", "application/json"});
    const auto r = cl.request(c.method, c.target, h, c.body);
    EXPECT_EQ(r.status(), 401) << r.describe();
  }
  // With a valid admin key: the public listener proxies them to the upstream like any path.
  for (const auto& c : calls) {
    SCOPED_TRACE("admin key: " + c.method + " " + c.target);
    http_client cl(a.port());
    auto h = kc::bearer(admin.secret);
    if (!c.body.empty()) h.push_back({"Content-Type", "application/json"});
    const auto r = cl.request(c.method, c.target, h, c.body);
    const auto j = r.json();
    EXPECT_FALSE(j.is_object() && (j.contains("invalidated") || j.contains("secret") || j.contains("keys") ||
                                   j.contains("events")))
        << "the public listener answered like the internal API: " << r.describe();
  }
  EXPECT_GE(upstream().request_count(), upstream_before + calls.size())
      << "the upstream did not see the calls";
  EXPECT_EQ(db().scalar("SELECT count(*) FROM api_keys"), keys_before)
      << "a key was created through the public listener";
  EXPECT_EQ(a.probe(victim.secret), 200) << "an invalidation went through the public listener";
  EXPECT_EQ(a.probe(admin.secret), 200) << "the admin key was revoked/rotated through the public listener";
}

TEST_F(InternalSurface, EveryInternalResponseHasSecurityHeaders) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto k = a.create_key("acme", "mia");
  const auto other = a.create_key("globex", "gus");
  struct call {
    std::string method, target;
    header_list h;
    std::string body;
  };
  const std::vector<call> calls{
      {"GET", "/healthz", {}, ""},
      {"GET", "/readyz", {}, ""},
      {"GET", "/version", {}, ""},
      {"GET", "/metrics", {}, ""},
      {"GET", "/no-such-endpoint", {}, ""},
      {"POST", "/cache/invalidate", kc::svc(), R"({"key_id":")" + k.id + "\"}"},                 // 200
      {"POST", "/cache/invalidate", {}, R"({"key_id":")" + k.id + "\"}"},                        // 401
      {"POST", "/cache/invalidate", kc::bearer(k.secret), R"({"key_id":")" + other.id + "\"}"},  // 403
      {"POST", "/cache/invalidate", kc::svc(), "{"},                                             // 400
      {"POST", "/cache/invalidate", kc::svc(), "{}"},                                            // 422
      {"GET", "/cache/invalidate", kc::svc(), ""},                                               // 405
      {"GET", "/v1/keys?tenant_id=acme", kc::svc(), ""},
      {"GET", "/v1/keys/" + k.id, kc::svc(), ""},
      {"GET", "/v1/keys/key_0000000000000000000000", kc::svc(), ""},
      {"POST", "/v1/keys", kc::svc(), R"({"tenant_id":"acme","user_id":"mia","name":"hdr"})"},  // 201
      {"GET", "/v1/audit", kc::svc(), ""},
  };
  for (const auto& c : calls) {
    SCOPED_TRACE(c.method + " " + c.target);
    const auto r = a.api(c.method, c.target, c.h, c.body);
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.header("X-Content-Type-Options").value_or(""), "nosniff") << r.describe();
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << r.describe();
  }
  // 413 (answered from the declared length).
  auto ex = exchange_raw(a.internal_port(),
                         "POST /cache/invalidate HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{", 5s,
                         0, 0ms, "POST");
  ASSERT_FALSE(ex.responses.empty());
  const auto& r = ex.responses.front();
  EXPECT_EQ(r.status(), 413) << r.describe();
  EXPECT_EQ(r.header("X-Content-Type-Options").value_or(""), "nosniff") << r.describe();
  EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << r.describe();
}

// No response after creation contains the secret or the key's hash.
TEST_F(InternalSurface, ListShowAndMutationsNeverReturnHashOrSecret) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto create = a.api("POST", "/v1/keys", kc::svc(),
                            R"({"tenant_id":"acme","user_id":"mia","name":"masked","scopes":["read"]})");
  ASSERT_EQ(create.status(), 201) << create.describe();
  const auto cj = create.json();
  ASSERT_TRUE(cj.contains("secret") && cj["secret"].is_string());
  const std::string id = cj["id"], secret = cj["secret"];
  const std::string hash = kc::sha256(secret);
  EXPECT_EQ(create.body.find(hash), std::string::npos) << "the create response carries the hash";
  EXPECT_FALSE(cj.contains("key_hash") || cj.contains("hash"));
  const auto member = a.create_key("acme", "mia");

  const auto no_secret = [&](const response& r, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_LT(r.status(), 300) << r.describe();
    EXPECT_EQ(r.body.find(secret), std::string::npos) << "secret in " << r.describe();
    EXPECT_EQ(r.body.find(secret.substr(secret.size() - 16)), std::string::npos)
        << "secret tail in " << r.describe();
    EXPECT_EQ(r.body.find(hash), std::string::npos) << "hash in " << r.describe();
    EXPECT_EQ(r.body.find(member.secret), std::string::npos) << "another key's secret in " << r.describe();
    EXPECT_EQ(r.body.find(member.hash()), std::string::npos) << "another key's hash in " << r.describe();
    EXPECT_EQ(r.body.find("\"secret\""), std::string::npos) << r.describe();
    EXPECT_EQ(r.body.find("key_hash"), std::string::npos) << r.describe();
  };
  no_secret(a.api("GET", "/v1/keys?tenant_id=acme", kc::svc()), "list (service, tenant)");
  no_secret(a.api("GET", "/v1/keys?tenant_id=acme&user_id=mia", kc::svc()), "list (service, user)");
  no_secret(a.api("GET", "/v1/keys", kc::bearer(member.secret)), "list (member)");
  no_secret(a.api("GET", "/v1/keys/" + id, kc::svc()), "show (service)");
  no_secret(a.api("GET", "/v1/keys/" + id, kc::bearer(member.secret)), "show (member)");
  no_secret(a.api("POST", "/v1/keys/" + id + "/disable", kc::svc()), "disable");
  no_secret(a.api("POST", "/v1/keys/" + id + "/enable", kc::svc()), "enable");

  const auto rot = a.api("POST", "/v1/keys/" + id + "/rotate", kc::svc(), R"({"grace_seconds":60})");
  ASSERT_EQ(rot.status(), 201) << rot.describe();
  const auto rj = rot.json();
  ASSERT_TRUE(rj.contains("old_key") && rj["old_key"].is_object()) << rot.describe();
  EXPECT_FALSE(rj["old_key"].contains("secret")) << rot.describe();
  EXPECT_EQ(rot.body.find(secret), std::string::npos) << "the old secret in the rotate response";
  EXPECT_EQ(rot.body.find(hash), std::string::npos) << "the old hash in the rotate response";
  const std::string new_secret = rj.value("secret", "");
  EXPECT_EQ(rot.body.find(kc::sha256(new_secret)), std::string::npos)
      << "the new hash in the rotate response";

  const auto show_new = a.api("GET", "/v1/keys/" + rj.value("id", ""), kc::svc());
  EXPECT_EQ(show_new.body.find(new_secret), std::string::npos) << show_new.describe();
  no_secret(a.api("DELETE", "/v1/keys/" + id, kc::svc()), "revoke");
  no_secret(a.api("GET", "/v1/audit", kc::svc()), "audit (service)");
  const auto admin = a.create_key("acme", "alice");
  no_secret(a.api("GET", "/v1/audit", kc::bearer(admin.secret)), "audit (tenant admin)");
  const auto audit = a.api("GET", "/v1/audit", kc::svc());
  EXPECT_EQ(audit.body.find(new_secret), std::string::npos);
  EXPECT_EQ(audit.body.find(kc::service_token), std::string::npos) << "the service token in audit events";
  EXPECT_EQ(a.log().find(secret), std::string::npos) << "the secret in keygate's log";
  EXPECT_EQ(a.log().find(kc::service_token), std::string::npos) << "the service token in keygate's log";
}

TEST_F(InternalSurface, SessionsAreServiceTokenOnly) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  const auto admin = a.create_key("acme", "alice");
  const auto s = a.create_session("mia");
  ASSERT_FALSE(s.id.empty());
  const auto create =
      a.api("POST", "/v1/sessions", kc::bearer(admin.secret), R"({"user_id":"mia","ttl_seconds":60})");
  EXPECT_TRUE(is_json_error(create, 403, {"forbidden"})) << create.describe();
  const auto del = a.api("DELETE", "/v1/sessions/" + s.id, kc::bearer(admin.secret));
  EXPECT_TRUE(is_json_error(del, 403, {"forbidden"})) << del.describe();
  EXPECT_EQ(a.probe_with(kc::cookie(s.secret)), 200);
  const auto by_cookie =
      a.api("POST", "/v1/sessions", kc::cookie(s.secret), R"({"user_id":"mia","ttl_seconds":60})");
  EXPECT_TRUE(is_json_error(by_cookie, 403, {"forbidden"})) << by_cookie.describe();
}

}  // namespace
}  // namespace keygate::itest
