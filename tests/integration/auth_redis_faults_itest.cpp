// Redis faults mid-traffic (SPEC §6, guarantee 8): a private Redis is killed, restarted on the same
// port and frozen (SIGSTOP) while two clients keep sending authenticated requests. Every request is
// 200 (local cache + Postgres), none waits past the Redis deadline (+ slack), the errors are
// counted (keygate_dependency_errors_total{dependency="redis"}, keygate_redis_breaker_open), and
// after the restart keygate uses Redis again (entries re-filled) and drops its local cache.
#include <atomic>
#include <mutex>
#include <thread>

#include "integration/support/auth_env.hpp"

namespace keygate::itest {
namespace {

class AuthRedisFaults : public auth_db_suite {};

struct traffic_log {
  std::mutex m;
  std::size_t total = 0;
  std::vector<std::string> failures;
  double max_seconds = 0;
  std::string phase = "healthy";
};

TEST_F(AuthRedisFaults, KilledFrozenRestartedRedisCostsRequestsNothing) {
  std::vector<created> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(db().key("acme", "alice"));
  ASSERT_FALSE(HasFailure());
  private_redis redis;
  ASSERT_TRUE(redis.ok());
  const auto ns = unique_namespace();
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  // local ttl 1ms: (nearly) every request goes to Redis, and to Postgres when Redis fails.
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}")
      .cache_redis(redis.url(), ns, "50ms")
      .cache_local("ttl", "1ms");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  constexpr auto deadline_plus_slack = 1000ms;  // 50 ms Redis deadline + generous slack

  traffic_log traffic;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t)
    clients.emplace_back([&, t] {
      auto c = std::make_unique<http_client>(gw.port());
      for (std::size_t i = 0; !stop; ++i) {
        const auto& k = keys[(i + static_cast<std::size_t>(t)) % keys.size()];
        const auto start = steady::now();
        auto r = c->request("GET", "/t", bearer(k.secret), {}, 15s);
        const double s = seconds_since(start);
        std::lock_guard lock(traffic.m);
        ++traffic.total;
        traffic.max_seconds = std::max(traffic.max_seconds, s);
        if (r.status() != 200 || s > std::chrono::duration<double>(deadline_plus_slack).count())
          if (traffic.failures.size() < 20)
            traffic.failures.push_back(traffic.phase + ": status " + std::to_string(r.status()) + " after " +
                                       std::to_string(s) + "s " + r.error);
        if (!r.complete) c = std::make_unique<http_client>(gw.port());
        std::this_thread::sleep_for(5ms);
      }
    });
  const auto phase = [&](const char* name) {
    std::lock_guard lock(traffic.m);
    traffic.phase = name;
  };
  const auto count = [&] {
    std::lock_guard lock(traffic.m);
    return traffic.total;
  };
  const auto run_for = [&](millis d) {
    const auto n = count();
    std::this_thread::sleep_for(d);
    EXPECT_GT(count(), n + 5) << "traffic stalled";
  };

  run_for(500ms);
  resp_client rc(redis.port());
  EXPECT_TRUE(rc.get(redis_key(ns, 'k', keys[0].secret))) << "Redis not filled while healthy";

  phase("killed");
  redis.kill();
  run_for(1500ms);
  EXPECT_TRUE(eventually(
      [&] {
        return metric(gw, "keygate_dependency_errors_total", {{"dependency", "redis"}}) > 0;
      },
      3s))
      << metrics_text(gw);
  EXPECT_TRUE(eventually([&] { return metric(gw, "keygate_redis_breaker_open") > 0; }, 3s))
      << metrics_text(gw);

  phase("restarted");
  const auto log_mark = gw.log_size();
  ASSERT_TRUE(redis.restart());
  EXPECT_TRUE(eventually([&] { return metric(gw, "keygate_redis_breaker_open") == 0; }, 20s))
      << metrics_text(gw);
  EXPECT_TRUE(gw.wait_for_log("dropping the local credential cache", 5s, log_mark));
  resp_client rc2(redis.port());
  EXPECT_TRUE(eventually([&] { return rc2.get(redis_key(ns, 'k', keys[1].secret)).has_value(); }, 5s))
      << "keygate did not use the restarted Redis";
  run_for(500ms);

  phase("frozen");
  redis.freeze();
  run_for(2000ms);
  phase("thawed");
  redis.thaw();
  EXPECT_TRUE(eventually([&] { return metric(gw, "keygate_redis_breaker_open") == 0; }, 20s))
      << metrics_text(gw);
  run_for(500ms);

  stop = true;
  for (auto& t : clients) t.join();
  std::string all;
  for (const auto& f : traffic.failures) all += "  " + f + "\n";
  EXPECT_TRUE(traffic.failures.empty()) << traffic.total << " requests, max " << traffic.max_seconds << "s\n"
                                        << all;
  RecordProperty("requests", static_cast<int>(traffic.total));
  RecordProperty("max_ms", static_cast<int>(traffic.max_seconds * 1000));
}

// A Redis that was never reachable: keygate starts and serves from Postgres.
TEST_F(AuthRedisFaults, UnreachableRedisFromTheStart) {
  const auto key = db().key("acme", "alice");
  ASSERT_FALSE(HasFailure());
  recording_upstream up;
  auto cfg = auth_gateway_config(up, db().url());
  cfg.route("{match: {prefix: /}, upstream: app, auth: required}")
      .cache_redis("redis://127.0.0.1:" + std::to_string(free_port()) + "/0", unique_namespace(), "50ms")
      .cache_local("ttl", "1ms");
  gateway gw(cfg);
  ASSERT_TRUE(gw.started());
  http_client c(gw.port());
  for (int i = 0; i < 10; ++i) {
    const auto start = steady::now();
    auto r = c.request("GET", "/x", bearer(key.secret));
    EXPECT_EQ(r.status(), 200) << r.describe();
    EXPECT_LT(seconds_since(start), 1.0);
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(is_401(c.request("GET", "/x", bearer(unknown_key())), "invalid_api_key"));
}

}  // namespace
}  // namespace keygate::itest
