// A revocation racing B's in-flight Postgres lookup (SPEC §6: fills never overwrite, a lookup that
// started before a revocation can never resurrect the key). B's lookup of a key is held by a
// table lock (ACCESS EXCLUSIVE on api_keys); A's revocation queues behind it; the lock is released
// and both proceed together. After A's 200, B must reject within 1 s and keep rejecting, and the
// Redis entry must end as a tombstone.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

class InternalRace : public kc::cluster_suite {};

TEST_F(InternalRace, RevokeRacingBsHeldLookupNeverResurrects) {
  auto o = options("A");
  o.query_timeout = "5s";
  kc::node a(o);
  o.name = "B";
  kc::node b(o);
  ASSERT_TRUE(a.started() && b.started());
  resp_client rc(redis_port(redis_url()));
  const std::string db_name = db().url().substr(db().url().rfind('/') + 1);
  const auto lock_waiters = [&] {
    const auto v = db().scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db_name +
                               "' AND wait_event_type = 'Lock'");
    return v ? std::atoi(v->c_str()) : 0;
  };

  constexpr int iterations = 5;
  for (int i = 0; i < iterations; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    const auto k = a.create_key("acme", "mia");
    ASSERT_FALSE(k.id.empty());
    const std::string rkey = ns() + ":k:" + k.hash();
    rc.command({"DEL", rkey});  // B must go to Postgres

    pg_session holder(db().url());
    ASSERT_TRUE(holder.ok()) << holder.error();
    ASSERT_TRUE(holder.exec("BEGIN") && holder.exec("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
        << holder.error();

    auto lookup = std::async(std::launch::async, [&] { return b.probe(k.secret); });
    ASSERT_TRUE(eventually([&] { return lock_waiters() >= 1; }, 3s)) << "B's lookup never waited";
    auto revoke = std::async(std::launch::async,
                             [&] { return a.api("POST", "/v1/keys/" + k.id + "/revoke", kc::svc()); });
    ASSERT_TRUE(eventually([&] { return lock_waiters() >= 2; }, 3s)) << "A's revocation never waited";
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(holder.exec("ROLLBACK")) << holder.error();

    const auto r = revoke.get();
    const auto t1 = steady::now();
    ASSERT_EQ(r.status(), 200) << r.describe();
    const int in_flight = lookup.get();
    EXPECT_TRUE(in_flight == 200 || in_flight == 401) << in_flight;

    EXPECT_TRUE(kc::probe_until(b, k.secret, 401, 1s)) << "B accepts the key after A's revocation returned";
    // ... and keeps rejecting (a stale fill must not land after the tombstone).
    kc::prober p(b.port());
    int resurrected = 0;
    while (steady::now() < t1 + 1500ms) {
      if (p.status(k.secret) != 401) ++resurrected;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(resurrected, 0) << "B accepted the revoked key again";
    EXPECT_EQ(a.probe(k.secret), 401);
    const auto entry = rc.get(rkey);
    ASSERT_TRUE(entry.has_value()) << "no Redis entry after the revocation";
    EXPECT_NE(entry->find("\"rev\""), std::string::npos) << "the Redis entry is not a tombstone: " << *entry;
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace keygate::itest
