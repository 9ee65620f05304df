// Fail closed (SPEC §4, §6, guarantee 3) against a private Postgres that is really stopped or
// frozen: cached credentials keep working within their TTL, an uncached one gets 503
// auth_unavailable with Retry-After — never 200, also not for an unknown key — a dependency
// error is never cached as "invalid", and keygate recovers without a restart. With
// `on_store_unavailable: serve_cached` expired cache entries are served up to max_stale.
#include <thread>

#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

struct outage_env {
  test::private_postgres pg;
  std::unique_ptr<auth_store> db;
  bool ok = false;
  outage_env() {
    if (!pg.ok()) return;
    db = std::make_unique<auth_store>(pg.url());
    ok = db->ok() && db->tenant("acme") && db->user("acme", "alice", "admin");
  }
};

::testing::AssertionResult is_503(const response& r) {
  auto base = is_json_error(r, 503, {"auth_unavailable"});
  if (!base) return base;
  if (!r.header("Retry-After"))
    return ::testing::AssertionFailure() << "503 without Retry-After: " << r.describe();
  return ::testing::AssertionSuccess();
}

gateway_config outage_config(const recording_upstream& up, const auth_store& db,
                             const std::string& local_ttl) {
  auto cfg = auth_gateway_config(up, db.url());
  cfg.store_postgres(db.url(), {{"pool_size", "2"}, {"query_timeout", "500ms"}});
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}").cache_local("ttl", local_ttl);
  return cfg;
}

TEST(AuthStoreOutage, StoppedPostgresCachedOkUncached503RecoversWithoutRestart) {
  KEYGATE_REQUIRE_PG();
  outage_env svc;
  ASSERT_TRUE(svc.ok) << "private Postgres setup failed";
  const auto& db = *svc.db;
  const auto cached = db.key("acme", "alice");
  const auto uncached = db.key("acme", "alice");
  const auto revoked = db.key("acme", "alice");
  const auto ses = db.session("alice");
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(db.keys("revoke", revoked.id));
  const auto unknown = unknown_key();

  recording_upstream up;
  gateway gw(outage_config(up, db, "60s"));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_EQ(c.request("GET", "/warm", bearer(cached.secret)).status(), 200);
  ASSERT_TRUE(is_401(c.request("GET", "/warm", bearer(revoked.secret)), "key_revoked"));

  ASSERT_TRUE(svc.pg.stop_server()) << "pg_ctl stop failed";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.request("GET", "/cached", bearer(cached.secret)).status(), 200);
    EXPECT_TRUE(is_401(c.request("GET", "/revoked", bearer(revoked.secret)), "key_revoked"));
    EXPECT_TRUE(is_503(c.request("GET", "/uncached", bearer(uncached.secret))));
    EXPECT_TRUE(is_503(c.request("GET", "/unknown", bearer(unknown))));
    EXPECT_TRUE(is_503(c.request("GET", "/session", {{"Cookie", "keygate_session=" + ses.secret}})));
    // Malformed credentials need no store: still a plain 401.
    EXPECT_TRUE(is_401(c.request("GET", "/malformed", bearer("kg_live_bad")), "invalid_api_key"));
  }
  const auto m = metrics_text(gw);
  EXPECT_GE(metric_sum(m, "keygate_auth_fail_closed_total"), 9) << m;
  EXPECT_GE(metric_sum(m, "keygate_cache_lookups_total", {{"tier", "postgres"}, {"outcome", "error"}}), 1)
      << m;
  // Only the cached key (warm-up + 3) reached the upstream.
  EXPECT_EQ(up.request_count(), 4u);

  ASSERT_TRUE(svc.pg.start_server()) << "pg_ctl start failed";
  // The failures were not cached as "invalid": the keys work once Postgres is back.
  EXPECT_TRUE(
      eventually([&] { return c.request("GET", "/back", bearer(uncached.secret)).status() == 200; }, 20s));
  EXPECT_EQ(c.request("GET", "/back", {{"Cookie", "keygate_session=" + ses.secret}}).status(), 200);
  EXPECT_TRUE(is_401(c.request("GET", "/back", bearer(unknown)), "invalid_api_key"));
  EXPECT_TRUE(gw.running());
}

// Postgres unreachable from the start (nothing listens): keygate starts, refuses every
// well-formed credential with 503 (never 200, never a cached "invalid"), and malformed ones with 401.
TEST(AuthStoreOutage, UnreachableFromTheStart) {
  recording_upstream up;
  auto cfg =
      auth_gateway_config(up, "postgresql://keygate@127.0.0.1:" + std::to_string(free_port()) + "/none");
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(is_503(c.request("GET", "/x", bearer(unknown_key()))));
    EXPECT_TRUE(
        is_503(c.request("GET", "/x", {{"Cookie", "keygate_session=" + auth::generate_session_token()}})));
  }
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer("kg_live_bad")), "invalid_api_key"));
  EXPECT_EQ(up.request_count(), 0u);
  EXPECT_EQ(metric(gw, "keygate_auth_fail_closed_total"), 6);
}

// SPEC §8 / issue 4: auth decisions are counted by result *code*; the 503's code is
// auth_unavailable. ENGINE BUG (disabled until fixed): the counter is labelled with the internal
// errc name, result="store_unavailable", so dashboards keyed on the public codes miss every
// fail-closed refusal (seen: keygate_auth_decisions_total{result="store_unavailable"} 9, no
// result="auth_unavailable" sample).
TEST(AuthStoreOutage, DecisionMetricUsesTheResponseCode) {
  recording_upstream up;
  auto cfg =
      auth_gateway_config(up, "postgresql://keygate@127.0.0.1:" + std::to_string(free_port()) + "/none");
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_TRUE(is_503(c.request("GET", "/x", bearer(unknown_key()))));
  const auto m = metrics_text(gw);
  EXPECT_EQ(metric_sum(m, "keygate_auth_decisions_total", {{"result", "auth_unavailable"}}), 1) << m;
  EXPECT_EQ(metric_sum(m, "keygate_auth_decisions_total", {{"result", "store_unavailable"}}), 0) << m;
}

TEST(AuthStoreOutage, FrozenPostgresAnswers503WithinTheQueryDeadline) {
  KEYGATE_REQUIRE_PG();
  outage_env svc;
  ASSERT_TRUE(svc.ok) << "private Postgres setup failed";
  const auto& db = *svc.db;
  const auto cached = db.key("acme", "alice");
  const auto uncached = db.key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  gateway gw(outage_config(up, db, "60s"));
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  ASSERT_EQ(c.request("GET", "/warm", bearer(cached.secret)).status(), 200);

  svc.pg.freeze();
  for (const auto& k : {uncached.secret, unknown_key()}) {
    const auto start = steady::now();
    auto r = c.request("GET", "/frozen", bearer(k), {}, 15s);
    const double s = seconds_since(start);
    EXPECT_TRUE(is_503(r));
    EXPECT_LT(s, 2.5) << "query_timeout is 500ms";
  }
  const auto start = steady::now();
  EXPECT_EQ(c.request("GET", "/cached", bearer(cached.secret)).status(), 200);
  EXPECT_LT(seconds_since(start), 1.0) << "a cached key waited for the frozen store";
  svc.pg.thaw();
  EXPECT_TRUE(
      eventually([&] { return c.request("GET", "/back", bearer(uncached.secret)).status() == 200; }, 20s));
}

TEST(AuthStoreOutage, ServeCachedHonoursMaxStaleAndDenyDoesNot) {
  KEYGATE_REQUIRE_PG();
  outage_env svc;
  ASSERT_TRUE(svc.ok) << "private Postgres setup failed";
  const auto& db = *svc.db;
  const auto key = db.key("acme", "alice");
  const auto uncached = db.key("acme", "alice");
  const auto revoked = db.key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(db.keys("revoke", revoked.id));

  recording_upstream up;
  auto stale_cfg = outage_config(up, db, "300ms");
  stale_cfg.auth("on_store_unavailable", "serve_cached").auth("max_stale", "2s");
  gateway stale(stale_cfg);
  gateway deny(outage_config(up, db, "300ms"));
  ASSERT_TRUE(stale.started() && deny.started());
  http_client cs(stale.port()), cd(deny.port());
  ASSERT_EQ(cs.request("GET", "/w", bearer(key.secret)).status(), 200);
  ASSERT_EQ(cd.request("GET", "/w", bearer(key.secret)).status(), 200);
  ASSERT_TRUE(is_401(cs.request("GET", "/w", bearer(revoked.secret)), "key_revoked"));

  ASSERT_TRUE(svc.pg.stop_server());
  const auto stopped = steady::now();
  std::this_thread::sleep_for(600ms);  // past local.ttl: the entries are stale now
  EXPECT_EQ(cs.request("GET", "/stale", bearer(key.secret)).status(), 200) << "serve_cached within max_stale";
  EXPECT_TRUE(is_401(cs.request("GET", "/stale", bearer(revoked.secret)), "key_revoked")) << "tombstones win";
  EXPECT_TRUE(is_503(cs.request("GET", "/stale", bearer(uncached.secret))));
  EXPECT_TRUE(is_503(cd.request("GET", "/deny", bearer(key.secret)))) << "deny: cached only within local.ttl";
  EXPECT_GE(metric(stale, "keygate_stale_served_total"), 1);

  // Past max_stale (2s after the entry went stale at fill + 300ms) the stale entry is refused too.
  std::this_thread::sleep_until(stopped + 3s);
  EXPECT_TRUE(is_503(cs.request("GET", "/too-stale", bearer(key.secret))));

  ASSERT_TRUE(svc.pg.start_server());
  EXPECT_TRUE(
      eventually([&] { return cs.request("GET", "/back", bearer(key.secret)).status() == 200; }, 20s));
  EXPECT_TRUE(
      eventually([&] { return cd.request("GET", "/back", bearer(key.secret)).status() == 200; }, 20s));
}

}  // namespace
}  // namespace keygate::itest
