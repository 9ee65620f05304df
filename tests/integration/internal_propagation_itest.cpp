// Revocation across instances (SPEC §6 bound, guarantee 4): two `keygate serve` processes A and B
// share Postgres and Redis; a key is warm in both; it is revoked through A (management API, or
// SQL UPDATE + /cache/invalidate) while a client hits B every 10 ms. B must reject within 1 s of
// A's response, in every run. The p50/p99 propagation times are printed. (Direct SQL without any
// call, through the store's change notifications: internal_notify_itest.cpp.)
//
// KEYGATE_ITEST_PROPAGATION_RUNS overrides the number of runs (default 100).
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "integration/support/cluster.hpp"
#include "integration/support/propagation.hpp"
#include "integration/support/proxy_helpers.hpp"
#include "integration/support/tcp_relay.hpp"

namespace keygate::itest {
namespace {

using kc::ms_between;

// The revocation's HTTP call must answer 200.
bool answered_200(const response& r) {
  if (r.status() == 200) return true;
  ADD_FAILURE() << "revocation call failed: " << r.describe();
  return false;
}

class InternalPropagation : public kc::cluster_suite {
 protected:
  // `revoke` through A; B must reject within 1 s of A's response in every run (support/propagation.hpp).
  void run_many(const char* label,
                const std::function<response(const kc::node&, const kc::created_key&)>& revoke) {
    kc::node a(options("A"));
    kc::node b(options("B"));
    ASSERT_TRUE(a.started() && b.started());
    const int n = kc::propagation_runs();
    kc::propagation_stats st;
    const auto start = steady::now();
    for (int i = 0; i < n; ++i) {
      kc::propagation_run(
          a, b, [&] { return kc::key_credential(a.create_key("acme", "mia")); },
          [&](const kc::credential& c) {
            return answered_200(revoke(a, kc::created_key{c.id, c.secret}));
          },
          st);
      if (HasFatalFailure()) return;
    }
    kc::report_propagation(label, st, seconds_since(start));
    EXPECT_EQ(st.passed, n);
  }
};

TEST_F(InternalPropagation, RevokeThroughApiOnAIsRejectedByBWithinOneSecond) {
  run_many("management API revoke", [](const kc::node& a, const kc::created_key& k) {
    return a.api("POST", "/v1/keys/" + k.id + "/revoke", kc::svc());
  });
}

TEST_F(InternalPropagation, SqlRevokeThenInvalidateOnAIsRejectedByBWithinOneSecond) {
  run_many("SQL UPDATE + /cache/invalidate", [this](const kc::node& a, const kc::created_key& k) {
    if (!db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'")) return response{};
    return a.invalidate({{"key_id", k.id}});
  });
}

// Disable (reversible) and enable also propagate both ways.
TEST_F(InternalPropagation, DisableAndEnableThroughAPropagateToB) {
  kc::node a(options("A"));
  kc::node b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto k = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(b.probe(k.secret), 200);
  ASSERT_EQ(a.api("POST", "/v1/keys/" + k.id + "/disable", kc::svc()).status(), 200);
  EXPECT_TRUE(kc::probe_until(b, k.secret, 401, 1s)) << "B still accepts a disabled key";
  ASSERT_EQ(a.api("POST", "/v1/keys/" + k.id + "/enable", kc::svc()).status(), 200);
  EXPECT_TRUE(kc::probe_until(b, k.secret, 200, 1s)) << "B still rejects a re-enabled key";
  EXPECT_EQ(a.probe(k.secret), 200);
}

// Session revocation through A (DELETE /v1/sessions/{id}) reaches B too.
TEST_F(InternalPropagation, SessionRevokedThroughAIsRejectedByB) {
  kc::node a(options("A"));
  kc::node b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto s = a.create_session("mia");
  ASSERT_EQ(a.probe_with(kc::cookie(s.secret)), 200);
  ASSERT_EQ(b.probe_with(kc::cookie(s.secret)), 200);
  const auto r = a.api("DELETE", "/v1/sessions/" + s.id, kc::svc());
  ASSERT_EQ(r.status(), 200) << r.describe();
  const auto deadline = steady::now() + 1s;
  bool rejected = false;
  while (!rejected && steady::now() < deadline) {
    rejected = b.probe_with(kc::cookie(s.secret)) == 401;
    if (!rejected) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(rejected) << "B still accepts a session revoked through A";
}

// B's subscriber connection is killed: B resubscribes (dropping its local cache) and the bound holds,
// both for a revocation published while B was unsubscribed and for one after.
TEST_F(InternalPropagation, SubscriberKilledBResubscribesAndTheBoundHolds) {
  private_redis redis;
  ASSERT_TRUE(redis.ok()) << "could not start a private Redis";
  kc::node a(options("A", redis));
  kc::node b(options("B", redis));
  ASSERT_TRUE(a.started() && b.started());
  resp_client rc(redis.port());
  const std::string channel = ns() + ":invalidate";
  const auto subscribers = [&] {
    auto r = rc.command({"PUBSUB", "NUMSUB", channel});
    return r.elements.size() == 2 ? r.elements[1].integer : -1;
  };
  ASSERT_TRUE(eventually([&] { return subscribers() == 2; }, 5s))
      << "A and B never subscribed to " << channel;

  const auto k1 = a.create_key("acme", "mia");
  const auto k2 = a.create_key("acme", "mia");
  for (const auto* k : {&k1, &k2}) {
    ASSERT_EQ(a.probe(k->secret), 200);
    ASSERT_EQ(b.probe(k->secret), 200);
  }
  const auto log_from = b.log().size();
  auto killed = rc.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_EQ(killed.type, resp_reply::kind::integer) << killed.str;
  EXPECT_GE(killed.integer, 1);

  // Revoke k1 at once (B may be unsubscribed and miss the message).
  const auto t1 = steady::now();
  ASSERT_EQ(a.api("POST", "/v1/keys/" + k1.id + "/revoke", kc::svc()).status(), 200);
  EXPECT_TRUE(b.wait_for_log("resubscribed", 5s, log_from)) << "B did not log a resubscription";
  EXPECT_TRUE(eventually([&] { return subscribers() == 2; }, 5s)) << "B did not resubscribe";
  EXPECT_TRUE(kc::probe_until(b, k1.secret, 401, 1s)) << "B accepts a key revoked while it was unsubscribed";
  std::printf("[ propagation ] k1 (revoked while unsubscribed) rejected by B %.0f ms after the revocation\n",
              ms_between(t1, steady::now()));

  // After the resubscription: the usual bound for k2.
  ASSERT_EQ(b.probe(k2.secret), 200);
  ASSERT_EQ(a.api("POST", "/v1/keys/" + k2.id + "/revoke", kc::svc()).status(), 200);
  EXPECT_TRUE(kc::probe_until(b, k2.secret, 401, 1s)) << "B missed a revocation after resubscribing";
}

// An instance confirms its invalidation subscription before it accepts requests: an
// invalidation published the moment it is up must not be missed (it would be honoured only at
// the local TTL). A relay holds the subscriber's SUBSCRIBE back for 400 ms while the data-plane
// connections go straight through, so without the start-up wait the instance would answer
// before it is subscribed.
TEST_F(InternalPropagation, AnInstanceIsSubscribedBeforeItAcceptsRequests) {
  private_redis redis;
  ASSERT_TRUE(redis.ok()) << "could not start a private Redis";
  tcp_relay slow_subscribe(redis.port(), "SUBSCRIBE", 400ms);
  auto o = options("A");
  o.redis_url = "redis://127.0.0.1:" + std::to_string(slow_subscribe.port()) + "/0";
  kc::node a(o);
  ASSERT_TRUE(a.started());
  // Its first answer proves it accepts (a bound port alone does not: connections queue in the
  // backlog while it starts).
  ASSERT_EQ(a.probe("kg_test_malformed"), 401);
  resp_client rc(redis.port());
  auto r = rc.command({"PUBSUB", "NUMSUB", ns() + ":invalidate"});
  ASSERT_EQ(r.elements.size(), 2u) << r.str;
  EXPECT_EQ(r.elements[1].integer, 1)
      << "A accepted requests before its invalidation subscription was confirmed";
}

// A key probed on A before it existed (negative entry in A's local cache and in Redis), then
// created through B's API path: accepted on A within 1 s. The HTTP API generates secrets, so a key
// whose secret is known beforehand is adopted with `keygate keys import --sha256` (store only, no
// Redis in that CLI config) and B's /cache/invalidate announces it.
TEST_F(InternalPropagation, NegativeEntryOnAClearedByCreationAnnouncedThroughB) {
  kc::node a(options("A"));
  kc::node b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto secret = kc::fresh_key();
  ASSERT_EQ(a.probe(secret), 401);
  ASSERT_EQ(a.probe(secret), 401);
  resp_client rc(redis_port(redis_url()));
  EXPECT_TRUE(rc.get(ns() + ":k:" + kc::sha256(secret)).has_value()) << "no negative entry in Redis";
  auto imp = db().cli({"keys", "import", "--tenant", "acme", "--user", "mia", "--prefix", "kg_live", "--name",
                       "adopted", "--sha256", kc::sha256(secret)});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(a.probe(secret), 401) << "(control) A should still hold the negative entry";
  const auto r = b.invalidate({{"key_hash", kc::sha256(secret)}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.json().value("invalidated", -1), 1) << r.describe();
  EXPECT_TRUE(kc::probe_until(a, secret, 200, 1s))
      << "A still rejects the key created after its negative entry";
}

// The same through the CLI alone: `keygate keys import` with the cluster's Redis configured must
// propagate like the management API (creating a key clears any negative entry for its hash).
TEST_F(InternalPropagation, NegativeEntryOnAClearedByCliImport) {
  kc::node a(options("A"));
  kc::node b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto secret = kc::fresh_key();
  ASSERT_EQ(a.probe(secret), 401);
  ASSERT_EQ(b.probe(secret), 401);
  auto imp = db().cli({"keys", "import", "--tenant", "acme", "--user", "mia", "--prefix", "kg_live", "--name",
                       "adopted", "--sha256", kc::sha256(secret)},
                      redis_url(), ns());
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_TRUE(kc::probe_until(a, secret, 200, 1s)) << "A still rejects a key imported through the CLI";
  EXPECT_TRUE(kc::probe_until(b, secret, 200, 1s)) << "B still rejects a key imported through the CLI";
}

// `keygate keys revoke` (CLI, same store and Redis) propagates to every instance within 1 s.
TEST_F(InternalPropagation, CliRevokeIsRejectedByEveryInstanceWithinOneSecond) {
  kc::node a(options("A"));
  kc::node b(options("B"));
  ASSERT_TRUE(a.started() && b.started());
  const auto k = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  ASSERT_EQ(b.probe(k.secret), 200);
  auto r = db().cli({"keys", "revoke", k.id}, redis_url(), ns());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(kc::probe_until(a, k.secret, 401, 1s)) << "A still accepts a key revoked with the CLI";
  EXPECT_TRUE(kc::probe_until(b, k.secret, 401, 1s)) << "B still accepts a key revoked with the CLI";
}

}  // namespace
}  // namespace keygate::itest
