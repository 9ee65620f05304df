// The payload parser of the store's change notifications (migrations/0002_invalidation_notify.sql):
// every well-formed shape, and garbage that must add nothing (the applier counts and ignores it).
#include "keygate/cache/change_notice.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keygate::cache {
namespace {

const std::string ha(64, 'a');
const std::string hb(64, 'b');
const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::vector<std::string> all(const std::set<std::string, std::less<>>& s) {
  return {s.begin(), s.end()};
}

TEST(ChangeNotice, EveryWellFormedShape) {
  change_set c;
  EXPECT_TRUE(add_change_notice("k:" + hex, c));
  EXPECT_TRUE(add_change_notice("k:" + ha + "," + hb, c));  // key_hash itself changed
  EXPECT_TRUE(add_change_notice("s:" + hb, c));
  EXPECT_TRUE(add_change_notice("s:" + ha + "," + hb, c));
  EXPECT_TRUE(add_change_notice("u:mia", c));
  EXPECT_TRUE(add_change_notice("u:user.42@example.com", c));
  EXPECT_TRUE(add_change_notice("t:acme", c));
  EXPECT_TRUE(add_change_notice("t:" + std::string(128, 'x'), c));  // the longest id
  EXPECT_EQ(all(c.keys), (std::vector<std::string>{hex, ha, hb}));
  EXPECT_EQ(all(c.sessions), (std::vector<std::string>{ha, hb}));
  EXPECT_EQ(all(c.users), (std::vector<std::string>{"mia", "user.42@example.com"}));
  EXPECT_EQ(all(c.tenants), (std::vector<std::string>{"acme", std::string(128, 'x')}));
  EXPECT_EQ(c.notices, 8u);
  EXPECT_EQ(c.size(), 9u);
}

TEST(ChangeNotice, RepeatsCollapseButAreCounted) {
  change_set c;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(add_change_notice("k:" + ha, c));
  EXPECT_TRUE(add_change_notice("s:" + ha, c));  // same hash, other space: distinct
  EXPECT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.sessions.size(), 1u);
  EXPECT_EQ(c.notices, 4u);
}

TEST(ChangeNotice, GarbageAddsNothing) {
  const std::vector<std::string> bad{
      "",
      "k",
      "k:",
      ":" + ha,
      "K:" + ha,  // prefixes are lowercase
      "x:" + ha,
      "kk:" + ha,
      "k;" + ha,
      "k:" + ha.substr(1),          // 63 hex
      "k:" + ha + "a",              // 65 hex
      "k:" + std::string(64, 'A'),  // uppercase hex
      "k:" + std::string(64, 'g'),
      "k:" + ha + ",",  // empty second hash
      "k:," + ha,
      "k:" + ha + "," + hb + "," + ha,  // three hashes
      "k:" + ha + ";" + hb,
      "k: " + ha,  // whitespace
      "k:" + ha + "\n",
      "k:" + ha + std::string(1, '\0'),
      "k:*",
      "s:" + ha.substr(0, 32),
      "u:",
      "u:mia bob",
      "u:mia\r\nX: y",
      "u:*",
      "u:" + std::string(129, 'x'),  // longer than any id
      "t:acme/other",
      "t:" + std::string(8000, 'x'),
      "{\"key_hash\":\"" + ha + "\"}",
      std::string(300, '\xff'),
  };
  for (const auto& payload : bad) {
    change_set c;
    EXPECT_FALSE(add_change_notice(payload, c)) << payload.substr(0, 80);
    EXPECT_TRUE(c.empty()) << payload.substr(0, 80);
    EXPECT_EQ(c.notices, 0u);
  }
}

TEST(ChangeNotice, MalformedLeavesAnExistingSetUntouched) {
  change_set c;
  ASSERT_TRUE(add_change_notice("k:" + ha, c));
  EXPECT_FALSE(add_change_notice("k:" + hb + ",zz", c));  // first hash fine, second not: nothing added
  EXPECT_EQ(all(c.keys), std::vector<std::string>{ha});
  EXPECT_EQ(c.notices, 1u);
}

TEST(ChangeNotice, MergeMovesEverything) {
  change_set a, b;
  ASSERT_TRUE(add_change_notice("k:" + ha, a));
  ASSERT_TRUE(add_change_notice("k:" + ha, b));
  ASSERT_TRUE(add_change_notice("u:mia", b));
  a.merge(std::move(b));
  EXPECT_EQ(a.keys.size(), 1u);
  EXPECT_EQ(a.users.size(), 1u);
  EXPECT_EQ(a.notices, 3u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.notices, 0u);
}

}  // namespace
}  // namespace keygate::cache
