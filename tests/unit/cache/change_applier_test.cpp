// cache::change_applier with hand-written fakes: a notification rewrites the shared tier with the
// state re-read from the store and only then the local entry; user/tenant notices resolve to their
// credentials; garbage, store failures and floods are counted, never fatal.
#include "keygate/cache/change_applier.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/fake_key_store.hpp"
#include "support/fake_management_store.hpp"

namespace keygate::cache {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
const std::string ha(64, 'a');
const std::string hb(64, 'b');
const std::string hc(64, 'c');

// store::blocking_runner that runs the work inline (the fakes do not block).
class inline_runner final : public store::blocking_runner {
 public:
  asio::awaitable<result<void>> run(std::function<result<void>()> work) override { co_return work(); }
};

// A shared tier that records what the local tier held for the hash at the moment it was rewritten.
class ordered_tier final : public shared_tier {
 public:
  explicit ordered_tier(testing::fake_shared_tier& inner, local_cache& local)
      : inner_(inner), local_(local) {}
  asio::awaitable<result<entry_ptr>> get(credential_type t, std::string_view h) override {
    return inner_.get(t, h);
  }
  asio::awaitable<result<entry_ptr>> fill(credential_type t, std::string_view h, entry_ptr e,
                                          std::chrono::milliseconds ttl) override {
    return inner_.fill(t, h, std::move(e), ttl);
  }
  asio::awaitable<result<void>> put(credential_type t, std::string_view h, entry_ptr e,
                                    std::chrono::milliseconds ttl) override {
    local_at_put.push_back(local_.get(local_cache::key_of(t, h), steady::now()));
    return inner_.put(t, h, std::move(e), ttl);
  }
  std::vector<entry_ptr> local_at_put;

 private:
  testing::fake_shared_tier& inner_;
  local_cache& local_;
};

entry_ptr active_key_entry(const std::string& id) {
  auto e = std::make_shared<entry>();
  e->type = credential_type::key;
  e->found = true;
  e->key.emplace();
  e->key->key_id = id;
  e->key->tenant_api_access = true;
  return e;
}

store::api_key stored_key(const std::string& id, const std::string& hash, const std::string& user) {
  store::api_key k;
  k.id = id;
  k.key_hash = hash;
  k.tenant_id = "acme";
  k.user_id = user;
  return k;
}

struct fixture {
  obs::registry metrics;
  testing::fake_key_store store;
  testing::fake_shared_tier redis;
  local_cache local{1000, 0ms, 4};
  ordered_tier tier{redis, local};
  test::fake_management_store owners;
  inline_runner runner;
  asio::io_context io;
  invalidator inv{&local, store, &tier, nullptr, "", lookup_settings{5s, 60s, 10s, false}};
  change_applier applier;

  explicit fixture(change_applier_settings s = quick())
      : applier(io.get_executor(), inv, local, &owners, &runner, metrics, s) {}

  static change_applier_settings quick() {
    change_applier_settings s;
    s.retry_initial = 1ms;
    s.retry_max = 2ms;
    return s;
  }
  void deliver(const std::vector<std::string>& payloads) {
    applier.deliver(payloads);
    io.run();
    io.restart();
  }
  entry_ptr local_entry(credential_type t, const std::string& h) {
    return local.get(local_cache::key_of(t, h), steady::now());
  }
  entry_ptr redis_entry(credential_type t, const std::string& h) {
    auto it = redis.entries.find(testing::fake_shared_tier::k(t, h));
    return it == redis.entries.end() ? nullptr : it->second;
  }
  std::uint64_t outcome(const char* o) {
    return metrics.counters("keygate_pg_notifications_total", "", {"outcome"}).with({o}).value();
  }
  std::uint64_t received() {
    return metrics.counters("keygate_pg_notifications_received_total", "", {}).with({}).value();
  }
};

TEST(ChangeApplier, RevokedKeyIsRewrittenInRedisBeforeLocal) {
  fixture f;
  store::key_record revoked;
  revoked.key_id = "key_a";
  revoked.revoked_at = store::clock::now();
  f.store.keys[ha] = revoked;
  f.local.put(local_cache::key_of(credential_type::key, ha), active_key_entry("key_a"), 60s, steady::now());
  f.redis.entries[testing::fake_shared_tier::k(credential_type::key, ha)] = active_key_entry("key_a");

  f.deliver({"k:" + ha});
  auto in_redis = f.redis_entry(credential_type::key, ha);
  ASSERT_TRUE(in_redis && in_redis->key);
  EXPECT_TRUE(in_redis->key->revoked_at.has_value()) << "Redis still holds the active entry";
  auto in_local = f.local_entry(credential_type::key, ha);
  ASSERT_TRUE(in_local && in_local->key);
  EXPECT_TRUE(in_local->key->revoked_at.has_value()) << "the local entry was not replaced";
  // When Redis was rewritten the local tier still held the old entry: local is replaced after.
  ASSERT_EQ(f.tier.local_at_put.size(), 1u);
  ASSERT_TRUE(f.tier.local_at_put[0] && f.tier.local_at_put[0]->key);
  EXPECT_FALSE(f.tier.local_at_put[0]->key->revoked_at.has_value());
  EXPECT_EQ(f.store.key_queries, 1);
  EXPECT_EQ(f.received(), 1u);
  EXPECT_EQ(f.outcome("applied"), 1u);
}

TEST(ChangeApplier, DeletedKeyBecomesANegativeEntryAndANewOneIsFound) {
  fixture f;
  f.local.put(local_cache::key_of(credential_type::key, ha), active_key_entry("key_a"), 60s, steady::now());
  store::key_record created;
  created.key_id = "key_b";
  f.store.keys[hb] = created;
  f.deliver({"k:" + ha, "k:" + hb});  // ha deleted, hb inserted
  auto gone = f.local_entry(credential_type::key, ha);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->found);
  auto fresh = f.redis_entry(credential_type::key, hb);
  ASSERT_TRUE(fresh && fresh->found);
  EXPECT_EQ(fresh->key->key_id, "key_b");
  EXPECT_EQ(f.outcome("applied"), 2u);
}

TEST(ChangeApplier, UserAndTenantNoticesReachTheirKeysAndSessions) {
  fixture f;
  f.owners.state.tenants["acme"] = store::tenant{"acme", "Acme", true, std::nullopt, {}};
  f.owners.state.users["mia"] = store::user{"mia", "acme", core::role::member, std::nullopt, {}};
  f.owners.state.users["max"] = store::user{"max", "acme", core::role::member, std::nullopt, {}};
  f.owners.state.keys["key_a"] = stored_key("key_a", ha, "mia");
  f.owners.state.keys["key_b"] = stored_key("key_b", hb, "max");
  store::session s;
  s.id = "ses_a";
  s.token_hash = hc;
  s.tenant_id = "acme";
  s.user_id = "mia";
  f.owners.state.sessions["ses_a"] = s;

  f.deliver({"u:mia"});
  EXPECT_EQ(f.store.key_queries, 1) << "only mia's key";
  EXPECT_EQ(f.store.session_queries, 1);
  EXPECT_TRUE(f.redis_entry(credential_type::key, ha));
  EXPECT_TRUE(f.redis_entry(credential_type::session, hc));
  EXPECT_FALSE(f.redis_entry(credential_type::key, hb));

  f.deliver({"t:acme", "u:nobody"});  // an unknown user adds nothing
  EXPECT_EQ(f.store.key_queries, 3);
  EXPECT_TRUE(f.redis_entry(credential_type::key, hb));
  EXPECT_EQ(f.outcome("applied"), 3u);
}

TEST(ChangeApplier, MalformedPayloadsAreCountedAndCostNothing) {
  fixture f;
  f.deliver({"", "garbage", "k:" + ha.substr(1), "u:*", std::string(9000, 'k')});
  EXPECT_EQ(f.received(), 5u);
  EXPECT_EQ(f.outcome("malformed"), 5u);
  EXPECT_EQ(f.outcome("applied"), 0u);
  EXPECT_EQ(f.store.key_queries, 0);
  EXPECT_TRUE(f.redis.entries.empty());
}

TEST(ChangeApplier, StoreFailuresAreRetriedThenCountedAsFailed) {
  fixture f;
  f.store.failure = errc::store_unavailable;
  f.deliver({"k:" + ha});
  EXPECT_EQ(f.store.key_queries, 5) << "max_attempts";
  EXPECT_EQ(f.outcome("failed"), 1u);
  EXPECT_TRUE(f.redis.entries.empty()) << "nothing written without the store's answer";
  // The applier keeps working afterwards.
  f.store.failure = errc::ok;
  f.deliver({"k:" + ha});
  EXPECT_EQ(f.outcome("applied"), 1u);
}

TEST(ChangeApplier, RedisDownIsRetriedAndTheLocalEntryReplacedAnyway) {
  fixture f;
  store::key_record revoked;
  revoked.revoked_at = store::clock::now();
  f.store.keys[ha] = revoked;
  f.local.put(local_cache::key_of(credential_type::key, ha), active_key_entry("key_a"), 60s, steady::now());
  f.redis.down = true;
  f.deliver({"k:" + ha});
  EXPECT_EQ(f.outcome("failed"), 1u);
  auto in_local = f.local_entry(credential_type::key, ha);
  ASSERT_TRUE(in_local && in_local->key);
  EXPECT_TRUE(in_local->key->revoked_at.has_value());
}

TEST(ChangeApplier, FloodBeyondMaxPendingIsDroppedAndClearsTheLocalCache) {
  auto s = fixture::quick();
  s.max_pending = 2;
  fixture f(s);
  f.local.put(local_cache::key_of(credential_type::key, hc), active_key_entry("key_c"), 60s, steady::now());
  f.deliver({"k:" + ha, "k:" + hb, "k:" + std::string(64, 'd'), "k:" + std::string(64, 'e')});
  EXPECT_EQ(f.outcome("dropped"), 2u);
  EXPECT_EQ(f.outcome("applied"), 2u);
  EXPECT_FALSE(f.local_entry(credential_type::key, hc)) << "the local cache was not dropped";
}

TEST(ChangeApplier, ResyncDropsTheLocalCache) {
  fixture f;
  f.local.put(local_cache::key_of(credential_type::key, ha), active_key_entry("key_a"), 60s, steady::now());
  f.applier.resync();
  EXPECT_FALSE(f.local_entry(credential_type::key, ha));
}

}  // namespace
}  // namespace keygate::cache
