#include "keygate/cache/flat_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace keygate::cache {
namespace {

using table = flat_table<int, 8>;

TEST(FlatTable, FindInsertErase) {
  table t;
  EXPECT_EQ(t.find("a", 1), nullptr);  // empty table
  t.insert("a", 1).payload = 10;
  t.insert("b", 2).payload = 20;
  ASSERT_NE(t.find("a", 1), nullptr);
  EXPECT_EQ(t.find("a", 1)->payload, 10);
  EXPECT_EQ(t.find("b", 2)->payload, 20);
  EXPECT_EQ(t.find("a", 2), nullptr);  // same hash as b, other key
  EXPECT_EQ(t.size(), 2u);
  t.erase(*t.find("a", 1));
  EXPECT_EQ(t.find("a", 1), nullptr);
  EXPECT_EQ(t.find("b", 2)->payload, 20);
  EXPECT_EQ(t.size(), 1u);
  t.clear();
  EXPECT_EQ(t.find("b", 2), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

// Keys whose hashes share their low bits land in one probe run; erasing from the middle of
// the run must keep every later key reachable (backward shift), also across the table's end.
TEST(FlatTable, ErasingInsideAProbeRunKeepsTheRestReachable) {
  table t;
  for (int i = 0; i < 6; ++i)
    t.insert("k" + std::to_string(i), 15 + (std::uint64_t{1} << 40) * i).payload = i;
  t.erase(*t.find("k2", 15 + (std::uint64_t{1} << 40) * 2));
  for (int i = 0; i < 6; ++i) {
    const auto* s = t.find("k" + std::to_string(i), 15 + (std::uint64_t{1} << 40) * i);
    if (i == 2) {
      EXPECT_EQ(s, nullptr);
    } else {
      ASSERT_NE(s, nullptr) << i;
      EXPECT_EQ(s->payload, i);
    }
  }
}

// Random inserts and erases checked against std::map after each step, through several growths:
// with hashes confined to 64 values (long probe runs, many colliding hashes), and with hashes
// over the whole range (runs that wrap around the end of a large table).
void agrees_with_a_reference_map(std::uint64_t hash_mask) {
  table t;
  std::map<std::string, int> ref;
  std::mt19937 rng(7);
  const auto hash_of = [hash_mask](const std::string& k) {
    const std::uint64_t h = std::hash<std::string>{}(k);
    return h & hash_mask;
  };
  for (int step = 0; step < 20000; ++step) {
    const std::string k = std::to_string(rng() % 300);
    if (auto* s = t.find(k, hash_of(k))) {
      ASSERT_TRUE(ref.count(k)) << k;
      ASSERT_EQ(s->payload, ref[k]);
      if (rng() % 2) {
        t.erase(*s);
        ref.erase(k);
      }
    } else {
      ASSERT_FALSE(ref.count(k)) << k;
      t.insert(k, hash_of(k)).payload = step;
      ref[k] = step;
    }
    ASSERT_EQ(t.size(), ref.size());
  }
  for (const auto& [k, v] : ref) {
    const auto* s = t.find(k, hash_of(k));
    ASSERT_NE(s, nullptr) << k;
    EXPECT_EQ(s->payload, v);
  }
}

TEST(FlatTable, AgreesWithAReferenceMapUnderCollisions) {
  agrees_with_a_reference_map(0x3f);
}

TEST(FlatTable, AgreesWithAReferenceMapOverTheWholeTable) {
  agrees_with_a_reference_map(~std::uint64_t{0});
}

}  // namespace
}  // namespace keygate::cache
