// /cache/invalidate with a dependency down (SPEC §5):
//   Postgres stopped → ownership cannot be verified → 503, nothing purged (fail closed): the key
//                      keeps working from cache and its Redis entry is unchanged;
//   Redis stopped    → 503 invalidation_incomplete (retryable) after purging what it could.
// Each uses an instance of its own (private Postgres / private Redis) so other tests are undisturbed.
#include <gtest/gtest.h>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class InternalOutage : public kc::cluster_suite {};

TEST_F(InternalOutage, PostgresStoppedIs503AndNothingIsPurged) {
  test::private_postgres pg;
  ASSERT_TRUE(pg.ok()) << "could not start a private Postgres";
  kc::cluster_db pdb(pg.url());
  ASSERT_TRUE(pdb.ok()) << pdb.error();
  ASSERT_TRUE(pdb.tenant("acme") && pdb.user("acme", "mia", "member") && pdb.user("acme", "alice", "admin"));
  auto o = options("A");
  o.pg_url = pdb.url();
  o.query_timeout = "500ms";
  kc::node a(o);
  ASSERT_TRUE(a.started());
  const auto k = a.create_key("acme", "mia");
  const auto admin = a.create_key("acme", "alice");
  const auto s = a.create_session("mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(a.probe(admin.secret), 200);
  ASSERT_EQ(a.probe_with(kc::cookie(s.secret)), 200);
  // The admin key as caller must be warm in the internal listener's lookup too.
  ASSERT_EQ(a.invalidate_as(kc::bearer(admin.secret), nlohmann::json{{"user_id", "nobody"}}.dump()).status(),
            200);

  resp_client rc(redis_port(redis_url()));
  const auto before = rc.dump(ns());
  ASSERT_TRUE(before.count(ns() + ":k:" + k.hash())) << "the warm key has no Redis entry";

  pg.stop();
  const std::vector<nlohmann::json> bodies{{{"key_hash", k.hash()}},
                                           {{"key_id", k.id}},
                                           {{"session_id", s.id}},
                                           {{"user_id", "mia"}},
                                           {{"tenant_id", "acme"}}};
  for (const auto& caller : {kc::svc(), kc::bearer(admin.secret)}) {
    for (const auto& b : bodies) {
      SCOPED_TRACE(b.dump());
      const auto r = a.invalidate_as(caller, b.dump());
      EXPECT_EQ(r.status(), 503) << r.describe();
      EXPECT_NE(r.json().value("invalidated", -1), 0) << "an unverifiable target must not look unknown";
    }
  }
  EXPECT_EQ(rc.dump(ns()), before) << "Redis changed although ownership could not be verified";
  EXPECT_EQ(a.probe(k.secret), 200) << "the local cache was purged although ownership could not be verified";
  EXPECT_EQ(a.probe_with(kc::cookie(s.secret)), 200);
}

TEST_F(InternalOutage, RedisStoppedIs503InvalidationIncomplete) {
  private_redis redis;
  ASSERT_TRUE(redis.ok()) << "could not start a private Redis";
  kc::node a(options("A", redis));
  ASSERT_TRUE(a.started());
  const auto k = a.create_key("acme", "mia");
  const auto k2 = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(a.probe(k2.secret), 200);
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"));
  redis.kill();

  const auto r = a.invalidate({{"key_id", k.id}});
  EXPECT_TRUE(is_json_error(r, 503, {"invalidation_incomplete"})) << r.describe();
  EXPECT_TRUE(r.header("Retry-After").has_value()) << r.describe();
  // What it could purge (this instance's local cache) it did: the revoked key is rejected here.
  EXPECT_EQ(a.probe(k.secret), 401) << "the local cache still serves a key whose invalidation was attempted";

  // A management mutation must not report success either when it cannot propagate.
  const auto rv = a.api("POST", "/v1/keys/" + k2.id + "/revoke", kc::svc());
  EXPECT_TRUE(is_json_error(rv, 503, {"invalidation_incomplete"})) << rv.describe();
  EXPECT_EQ(a.probe(k2.secret), 401);
}

}  // namespace
}  // namespace keygate::itest
