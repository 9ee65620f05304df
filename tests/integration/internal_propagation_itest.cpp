// Revocation across instances (SPEC §6 bound, guarantee 4): two `keygate serve` processes A and B
// share Postgres and Redis; a key is warm in both; it is revoked through A (management API, or
// SQL UPDATE + /cache/invalidate) while a client hits B every 10 ms. B must reject within 1 s of
// A's response, in every run. The p50/p99 propagation times are printed.
//
// KEYGATE_ITEST_PROPAGATION_RUNS overrides the number of runs (default 100).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "integration/support/cluster.hpp"
#include "integration/support/proxy_helpers.hpp"

namespace keygate::itest {
namespace {

int runs() {
  const auto v = env("KEYGATE_ITEST_PROPAGATION_RUNS");
  const int n = v ? std::atoi(v->c_str()) : 100;
  return n > 0 ? n : 100;
}

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Hits `n` with `secret` every 10 ms from its own thread and records what it saw.
class hitter {
 public:
  struct sample {
    steady::time_point start, end;
    int status;
  };
  hitter(const kc::node& n, std::string secret) : port_(n.port()), secret_(std::move(secret)) {
    thread_ = std::thread([this] {
      kc::prober p(port_);
      while (!stop_) {
        const auto s = steady::now();
        const int st = p.status(secret_);
        const auto e = steady::now();
        {
          std::lock_guard<std::mutex> lock(mu_);
          samples_.push_back({s, e, st});
        }
        std::this_thread::sleep_until(s + 10ms);
      }
    });
  }
  ~hitter() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<sample> samples() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }
  // First sample that rejected (401), if any.
  std::optional<sample> first_rejection() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : samples_)
      if (s.status == 401) return s;
    return std::nullopt;
  }

 private:
  unsigned short port_;
  std::string secret_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<sample> samples_;
  std::thread thread_;
};

class InternalPropagation : public kc::cluster_suite {
 protected:
  struct stats {
    std::vector<double> after_return_ms;  // first rejection on B − A's response (clamped at 0)
    std::vector<double> since_call_ms;    // first rejection on B − start of A's call
    std::vector<double> call_ms;          // A's call duration
    int immediate = 0;                    // runs whose first B request started after A's response was a 401
  };

  // One run: fresh key warm on A and B, `revoke` it through A while hitting B. Returns false
  // (with failures recorded) when the bound is violated.
  bool one_run(const kc::node& a, const kc::node& b, const std::function<response(const kc::created_key&)>& revoke,
               stats& st, int run) {
    const auto k = a.create_key("acme", "mia");
    if (k.id.empty()) return false;
    if (a.probe(k.secret) != 200 || b.probe(k.secret) != 200) {
      ADD_FAILURE() << "run " << run << ": the new key is not accepted on A and B";
      return false;
    }
    hitter h(b, k.secret);
    std::this_thread::sleep_for(25ms);  // B is being hit
    const auto t0 = steady::now();
    const auto r = revoke(k);
    const auto t1 = steady::now();
    if (r.status() != 200) {
      ADD_FAILURE() << "run " << run << ": revocation call failed: " << r.describe();
      return false;
    }
    // Wait for B to reject (bounded), then keep hitting a little to catch a resurrection.
    const auto deadline = t1 + 1500ms;
    while (!h.first_rejection() && steady::now() < deadline) std::this_thread::sleep_for(2ms);
    std::this_thread::sleep_for(60ms);
    h.stop();
    const auto samples = h.samples();
    const auto rej = h.first_rejection();
    if (!rej) {
      ADD_FAILURE() << "run " << run << ": B still accepts the key " << ms_between(t1, steady::now())
                    << " ms after A's revocation returned";
      return false;
    }
    bool ok = true;
    for (const auto& s : samples) {
      if (s.start > t1 + 1s && s.status != 401) {
        ADD_FAILURE() << "run " << run << ": B answered " << s.status << " " << ms_between(t1, s.start)
                      << " ms after A's revocation returned";
        ok = false;
      }
      if (s.start > rej->end && s.status != 401) {
        ADD_FAILURE() << "run " << run << ": B answered " << s.status << " after it had rejected (resurrected)";
        ok = false;
      }
    }
    const double after = std::max(0.0, ms_between(t1, rej->end));
    if (after > 1000) {
      ADD_FAILURE() << "run " << run << ": B rejected only " << after << " ms after A's revocation returned";
      ok = false;
    }
    for (const auto& s : samples) {
      if (s.start >= t1) {
        if (s.status == 401) ++st.immediate;
        break;
      }
    }
    st.after_return_ms.push_back(after);
    st.since_call_ms.push_back(ms_between(t0, rej->end));
    st.call_ms.push_back(ms_between(t0, t1));
    return ok;
  }

  void run_many(const char* label, const std::function<response(const kc::node&, const kc::created_key&)>& revoke) {
    kc::node a(options("A"));
    kc::node b(options("B"));
    ASSERT_TRUE(a.started() && b.started());
    const int n = runs();
    stats st;
    int passed = 0;
    const auto start = steady::now();
    for (int i = 0; i < n; ++i) {
      if (one_run(a, b, [&](const kc::created_key& k) { return revoke(a, k); }, st, i)) ++passed;
      if (HasFatalFailure()) return;
    }
    const double secs = seconds_since(start);
    std::printf(
        "[ propagation ] %s: B rejected within 1 s in %d of %d runs (%.1f s). After A's response: p50 %.1f ms, "
        "p99 %.1f ms, max %.1f ms; since A's call started: p50 %.1f ms, p99 %.1f ms; A's call p50 %.1f ms, "
        "p99 %.1f ms; first B request after the response already rejected in %d of %d runs\n",
        label, passed, n, secs, kc::percentile(st.after_return_ms, 50), kc::percentile(st.after_return_ms, 99),
        kc::percentile(st.after_return_ms, 100), kc::percentile(st.since_call_ms, 50),
        kc::percentile(st.since_call_ms, 99), kc::percentile(st.call_ms, 50), kc::percentile(st.call_ms, 99),
        st.immediate, n);
    std::fflush(stdout);
    RecordProperty("runs", n);
    RecordProperty("passed", passed);
    RecordProperty("p50_ms", std::to_string(kc::percentile(st.after_return_ms, 50)));
    RecordProperty("p99_ms", std::to_string(kc::percentile(st.after_return_ms, 99)));
    EXPECT_EQ(passed, n);
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
  kc::own_redis redis;
  ASSERT_TRUE(redis.ok()) << "could not start a private Redis";
  auto o = options("A");
  o.redis_url = redis.url();
  kc::node a(o);
  o.name = "B";
  kc::node b(o);
  ASSERT_TRUE(a.started() && b.started());
  kc::redis_conn rc(redis.port());
  const std::string channel = ns() + ":invalidate";
  const auto subscribers = [&] {
    auto r = rc.command({"PUBSUB", "NUMSUB", channel});
    return r.elements.size() == 2 ? r.elements[1].integer : -1;
  };
  ASSERT_TRUE(eventually([&] { return subscribers() == 2; }, 5s)) << "A and B never subscribed to " << channel;

  const auto k1 = a.create_key("acme", "mia");
  const auto k2 = a.create_key("acme", "mia");
  for (const auto* k : {&k1, &k2}) {
    ASSERT_EQ(a.probe(k->secret), 200);
    ASSERT_EQ(b.probe(k->secret), 200);
  }
  const auto log_from = b.log().size();
  auto killed = rc.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_EQ(killed.type, kc::resp::kind::integer) << killed.str;
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
  kc::redis_conn rc(kc::redis_port(redis_url()));
  EXPECT_TRUE(rc.get(ns() + ":k:" + kc::sha256(secret)).has_value()) << "no negative entry in Redis";
  auto imp = db().cli({"keys", "import", "--tenant", "acme", "--user", "mia", "--prefix", "kg_live", "--name",
                       "adopted", "--sha256", kc::sha256(secret)});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(a.probe(secret), 401) << "(control) A should still hold the negative entry";
  const auto r = b.invalidate({{"key_hash", kc::sha256(secret)}});
  ASSERT_EQ(r.status(), 200) << r.describe();
  EXPECT_EQ(r.json().value("invalidated", -1), 1) << r.describe();
  EXPECT_TRUE(kc::probe_until(a, secret, 200, 1s)) << "A still rejects the key created after its negative entry";
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
