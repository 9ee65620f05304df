// POST /cache/invalidate tenancy matrix (SPEC §5, guarantee 5): every kind of caller × every
// target kind. Each cell uses a fresh victim key + session of acme/mia that is warm in the node's
// caches and then revoked with SQL behind keygate's back, so the effect of the call is visible:
//   allowed   → 200, the credential is rejected at once and its Redis entry is a tombstone;
//   forbidden → 403 forbidden, nothing purged (the credential is still served from cache and its
//               Redis entry is byte-for-byte unchanged).
#include <gtest/gtest.h>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

using kc::created_key;

const std::vector<std::string> kinds{"key_hash", "key_id", "session_id", "user_id", "tenant_id"};

class InternalTenancy : public kc::cluster_suite {
 protected:
  // expected: kind → status (200 or 403).
  void check_caller(const std::string& label, const header_list& caller,
                    const std::map<std::string, int>& expected) {
    kc::node n(options(label));
    ASSERT_TRUE(n.started());
    for (const auto& kind : kinds) {
      SCOPED_TRACE("caller " + label + ", target " + kind);
      run_cell(n, caller, kind, expected.at(kind));
      if (HasFatalFailure()) return;
    }
  }

  void run_cell(const kc::node& n, const header_list& caller, const std::string& kind, int expected) {
    const created_key k = n.create_key("acme", "mia");
    const created_key s = n.create_session("mia");
    ASSERT_FALSE(k.id.empty());
    ASSERT_FALSE(s.id.empty());
    ASSERT_EQ(n.probe(k.secret), 200);
    ASSERT_EQ(n.probe_with(kc::cookie(s.secret)), 200);
    ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"));
    ASSERT_TRUE(db().exec("UPDATE sessions SET revoked_at = now() WHERE id = '" + s.id + "'"));

    const bool session_target = kind == "session_id";
    const std::string redis_key = ns() + (session_target ? ":s:" + s.hash() : ":k:" + k.hash());
    resp_client rc(redis_port(redis_url()));
    const auto before = rc.get(redis_key);
    ASSERT_TRUE(before.has_value()) << "the warm credential has no Redis entry " << redis_key;

    nlohmann::json body;
    if (kind == "key_hash")
      body[kind] = k.hash();
    else if (kind == "key_id")
      body[kind] = k.id;
    else if (kind == "session_id")
      body[kind] = s.id;
    else if (kind == "user_id")
      body[kind] = "mia";
    else
      body[kind] = "acme";
    const auto r = n.invalidate_as(caller, body.dump());
    const auto probe = [&] {
      return session_target ? n.probe_with(kc::cookie(s.secret)) : n.probe(k.secret);
    };

    if (expected == 200) {
      ASSERT_EQ(r.status(), 200) << r.describe();
      const auto j = r.json();
      ASSERT_TRUE(j.is_object() && j.contains("invalidated") && j["invalidated"].is_number_integer())
          << r.describe();
      if (kind == "user_id" || kind == "tenant_id")
        EXPECT_GE(j["invalidated"].get<int>(), 1) << r.describe();
      else
        EXPECT_EQ(j["invalidated"].get<int>(), 1) << r.describe();
      EXPECT_TRUE(j.contains("request_id")) << r.describe();
      EXPECT_EQ(probe(), 401) << "the revoked credential is still accepted after a 200 invalidation";
      const auto after = rc.get(redis_key);
      ASSERT_TRUE(after.has_value()) << "expected a tombstone at " << redis_key;
      EXPECT_NE(after->find("\"rev\""), std::string::npos) << "not a tombstone: " << *after;
    } else {
      EXPECT_TRUE(is_json_error(r, 403, {"forbidden"})) << r.describe();
      EXPECT_EQ(probe(), 200) << "a refused invalidation purged the node's local cache";
      EXPECT_EQ(rc.get(redis_key), before) << "a refused invalidation changed Redis";
    }
  }

  // A live key of tenant/user (made through a short-lived node of this test's namespace).
  created_key caller_key(const std::string& tenant, const std::string& user,
                         nlohmann::json extra = nlohmann::json::object()) {
    kc::node maker(options("maker"));
    return maker.create_key(tenant, user, std::move(extra));
  }
};

const std::map<std::string, int> all_allowed{
    {"key_hash", 200}, {"key_id", 200}, {"session_id", 200}, {"user_id", 200}, {"tenant_id", 200}};
const std::map<std::string, int> all_forbidden{
    {"key_hash", 403}, {"key_id", 403}, {"session_id", 403}, {"user_id", 403}, {"tenant_id", 403}};
const std::map<std::string, int> own_only{
    {"key_hash", 200}, {"key_id", 200}, {"session_id", 200}, {"user_id", 200}, {"tenant_id", 403}};

TEST_F(InternalTenancy, ServiceTokenMayTargetAnything) {
  check_caller("service", kc::svc(), all_allowed);
}

TEST_F(InternalTenancy, TenantAdminMayTargetAnythingInItsTenant) {
  const auto k = caller_key("acme", "alice");
  check_caller("alice-admin", kc::bearer(k.secret), all_allowed);
}

TEST_F(InternalTenancy, TenantOwnerMayTargetAnythingInItsTenant) {
  const auto k = caller_key("acme", "olga");
  check_caller("olga-owner", {{"X-API-Key", k.secret}}, all_allowed);
}

TEST_F(InternalTenancy, MemberMayTargetItsOwnCredentialsButNotTheTenant) {
  const auto k = caller_key("acme", "mia");
  check_caller("mia-member", kc::bearer(k.secret), own_only);
}

TEST_F(InternalTenancy, MemberSessionCookieIsScopedLikeItsKey) {
  kc::node maker(options("maker"));
  const auto s = maker.create_session("mia");
  check_caller("mia-session", kc::cookie(s.secret), own_only);
}

TEST_F(InternalTenancy, MemberCannotTargetAnotherUsersCredentials) {
  const auto k = caller_key("acme", "max");
  check_caller("max-member", kc::bearer(k.secret), all_forbidden);
}

TEST_F(InternalTenancy, ViewerKeyHasNoRightsOnOtherUsers) {
  const auto k = caller_key("acme", "bob");
  check_caller("bob-viewer", kc::bearer(k.secret), all_forbidden);
}

TEST_F(InternalTenancy, AdminUsersKeyWithMemberRoleActsAsMember) {
  // role = min(key role, user role): alice is admin, this key only member.
  const auto k = caller_key("acme", "alice", {{"role", "member"}});
  check_caller("alice-member-key", kc::bearer(k.secret), all_forbidden);
}

TEST_F(InternalTenancy, OtherTenantsAdminIsForbiddenEvenWithTenantHints) {
  const auto k = caller_key("globex", "gina");
  // Tenancy never comes from anything the client writes: these headers must not matter.
  header_list h = kc::bearer(k.secret);
  h.push_back({"X-Keygate-Tenant-Id", "acme"});
  h.push_back({"X-Tenant-Id", "acme"});
  check_caller("gina-other-tenant", h, all_forbidden);
}

// Unknown (well-formed) targets: 200 {"invalidated": 0}, for cross-tenant and tenant-scoped callers.
TEST_F(InternalTenancy, UnknownTargetsAnswerZero) {
  kc::node n(options("A"));
  ASSERT_TRUE(n.started());
  const auto mine = n.create_key("acme", "mia");
  const auto real_session = n.create_session("mia");
  auto unknown_id = [](std::string id) {
    for (std::size_t i = 4; i < id.size(); ++i) id[i] = '0';
    return id;
  };
  const std::vector<nlohmann::json> bodies{
      {{"key_hash", kc::sha256(kc::fresh_key())}},
      {{"key_id", unknown_id(mine.id)}},
      {{"session_id", unknown_id(real_session.id)}},
      {{"user_id", "nobody-at-all"}},
      {{"tenant_id", "no-such-tenant"}},
  };
  resp_client rc(redis_port(redis_url()));
  const auto before = rc.dump(ns());
  for (const auto& caller : {kc::svc(), kc::bearer(mine.secret)}) {
    for (const auto& b : bodies) {
      SCOPED_TRACE(b.dump());
      const auto r = n.invalidate_as(caller, b.dump());
      ASSERT_EQ(r.status(), 200) << r.describe();
      EXPECT_EQ(r.json().value("invalidated", -1), 0) << r.describe();
    }
  }
  EXPECT_EQ(rc.dump(ns()), before) << "an unknown target changed Redis";
}

// A user/tenant target covers every credential of the user/tenant: a backend that disables a user
// (or a tenant's API access) in SQL and invalidates by user_id/tenant_id expects the user's keys
// AND sessions to stop working at once.
TEST_F(InternalTenancy, UserAndTenantTargetsCoverSessionsToo) {
  kc::node a(options("A"));
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(db().user("acme", "temp-user", "member"));
  const auto k = a.create_key("acme", "temp-user");
  const auto s = a.create_session("temp-user");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(a.probe_with(kc::cookie(s.secret)), 200);
  ASSERT_TRUE(db().exec("UPDATE users SET disabled_at = now() WHERE id = 'temp-user'"));
  const auto r = a.invalidate({{"user_id", "temp-user"}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(a.probe(k.secret), 401) << "the disabled user's key is still accepted";
  EXPECT_EQ(a.probe_with(kc::cookie(s.secret)), 401) << "the disabled user's session is still accepted after "
                                                        "invalidating the user";
  EXPECT_GE(r.json().value("invalidated", 0), 2) << "expected the key and the session: " << r.describe();

  ASSERT_TRUE(db().tenant("temp-tenant"));
  ASSERT_TRUE(db().user("temp-tenant", "temp-owner", "owner"));
  const auto tk = a.create_key("temp-tenant", "temp-owner");
  const auto ts = a.create_session("temp-owner");
  ASSERT_EQ(a.probe(tk.secret), 200);
  ASSERT_EQ(a.probe_with(kc::cookie(ts.secret)), 200);
  ASSERT_TRUE(db().exec("UPDATE tenants SET api_access = false WHERE id = 'temp-tenant'"));
  const auto rt = a.invalidate({{"tenant_id", "temp-tenant"}});
  ASSERT_EQ(rt.status(), 200) << rt.describe();
  EXPECT_NE(a.probe(tk.secret), 200) << "a key of a tenant without API access is still accepted";
  EXPECT_NE(a.probe_with(kc::cookie(ts.secret)), 200)
      << "a session of a tenant without API access is still accepted after invalidating the tenant";
}

// No or invalid caller credentials → 401 (and nothing purged).
TEST_F(InternalTenancy, MissingOrInvalidCallerCredentialIs401) {
  kc::node n(options("A"));
  ASSERT_TRUE(n.started());
  const auto victim = n.create_key("acme", "mia");
  const auto revoked_caller = n.create_key("acme", "alice");
  ASSERT_EQ(n.probe(victim.secret), 200);
  ASSERT_EQ(n.probe(revoked_caller.secret), 200);
  ASSERT_EQ(n.api("POST", "/v1/keys/" + revoked_caller.id + "/revoke", kc::svc()).status(), 200);
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + victim.id + "'"));
  const std::string body = nlohmann::json{{"key_id", victim.id}}.dump();
  const std::vector<std::pair<std::string, header_list>> callers{
      {"none", {}},
      {"wrong service token", kc::bearer("kgsvc-not-the-token")},
      {"service token as X-API-Key", {{"X-API-Key", kc::service_token}}},
      {"unknown key", kc::bearer(kc::fresh_key())},
      {"malformed key", kc::bearer("kg_live_garbage")},
      {"revoked key", kc::bearer(revoked_caller.secret)},
      {"unknown session", kc::cookie("not-a-session")},
      {"basic auth", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}},
  };
  for (const auto& [label, h] : callers) {
    SCOPED_TRACE(label);
    const auto r = n.invalidate_as(h, body);
    EXPECT_EQ(r.status(), 401) << r.describe();
    EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Bearer realm=\"keygate\"") << r.describe();
  }
  EXPECT_EQ(n.probe(victim.secret), 200) << "an unauthenticated call purged the cache";
}

}  // namespace
}  // namespace keygate::itest
