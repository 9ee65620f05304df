// Direct SQL edits revoke everywhere (issue 5, store.postgres.listen_notify): the triggers of
// migrations/0002_invalidation_notify.sql NOTIFY keygate_invalidate, every keygate instance
// LISTENs (application_name keygate-listen) and rewrites Redis, then its local entry — no call to
// /cache/invalidate anywhere in this file. Two instances A and B share Postgres and Redis.
//
//  * a key warm on A and B, revoked with `UPDATE api_keys SET revoked_at = now()` while a client
//    hits B every 10 ms: B rejects within 1 s of the UPDATE's commit in every run (p50/p99
//    printed); the same for sessions and for DELETE of a key row;
//  * a key probed before it existed (negative entry), then INSERTed with SQL: accepted within 1 s;
//  * users.disabled_at and tenants.api_access reach the user's/tenant's keys and sessions;
//  * keygate's own last_used_at writes announce nothing;
//  * the LISTEN session killed (pg_terminate_backend): keygate listens again and the bound holds;
//  * listen_notify: false → no LISTEN session; garbage payloads are counted, never fatal.
//
// KEYGATE_ITEST_PROPAGATION_RUNS overrides the number of key-revocation runs (default 100).
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "integration/support/cluster.hpp"
#include "integration/support/propagation.hpp"
#include "integration/support/proxy_helpers.hpp"
#include "keygate/manage/validation.hpp"

namespace keygate::itest {
namespace {

constexpr const char* channel = "keygate_invalidate";

class InternalNotify : public kc::cluster_suite {
 protected:
  kc::node_options listening(const std::string& name) const {
    auto o = options(name);
    o.listen_notify = true;
    return o;
  }

  std::string db_name() const { return db().url().substr(db().url().rfind('/') + 1); }

  // pids of this database's LISTEN sessions (application_name keygate-listen), comma-separated.
  std::string listener_pids() const {
    return db()
        .scalar(
            "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') FROM pg_stat_activity WHERE "
            "datname = '" +
            db_name() + "' AND application_name = 'keygate-listen'")
        .value_or("?");
  }
  int listener_count() const {
    const auto pids = listener_pids();
    return pids.empty() ? 0 : static_cast<int>(std::count(pids.begin(), pids.end(), ',')) + 1;
  }

  static double metric(const kc::node& n, const std::string& name,
                       const std::map<std::string, std::string>& labels = {}) {
    return metric_sum(n.api("GET", "/metrics").body, name, labels);
  }

  // Waits until both nodes listen (and returns false with a failure otherwise).
  bool both_listening(const kc::node& a, const kc::node& b) {
    const bool up = eventually([&] { return listener_count() == 2; }, 10s) &&
                    eventually([&] { return metric(a, "keygate_pg_listener_connected") == 1; }, 5s) &&
                    eventually([&] { return metric(b, "keygate_pg_listener_connected") == 1; }, 5s);
    if (!up) ADD_FAILURE() << "A and B never both listened (pids: " << listener_pids() << ")";
    return up;
  }

  // `statement` on a connection of its own, kept open so a run measures the statement, not a connect.
  std::function<bool(const kc::credential&)> sql_revocation(pg_session& link,
                                                            const std::string& statement_head) {
    return [&link, statement_head](const kc::credential& c) {
      if (link.exec(statement_head + "'" + c.id + "'")) return true;
      ADD_FAILURE() << statement_head << ": " << link.error();
      return false;
    };
  }

  void run_many(const char* label, int runs, const std::function<kc::credential(const kc::node&)>& make,
                const std::string& statement_head) {
    kc::node a(listening("A"));
    kc::node b(listening("B"));
    ASSERT_TRUE(a.started() && b.started());
    ASSERT_TRUE(both_listening(a, b));
    pg_session link(db().url());
    ASSERT_TRUE(link.ok()) << link.error();
    const auto revoke = sql_revocation(link, statement_head);
    kc::propagation_stats st;
    const auto start = steady::now();
    for (int i = 0; i < runs; ++i) {
      kc::propagation_run(
          a, b, [&] { return make(a); }, revoke, st);
      if (HasFatalFailure()) return;
    }
    kc::report_propagation(label, st, seconds_since(start));
    EXPECT_EQ(st.passed, runs);
    EXPECT_EQ(metric(b, "keygate_pg_notifications_total", {{"outcome", "malformed"}}), 0);
    EXPECT_EQ(metric(b, "keygate_pg_notifications_total", {{"outcome", "failed"}}), 0);
  }
};

kc::credential new_key(const kc::node& n) {
  return kc::key_credential(n.create_key("acme", "mia"));
}
kc::credential new_session(const kc::node& n) {
  return kc::session_credential(n.create_session("mia"));
}

TEST_F(InternalNotify, SqlRevokeIsRejectedByBWithinOneSecond) {
  run_many("direct SQL UPDATE api_keys SET revoked_at (no API call)", kc::propagation_runs(), new_key,
           "UPDATE api_keys SET revoked_at = now() WHERE id = ");
}

TEST_F(InternalNotify, SqlSessionRevokeIsRejectedByBWithinOneSecond) {
  run_many("direct SQL UPDATE sessions SET revoked_at (no API call)", std::min(20, kc::propagation_runs()),
           new_session, "UPDATE sessions SET revoked_at = now() WHERE id = ");
}

TEST_F(InternalNotify, SqlDeleteOfAKeyRowIsRejectedByBWithinOneSecond) {
  run_many("direct SQL DELETE FROM api_keys (no API call)", std::min(20, kc::propagation_runs()), new_key,
           "DELETE FROM api_keys WHERE id = ");
}

// A negative entry (local and Redis) on A, then the key INSERTed with plain SQL: accepted on A and B.
TEST_F(InternalNotify, NegativeEntryClearedByADirectInsert) {
  kc::node a(listening("A"));
  kc::node b(listening("B"));
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(both_listening(a, b));
  const auto secret = kc::fresh_key();
  ASSERT_EQ(a.probe(secret), 401);
  ASSERT_EQ(a.probe(secret), 401);  // from the local negative entry now
  resp_client rc(redis_port(redis_url()));
  ASSERT_TRUE(rc.get(ns() + ":k:" + kc::sha256(secret)).has_value()) << "no negative entry in Redis";

  ASSERT_TRUE(db().exec(
      "INSERT INTO api_keys (id, tenant_id, user_id, name, display_prefix, key_hash, role) VALUES ('" +
      manage::new_id("key") + "', 'acme', 'mia', 'direct', '" + secret.substr(0, 14) + "', '" +
      kc::sha256(secret) + "', 'member')"));
  const auto inserted = steady::now();  // committed
  EXPECT_TRUE(kc::probe_until(a, secret, 200, 1s))
      << "A still rejects a key INSERTed after its negative entry";
  std::printf("[ propagation ] direct INSERT accepted on A %.1f ms after the commit\n",
              kc::ms_between(inserted, steady::now()));
  EXPECT_TRUE(kc::probe_until(b, secret, 200, 1s)) << "B still rejects the INSERTed key";
}

// users.disabled_at and tenants.api_access are carried by every cached key and session of the
// user/tenant: a direct UPDATE of either reaches them all on B.
TEST_F(InternalNotify, DisablingAUserOrATenantInSqlReachesTheirCredentialsOnB) {
  kc::node a(listening("A"));
  kc::node b(listening("B"));
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(both_listening(a, b));
  ASSERT_TRUE(db().user("acme", "notify-user", "member"));
  const auto k = a.create_key("acme", "notify-user");
  const auto s = a.create_session("notify-user");
  ASSERT_EQ(b.probe(k.secret), 200);
  ASSERT_EQ(b.probe_with(kc::cookie(s.secret)), 200);
  ASSERT_TRUE(db().exec("UPDATE users SET disabled_at = now() WHERE id = 'notify-user'"));
  EXPECT_TRUE(kc::probe_until(b, k.secret, 401, 1s)) << "B accepts a key of a user disabled in SQL";
  kc::prober p(b.port());
  const auto deadline = steady::now() + 1s;
  while (p.status_with(kc::cookie(s.secret)) != 401 && steady::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(p.status_with(kc::cookie(s.secret)), 401) << "B accepts a session of a user disabled in SQL";

  ASSERT_TRUE(db().tenant("notify-tenant"));
  ASSERT_TRUE(db().user("notify-tenant", "notify-owner", "owner"));
  const auto tk = a.create_key("notify-tenant", "notify-owner");
  ASSERT_EQ(b.probe(tk.secret), 200);
  ASSERT_TRUE(db().exec("UPDATE tenants SET api_access = false WHERE id = 'notify-tenant'"));
  const auto until = steady::now() + 1s;
  while (b.probe(tk.secret) == 200 && steady::now() < until) std::this_thread::sleep_for(10ms);
  EXPECT_NE(b.probe(tk.secret), 200) << "B accepts a key of a tenant whose api_access was turned off in SQL";
}

// keygate writes last_used_at itself (batched, every second): those UPDATEs must announce nothing,
// or every instance would purge its hot keys all the time.
TEST_F(InternalNotify, LastUsedWritesAnnounceNothing) {
  kc::node a(listening("A"));
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(eventually([&] { return listener_count() == 1; }, 10s));
  std::vector<kc::created_key> keys;
  for (int i = 0; i < 3; ++i) keys.push_back(a.create_key("acme", "mia"));
  // The three INSERTs are announced (and applied) ...
  ASSERT_TRUE(eventually(
      [&] {
        return metric(a, "keygate_pg_notifications_total", {{"outcome", "applied"}}) == 3;
      },
      5s));
  const auto received = metric(a, "keygate_pg_notifications_received_total");
  EXPECT_EQ(received, 3);
  // ... then each key is used and its last_used_at written by keygate's flush.
  for (const auto& k : keys) ASSERT_EQ(a.probe(k.secret), 200);
  for (const auto& k : keys)
    ASSERT_TRUE(eventually(
        [&] { return db().scalar("SELECT last_used_at FROM api_keys WHERE id = '" + k.id + "'") != ""; }, 5s))
        << "keygate never wrote last_used_at of " << k.id;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(a, "keygate_pg_notifications_received_total"), received)
      << "a last_used_at write was announced";

  // The trigger itself, seen by a LISTEN of our own: last_used_at/updated_at alone are silent,
  // any other change of the row is announced with its hash.
  pg_session listen(db().url());
  ASSERT_TRUE(listen.exec(std::string("LISTEN ") + channel)) << listen.error();
  ASSERT_TRUE(db().exec("UPDATE api_keys SET last_used_at = now(), updated_at = now() WHERE id = '" +
                        keys[0].id + "'"));
  EXPECT_TRUE(listen.notifications(channel, 300ms).empty());
  ASSERT_TRUE(db().exec("UPDATE api_keys SET name = 'renamed' WHERE id = '" + keys[0].id + "'"));
  EXPECT_EQ(listen.notifications(channel, 2s), std::vector<std::string>{"k:" + keys[0].hash()});
}

// B's LISTEN session is terminated by the server: B listens again (new session, reconnect counted,
// logged), drops its local cache (it may have missed a change), and the bound holds — both for a
// key revoked while B was not listening (A rewrote Redis) and for one revoked afterwards.
TEST_F(InternalNotify, ListenSessionKilledBListensAgainAndTheBoundHolds) {
  kc::node a(listening("A"));
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(eventually([&] { return listener_count() == 1; }, 10s));
  const auto a_pid = listener_pids();
  kc::node b(listening("B"));
  ASSERT_TRUE(b.started());
  ASSERT_TRUE(both_listening(a, b));
  const auto pids = listener_pids();  // "<pid>,<pid>": B's is the one that is not A's
  const auto comma = pids.find(',');
  const auto b_pid = pids.substr(0, comma) == a_pid ? pids.substr(comma + 1) : pids.substr(0, comma);

  const auto k1 = a.create_key("acme", "mia");
  const auto k2 = a.create_key("acme", "mia");
  for (const auto* k : {&k1, &k2}) {
    ASSERT_EQ(a.probe(k->secret), 200);
    ASSERT_EQ(b.probe(k->secret), 200);
  }
  const auto log_from = b.log().size();
  ASSERT_EQ(db().scalar("SELECT pg_terminate_backend(" + b_pid + ")"), "t");
  const auto killed = steady::now();
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k1.id + "'"));

  EXPECT_TRUE(b.wait_for_log("connection lost", 5s, log_from)) << "B did not log the loss";
  EXPECT_TRUE(b.wait_for_log("listening on keygate_invalidate", 5s, log_from)) << "B did not listen again";
  EXPECT_TRUE(eventually(
      [&] { return listener_count() == 2 && listener_pids().find(b_pid) == std::string::npos; }, 5s))
      << "no new LISTEN session for B: " << listener_pids();
  EXPECT_TRUE(eventually([&] { return metric(b, "keygate_pg_listener_reconnects_total") >= 1; }, 5s));
  EXPECT_EQ(metric(b, "keygate_pg_listener_connected"), 1);
  EXPECT_TRUE(kc::probe_until(b, k1.secret, 401, 1s)) << "B accepts a key revoked while it was not listening";
  std::printf(
      "[ propagation ] k1 (revoked while B's LISTEN session was down) rejected by B %.0f ms after the kill\n",
      kc::ms_between(killed, steady::now()));

  ASSERT_EQ(b.probe(k2.secret), 200);
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k2.id + "'"));
  const auto revoked = steady::now();  // committed
  EXPECT_TRUE(kc::probe_until(b, k2.secret, 401, 1s))
      << "B missed a direct SQL revocation after listening again";
  std::printf("[ propagation ] k2 (revoked after B listened again) rejected by B %.1f ms after the commit\n",
              kc::ms_between(revoked, steady::now()));
}

// listen_notify: false opens no LISTEN session (and the key stays cached until an API call).
TEST_F(InternalNotify, ListenNotifyFalseOpensNoListenSession) {
  kc::node quiet(options("quiet"));  // listen_notify: false
  ASSERT_TRUE(quiet.started());
  const auto k = quiet.create_key("acme", "mia");
  ASSERT_EQ(quiet.probe(k.secret), 200);  // the pool is connected by now
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(listener_count(), 0) << listener_pids();
  EXPECT_EQ(metric(quiet, "keygate_pg_listener_connected"), 0);
  ASSERT_TRUE(db().exec("UPDATE api_keys SET revoked_at = now() WHERE id = '" + k.id + "'"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(quiet.probe(k.secret), 200) << "(control) nothing told the quiet node";

  kc::node loud(listening("loud"));
  ASSERT_TRUE(loud.started());
  EXPECT_TRUE(eventually([&] { return listener_count() == 1; }, 10s))
      << "the listening node opened no session";
}

// Anything else on the channel is counted as malformed and ignored; the listener stays up.
TEST_F(InternalNotify, GarbagePayloadsAreCountedAndIgnored) {
  kc::node a(listening("A"));
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(eventually([&] { return metric(a, "keygate_pg_listener_connected") == 1; }, 10s));
  const auto k = a.create_key("acme", "mia");
  ASSERT_EQ(a.probe(k.secret), 200);
  const std::vector<std::string> garbage{"",    "garbage", "k:*",          "k:" + k.hash() + ",",
                                         "u:*", "t:a b",   "K:" + k.hash()};
  for (const auto& payload : garbage)
    ASSERT_TRUE(db().exec("SELECT pg_notify('keygate_invalidate', '" + payload + "')"));
  EXPECT_TRUE(eventually(
      [&] {
        return metric(a, "keygate_pg_notifications_total", {{"outcome", "malformed"}}) == 7;
      },
      5s))
      << a.api("GET", "/metrics").body;
  EXPECT_EQ(metric(a, "keygate_pg_listener_connected"), 1);
  EXPECT_EQ(a.probe(k.secret), 200);
}

}  // namespace
}  // namespace keygate::itest
