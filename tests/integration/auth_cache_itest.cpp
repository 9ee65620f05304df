// The tiered lookup seen from outside (SPEC §6, §8): the first request of a key goes local miss →
// Redis miss → Postgres hit and fills Redis; the second is a local hit; another instance on the
// same namespace answers from Redis; an unknown well-formed key leaves a negative sentinel
// `<ns>:k:<sha256>` ({"f":false}) for at most negative_ttl and is answered from it afterwards.
#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthCache : public auth_db_suite {
 protected:
  void SetUp() override {
    auth_db_suite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    KEYGATE_REQUIRE_REDIS();
    redis_url_ = *env("KEYGATE_TEST_REDIS_URL");
    redis_port_ = static_cast<unsigned short>(std::stoi(env("KEYGATE_TEST_REDIS_PORT").value_or("0")));
  }
  gateway_config config(const recording_upstream& up, const std::string& ns) const {
    auto cfg = auth_gateway_config(up, db().url());
    cfg.route("{match: {prefix: /}, upstream: app, auth: required}")
        .cache_redis(redis_url_, ns, "500ms")
        .cache_local("ttl", "30s")
        .cache("positive_ttl", "60s")
        .cache("negative_ttl", "10s");
    return cfg;
  }
  std::string redis_url_;
  unsigned short redis_port_ = 0;
};

double lookups(const std::string& text, const char* tier, const char* outcome) {
  return metric_sum(text, "keygate_cache_lookups_total", {{"tier", tier}, {"outcome", outcome}});
}

TEST_F(AuthCache, SecondRequestIsALocalHitAndRedisIsFilled) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  const auto ns = unique_namespace();
  recording_upstream up;
  gateway gw(config(up, ns));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());

  const auto before = db().key_lookups();
  ASSERT_EQ(c.request("GET", "/1", bearer(key.secret)).status(), 200);
  const auto m1 = metrics_text(gw);
  EXPECT_EQ(lookups(m1, "local", "miss"), 1) << m1;
  EXPECT_EQ(lookups(m1, "redis", "miss"), 1) << m1;
  EXPECT_EQ(lookups(m1, "postgres", "hit"), 1) << m1;
  EXPECT_EQ(lookups(m1, "local", "hit"), 0) << m1;

  ASSERT_EQ(c.request("GET", "/2", bearer(key.secret)).status(), 200);
  const auto m2 = metrics_text(gw);
  EXPECT_EQ(lookups(m2, "local", "hit"), 1) << m2;
  EXPECT_EQ(lookups(m2, "local", "miss"), 1) << m2;
  EXPECT_EQ(lookups(m2, "redis", "miss") + lookups(m2, "redis", "hit"), 1) << m2;
  EXPECT_EQ(lookups(m2, "postgres", "hit"), 1) << m2;
  EXPECT_EQ(*db().key_lookups(), *before + 1) << "the second request reached Postgres";
  EXPECT_EQ(metric_sum(m2, "keygate_auth_decisions_total", {{"result", "ok"}}), 2);

  // The Redis tier holds a positive entry for the key's hash, TTL ≤ positive_ttl.
  resp_client redis(redis_port_);
  const auto value = redis.get(redis_key(ns, 'k', key.secret));
  ASSERT_TRUE(value) << "no Redis entry at " << redis_key(ns, 'k', key.secret);
  const auto j = nlohmann::json::parse(*value, nullptr, false);
  EXPECT_EQ(j.value("f", false), true) << *value;
  EXPECT_EQ(value->find(key.secret), std::string::npos) << "raw key stored in Redis";
  const auto ttl = redis.pttl(redis_key(ns, 'k', key.secret));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 60000);

  // A second instance on the same namespace answers from Redis, without Postgres.
  recording_upstream up2;
  gateway gw2(config(up2, ns));
  ASSERT_TRUE(gw2.started());
  http_client c2(gw2.port());
  ASSERT_EQ(c2.request("GET", "/3",
                       {{"Authorization", "Bearer " + key.secret}, {"X-Request-Id", "req-redis-tier-1"}})
                .status(),
            200);
  const auto m3 = metrics_text(gw2);
  EXPECT_EQ(lookups(m3, "redis", "hit"), 1) << m3;
  EXPECT_EQ(lookups(m3, "postgres", "hit"), 0) << m3;
  EXPECT_EQ(*db().key_lookups(), *before + 1);
  ASSERT_TRUE(eventually([&] { return !access_lines(gw2).empty(); }, 3s));
  EXPECT_EQ(access_lines(gw2).back().value("cache_tier", ""), "redis") << access_lines(gw2).back().dump();
}

TEST_F(AuthCache, UnknownKeyLeavesANegativeSentinel) {
  const auto ns = unique_namespace();
  recording_upstream up;
  gateway gw(config(up, ns));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  const auto unknown = unknown_key();
  const auto rkey = redis_key(ns, 'k', unknown);
  resp_client redis(redis_port_);
  ASSERT_TRUE(redis.connected());
  ASSERT_FALSE(redis.get(rkey));

  const auto before = *db().key_lookups();
  EXPECT_TRUE(is_401(c.request("GET", "/u", bearer(unknown)), "invalid_api_key"));
  const auto value = redis.get(rkey);
  ASSERT_TRUE(value) << "no negative sentinel at " << rkey;
  const auto j = nlohmann::json::parse(*value, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << *value;
  EXPECT_EQ(j.value("f", true), false) << *value;
  const auto ttl = redis.pttl(rkey);
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 0) << "negative sentinel without expiry";
  EXPECT_LE(*ttl, 10000) << "negative sentinel outlives negative_ttl";

  // Repeats are answered by the caches (local negative), not Postgres.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(is_401(c.request("GET", "/u", bearer(unknown)), "invalid_api_key"));
  EXPECT_EQ(*db().key_lookups(), before + 1);
  const auto m = metrics_text(gw);
  EXPECT_EQ(lookups(m, "postgres", "negative"), 1) << m;
  EXPECT_EQ(lookups(m, "local", "negative"), 5) << m;

  // Another instance gets the negative answer from Redis.
  recording_upstream up2;
  gateway gw2(config(up2, ns));
  ASSERT_TRUE(gw2.started());
  http_client c2(gw2.port());
  EXPECT_TRUE(is_401(c2.request("GET", "/u", bearer(unknown)), "invalid_api_key"));
  EXPECT_EQ(lookups(metrics_text(gw2), "redis", "negative"), 1);
  EXPECT_EQ(*db().key_lookups(), before + 1);

  // Unknown session tokens get their own sentinel in the session space.
  const auto token = auth::generate_session_token();
  EXPECT_TRUE(is_401(c.request("GET", "/s", {{"Cookie", "keygate_session=" + token}}), "invalid_session"));
  const auto sv = redis.get(redis_key(ns, 's', token));
  ASSERT_TRUE(sv) << "no negative sentinel at " << redis_key(ns, 's', token);
  EXPECT_EQ(nlohmann::json::parse(*sv, nullptr, false).value("f", true), false) << *sv;
}

TEST_F(AuthCache, PositiveEntryNeverOutlivesExpiresAt) {
  const auto expires = std::chrono::system_clock::now() + std::chrono::seconds(20);
  const auto key = db().key("acme", "alice", {"--expires-at", rfc3339(expires)});
  ASSERT_FALSE(HasFailure());
  const auto ns = unique_namespace();
  recording_upstream up;
  gateway gw(config(up, ns));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_EQ(c.request("GET", "/e", bearer(key.secret)).status(), 200);
  resp_client redis(redis_port_);
  const auto ttl = redis.pttl(redis_key(ns, 'k', key.secret));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 21000) << "positive_ttl is 60s but the key expires in ≤ 20s";
}

}  // namespace
}  // namespace keygate::itest
