#include "keygate/cache/local_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keygate::cache {
namespace {

using namespace std::chrono_literals;

entry_ptr negative() {
  return std::make_shared<entry>();
}

TEST(LocalCache, FreshThenExpired) {
  local_cache c(100, 0ms, 4);
  const auto t0 = steady::now();
  EXPECT_TRUE(c.fill("k1", negative(), 1000ms, c.generation("k1"), t0));
  EXPECT_TRUE(c.get("k1", t0 + 999ms));
  EXPECT_FALSE(c.get("k1", t0 + 1000ms));
  EXPECT_FALSE(c.get_stale("k1", t0 + 1000ms));  // no stale window
}

TEST(LocalCache, StaleWindow) {
  local_cache c(100, 5000ms, 4);
  const auto t0 = steady::now();
  c.fill("k1", negative(), 1000ms, c.generation("k1"), t0);
  EXPECT_FALSE(c.get("k1", t0 + 2000ms));
  EXPECT_TRUE(c.get_stale("k1", t0 + 2000ms));
  EXPECT_FALSE(c.get_stale("k1", t0 + 6000ms));
}

TEST(LocalCache, FillIsSetIfAbsent) {
  local_cache c(100, 0ms, 4);
  const auto t0 = steady::now();
  auto first = negative();
  EXPECT_TRUE(c.fill("k1", first, 1000ms, c.generation("k1"), t0));
  EXPECT_FALSE(c.fill("k1", negative(), 1000ms, c.generation("k1"), t0));
  EXPECT_EQ(c.get("k1", t0), first);
}

TEST(LocalCache, FillAfterInvalidationIsRefused) {
  local_cache c(100, 0ms, 4);
  const auto t0 = steady::now();
  const auto gen = c.generation("k1");  // lookup starts
  c.put("k1", negative(), 1000ms, t0);  // a revocation lands meanwhile (tombstone)
  c.erase("k1");
  EXPECT_FALSE(c.fill("k1", negative(), 1000ms, gen, t0));  // the stale fill loses
  const auto gen2 = c.generation("k2");
  c.clear();
  EXPECT_FALSE(c.fill("k2", negative(), 1000ms, gen2, t0));
  EXPECT_TRUE(c.fill("k2", negative(), 1000ms, c.generation("k2"), t0));
}

TEST(LocalCache, AnExpiredEntryIsRenewedOnlyIfItIsStillTheKeysAndNothingInvalidated) {
  local_cache c(100, 0ms, 4);
  const auto t0 = steady::now();
  const auto e = negative();
  ASSERT_TRUE(c.fill("k1", e, 1000ms, c.generation("k1"), t0));
  const auto seen = c.peek("k1");
  EXPECT_TRUE(seen.fresh(t0 + 999ms));
  EXPECT_FALSE(seen.fresh(t0 + 1500ms));  // expired, still there
  EXPECT_EQ(seen.value, e);
  EXPECT_EQ(seen.fresh_until, t0 + 1000ms);
  EXPECT_EQ(seen.generation, c.generation("k1"));
  EXPECT_FALSE(c.peek("absent").value);

  EXPECT_TRUE(c.renew("k1", e, 1000ms, c.generation("k1"), t0 + 1500ms));
  EXPECT_EQ(c.get("k1", t0 + 2499ms), e);
  EXPECT_FALSE(c.get("k1", t0 + 2500ms));

  // An invalidation since the generation was taken wins, even one of another key in the shard.
  const auto gen = c.generation("k1");
  c.erase("k1");
  EXPECT_FALSE(c.renew("k1", e, 1000ms, gen, t0 + 3000ms));
  EXPECT_FALSE(c.get("k1", t0 + 3000ms));
  // A different entry in the slot (replaced meanwhile) is not renewed in its place.
  ASSERT_TRUE(c.fill("k1", negative(), 1000ms, c.generation("k1"), t0 + 3000ms));
  EXPECT_FALSE(c.renew("k1", e, 1000ms, c.generation("k1"), t0 + 4500ms));
}

TEST(LocalCache, BoundedByCapacity) {
  local_cache c(64, 0ms, 4);
  const auto t0 = steady::now();
  for (int i = 0; i < 10000; ++i)
    c.fill("k" + std::to_string(i), negative(), 10s, c.generation("k" + std::to_string(i)), t0);
  EXPECT_LE(c.size(), 64u);
  EXPECT_TRUE(c.get("k9999", t0));  // the most recent survives
}

// Second chance: a hit keeps an entry through the next eviction, not forever.
TEST(LocalCache, HitEntriesGetOneMoreRoundBeforeEviction) {
  local_cache c(2, 0ms, 1);
  const auto t0 = steady::now();
  const auto fill = [&](const std::string& k) { c.fill(k, negative(), 10s, c.generation(k), t0); };
  fill("a");
  fill("b");
  ASSERT_TRUE(c.get("a", t0));
  fill("c");  // evicts b (a was hit)
  EXPECT_TRUE(c.get("a", t0));
  EXPECT_FALSE(c.get("b", t0));
  EXPECT_TRUE(c.get("c", t0));
  fill("d");  // a and c were both hit: both get their second chance, then the oldest (a) goes
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(c.get("d", t0));
}

TEST(LocalCache, FullLengthKeysAreFoundAndErased) {
  local_cache c(64 * 1000, 0ms);  // room for all 500 in any shard: which shard a key lands in is random
  const auto t0 = steady::now();
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) {
    std::string hex(64, '0');
    const auto n = std::to_string(i * 7919);
    hex.replace(64 - n.size(), n.size(), n);
    keys.push_back(local_cache::key_of(credential_type::key, hex));
    c.fill(keys.back(), negative(), 10s, c.generation(keys.back()), t0);
  }
  EXPECT_EQ(c.size(), 500u);
  for (const auto& k : keys) EXPECT_TRUE(c.get(k, t0)) << k;
  c.erase(keys[17]);
  EXPECT_FALSE(c.get(keys[17], t0));
  EXPECT_EQ(c.size(), 499u);
}

}  // namespace
}  // namespace keygate::cache
