#include "keygate/cache/local_cache.hpp"

#include <gtest/gtest.h>

namespace keygate::cache {
namespace {

using namespace std::chrono_literals;

entry_ptr negative() { return std::make_shared<entry>(); }

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
  c.put("k1", negative(), 1000ms, t0);   // a revocation lands meanwhile (tombstone)
  c.erase("k1");
  EXPECT_FALSE(c.fill("k1", negative(), 1000ms, gen, t0));  // the stale fill loses
  const auto gen2 = c.generation("k2");
  c.clear();
  EXPECT_FALSE(c.fill("k2", negative(), 1000ms, gen2, t0));
  EXPECT_TRUE(c.fill("k2", negative(), 1000ms, c.generation("k2"), t0));
}

TEST(LocalCache, BoundedByCapacity) {
  local_cache c(64, 0ms, 4);
  const auto t0 = steady::now();
  for (int i = 0; i < 10000; ++i) c.fill("k" + std::to_string(i), negative(), 10s, c.generation("k" + std::to_string(i)), t0);
  EXPECT_LE(c.size(), 64u);
  EXPECT_TRUE(c.get("k9999", t0));  // the most recent survives
}

}  // namespace
}  // namespace keygate::cache
