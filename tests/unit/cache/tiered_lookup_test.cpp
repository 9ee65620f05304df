#include "keygate/cache/tiered_lookup.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "support/fake_key_store.hpp"

namespace keygate::cache {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
const std::string hash_a(64, 'a');
const std::string hash_b(64, 'b');

struct fixture {
  obs::registry metrics;
  testing::fake_key_store store;
  testing::fake_shared_tier redis;
  std::unique_ptr<local_cache> cache;
  local_cache& local;
  singleflight flights;
  lookup_settings settings{5s, 60s, 10s, false};
  std::unique_ptr<tiered_lookup> lookup;
  asio::io_context io;

  explicit fixture(bool serve_stale = false, std::chrono::milliseconds local_ttl = 5s)
      : cache(std::make_unique<local_cache>(1000, serve_stale ? 60s : 0ms, 4)), local(*cache) {
    settings.serve_stale = serve_stale;
    settings.local_ttl = local_ttl;
    store::key_record k;
    k.key_id = "key_a";
    k.tenant_api_access = true;
    store.keys[hash_a] = k;
    lookup = std::make_unique<tiered_lookup>(local, flights, &store, settings, metrics);
  }

  result<lookup_result> find(const std::string& h, shared_tier* tier) {
    result<lookup_result> out = errc::internal;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out = co_await lookup->find(credential_type::key, h, tier); },
        asio::detached);
    io.run();
    io.restart();
    return out;
  }
};

TEST(TieredLookup, SecondLookupIsALocalHit) {
  fixture f;
  auto r1 = f.find(hash_a, &f.redis);
  ASSERT_TRUE(r1);
  EXPECT_TRUE((*r1).entry->found);
  EXPECT_EQ((*r1).tier, "postgres");
  auto r2 = f.find(hash_a, &f.redis);
  ASSERT_TRUE(r2);
  EXPECT_EQ((*r2).tier, "local");
  EXPECT_EQ(f.store.key_queries, 1);
  EXPECT_EQ(f.redis.entries.size(), 1u);  // filled into Redis too
}

TEST(TieredLookup, AnExpiredEntryOfAnUnchangedStoreIsRenewedWithoutAQuery) {
  fixture f(false, 20ms);
  f.store.tracks_changes = true;
  ASSERT_EQ((*f.find(hash_a, nullptr)).tier, "postgres");
  ASSERT_EQ((*f.find(hash_b, nullptr)).tier, "postgres");  // negative entries alike
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ((*f.find(hash_a, nullptr)).tier, "local");
  auto negative = f.find(hash_b, nullptr);
  EXPECT_EQ((*negative).tier, "local");
  EXPECT_FALSE((*negative).entry->found);
  EXPECT_EQ(f.store.key_queries, 2);

  f.store.changes = 1;  // something was committed
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ((*f.find(hash_a, nullptr)).tier, "postgres");
  EXPECT_EQ(f.store.key_queries, 3);
}

// The renewing check must be recent at the renewal, not at the entry's expiry: an entry asked for
// long after it expired would otherwise be renewed on a count from before a commit.
TEST(TieredLookup, TheCheckThatRenewsIsAtMostTheRenewWindowOld) {
  fixture f(false, 20ms);
  f.store.tracks_changes = true;
  ASSERT_TRUE(f.find(hash_a, nullptr));
  std::this_thread::sleep_for(300ms);
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ((*f.find(hash_a, nullptr)).tier, "local");
  ASSERT_FALSE(f.store.checks_not_before.empty());
  EXPECT_GE(f.store.checks_not_before.back(), asked - 100ms);
}

TEST(TieredLookup, UnknownHashIsCachedNegative) {
  fixture f;
  auto r = f.find(hash_b, &f.redis);
  ASSERT_TRUE(r);
  EXPECT_FALSE((*r).entry->found);
  ASSERT_TRUE(f.redis.entries.count("k" + hash_b));
  EXPECT_FALSE(f.redis.entries["k" + hash_b]->found);
  f.find(hash_b, &f.redis);
  EXPECT_EQ(f.store.key_queries, 1);
}

TEST(TieredLookup, RedisAnswersBeforeTheStore) {
  fixture f;
  auto e = std::make_shared<entry>();
  e->found = true;
  e->key = store::key_record{};
  f.redis.entries["k" + hash_b] = e;
  auto r = f.find(hash_b, &f.redis);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r).tier, "redis");
  EXPECT_EQ(f.store.key_queries, 0);
}

TEST(TieredLookup, RedisDownFallsThroughToTheStore) {
  fixture f;
  f.redis.down = true;
  auto r = f.find(hash_a, &f.redis);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r).entry->found);
  EXPECT_EQ(f.store.key_queries, 1);
}

TEST(TieredLookup, ConcurrentMissesCoalesce) {
  fixture f;
  f.store.delay = 20ms;
  int done = 0;
  for (int i = 0; i < 50; ++i)
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
          auto r = co_await f.lookup->find(credential_type::key, hash_a, &f.redis);
          if (r && (*r).entry->found) ++done;
        },
        asio::detached);
  f.io.run();
  EXPECT_EQ(done, 50);
  EXPECT_EQ(f.store.key_queries, 1);
  EXPECT_EQ(f.redis.gets, 1);
}

TEST(TieredLookup, StoreErrorsAreNeverCached) {
  fixture f;
  f.store.failure = errc::store_unavailable;
  auto r = f.find(hash_b, &f.redis);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::store_unavailable));
  EXPECT_TRUE(f.redis.entries.empty());
  f.store.failure = errc::ok;
  auto again = f.find(hash_a, &f.redis);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again).entry->found);
}

TEST(TieredLookup, TombstoneWrittenDuringTheLookupWins) {
  fixture f;
  // A revocation lands while the store query is in flight: it writes the tombstone to Redis and
  // purges the local tier. The lookup's stale answer must lose everywhere.
  auto tombstone = std::make_shared<entry>();
  tombstone->found = true;
  store::key_record revoked = f.store.keys[hash_a];
  revoked.revoked_at = store::clock::now();
  tombstone->key = revoked;
  f.store.during = [&](const std::string&) {
    f.redis.entries["k" + hash_a] = tombstone;
    f.local.erase(local_cache::key_of(credential_type::key, hash_a));
  };
  auto r = f.find(hash_a, &f.redis);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r).entry->key->revoked_at.has_value());
  f.store.during = nullptr;
  // The local fill was refused (generation moved): the next lookup reads the tombstone again.
  auto r2 = f.find(hash_a, &f.redis);
  ASSERT_TRUE(r2);
  EXPECT_TRUE((*r2).entry->key->revoked_at.has_value());
}

TEST(TieredLookup, StaleEntriesOnlyWhenConfigured) {
  fixture f(true);
  auto key = local_cache::key_of(credential_type::key, hash_a);
  auto e = std::make_shared<entry>();
  e->found = true;
  e->key = f.store.keys[hash_a];
  f.local.put(key, e, 1ms, steady::now() - 10ms);  // already expired, inside the stale window
  f.store.failure = errc::store_timeout;
  auto r = f.find(hash_a, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r).tier, "stale");

  fixture strict;
  strict.local.put(key, e, 1ms, steady::now() - 10ms);
  strict.store.failure = errc::store_timeout;
  auto denied = strict.find(hash_a, nullptr);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error(), make_error_code(errc::store_timeout));
}

}  // namespace
}  // namespace keygate::cache
