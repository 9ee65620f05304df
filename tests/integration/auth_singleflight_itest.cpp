// SPEC §6: concurrent misses for one hash cause one Redis read and at most one Postgres query per
// instance. 50 first requests for one cold key are held at Postgres (LOCK TABLE api_keys in
// another session) until all 50 have missed the local cache, then released: exactly one
// find_key_by_hash execution (pg_stat_statements of the test database) and one Redis GET
// (commandstats of a private Redis), and 50 × 200.
#include <thread>

#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthSingleflight : public auth_db_suite {};

TEST_F(AuthSingleflight, FiftyConcurrentFirstRequestsCauseOnePostgresQuery) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  private_redis redis;
  ASSERT_TRUE(redis.ok());
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.workers = 2;
  cfg.store_postgres(db().url(), {{"pool_size", "4"}, {"query_timeout", "20s"}});
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}")
      .cache_redis(redis.url(), unique_namespace(), "1s");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());

  constexpr int n = 50;
  std::vector<std::unique_ptr<http_client>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<http_client>(gw.port()));
  resp_client rc(redis.port());
  const auto gets_before = rc.commandstats()["get"];
  const auto pg_before = db().key_lookups();
  ASSERT_TRUE(pg_before);

  // Hold every lookup at Postgres.
  pg_session locker(db().url());
  ASSERT_TRUE(locker.exec("BEGIN")) << locker.error();
  ASSERT_TRUE(locker.exec("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")) << locker.error();

  std::vector<int> status(n, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back(
        [&, i] { status[i] = clients[i]->request("GET", "/sf", bearer(key.secret), {}, 30s).status(); });

  const bool all_missed = eventually(
      [&] {
        return metric(gw, "keygate_cache_lookups_total", {{"tier", "local"}, {"outcome", "miss"}}) >= n;
      },
      15s);
  pg_session watcher(db().admin_url());
  const bool waiting = eventually(
      [&] {
        auto v = watcher.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db().db_name() +
                                "' AND wait_event_type = 'Lock'");
        return v && std::atoi(v->c_str()) >= 1;
      },
      10s);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(locker.exec("COMMIT")) << locker.error();
  for (auto& t : threads) t.join();
  ASSERT_TRUE(all_missed) << "not all 50 requests reached the lookup: " << metrics_text(gw);
  EXPECT_TRUE(waiting) << "no lookup was waiting on the table lock";

  int ok = 0;
  for (int s : status) ok += s == 200;
  EXPECT_EQ(ok, n);
  EXPECT_EQ(*db().key_lookups() - *pg_before, 1)
      << "Postgres lookups for one hash under 50 concurrent misses";
  EXPECT_EQ(rc.commandstats()["get"] - gets_before, 1)
      << "Redis reads for one hash under 50 concurrent misses";
  const auto m = metrics_text(gw);
  EXPECT_EQ(metric_sum(m, "keygate_cache_lookups_total", {{"tier", "postgres"}, {"outcome", "hit"}}), 1) << m;
}

}  // namespace
}  // namespace keygate::itest
