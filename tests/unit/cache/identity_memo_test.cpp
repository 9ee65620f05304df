#include "keygate/cache/identity_memo.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "keygate/cache/entry.hpp"

namespace keygate::cache {
namespace {

TEST(IdentityMemo, EmptyUntilKept) {
  identity_memo m;
  EXPECT_FALSE(m.find("X-Keygate-"));
  m.keep("X-Keygate-", "X-Keygate-Tenant: t\r\n");
  ASSERT_TRUE(m.find("X-Keygate-"));
  EXPECT_EQ(*m.find("X-Keygate-"), "X-Keygate-Tenant: t\r\n");
}

TEST(IdentityMemo, LinesOfAnotherPrefixAreNotReturned) {
  identity_memo m;
  m.keep("X-Keygate-", "X-Keygate-Tenant: t\r\n");
  EXPECT_FALSE(m.find("X-Auth-"));
  EXPECT_FALSE(m.find("X-Keygate"));
  EXPECT_FALSE(m.find(""));
}

TEST(IdentityMemo, FirstKeepWinsAndIsNeverReplaced) {
  identity_memo m;
  m.keep("P-", "P-User: first\r\n");
  m.keep("P-", "P-User: second\r\n");
  m.keep("Q-", "Q-User: third\r\n");
  EXPECT_EQ(*m.find("P-"), "P-User: first\r\n");
  EXPECT_FALSE(m.find("Q-"));
}

TEST(IdentityMemo, LinesThatDoNotFitAreNotKept) {
  identity_memo m;
  const std::string huge(4096, 'x');
  m.keep("X-Keygate-", huge);
  EXPECT_FALSE(m.find("X-Keygate-"));
  // The slot stays free for lines that fit.
  m.keep("X-Keygate-", "X-Keygate-User: u\r\n");
  EXPECT_EQ(*m.find("X-Keygate-"), "X-Keygate-User: u\r\n");
}

TEST(IdentityMemo, ConcurrentKeepersLeaveOneWholeValue) {
  identity_memo m;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back(
        [&m, i] { m.keep("P-", "P-User: " + std::string(40, static_cast<char>('a' + i)) + "\r\n"); });
  for (auto& t : threads) t.join();
  const auto kept = m.find("P-");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->size(), 8 + 40 + 2);
  // One writer's value, not a mix of several.
  EXPECT_EQ(*kept, "P-User: " + std::string(40, (*kept)[8]) + "\r\n");
}

// Readers racing one writer see nothing or the whole value, never a partial one (the kept
// bytes are published by the release store of the ready state).
TEST(IdentityMemo, ReadersRacingTheWriterSeeNothingOrTheWholeValue) {
  const std::string lines = "P-Tenant: " + std::string(200, 't') + "\r\n";
  for (int round = 0; round < 50; ++round) {
    identity_memo m;
    std::atomic<bool> go{false};
    std::atomic<int> partial{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i)
      readers.emplace_back([&] {
        while (!go) {
        }
        for (int n = 0; n < 2000; ++n)
          if (const auto kept = m.find("P-"); kept && *kept != lines) ++partial;
      });
    go = true;
    m.keep("P-", lines);
    for (auto& t : readers) t.join();
    EXPECT_EQ(partial, 0);
    EXPECT_EQ(*m.find("P-"), lines);
  }
}

// Entries of found credentials have room for their identity lines; negative sentinels (most of
// a cache under a flood of unknown keys) do not carry it.
TEST(IdentityMemo, OnlyFoundEntriesCarryOne) {
  const auto found = make_entry(credential_type::key, true);
  found->key = store::key_record{};
  found->key->key_id = "key_1";
  found->key->tenant_id = "t";
  found->key->user_id = "u";
  const auto negative = make_entry(credential_type::session, false);
  ASSERT_NE(found->identity, nullptr);
  EXPECT_EQ(negative->identity, nullptr);
  EXPECT_TRUE(found->found);
  EXPECT_FALSE(negative->found);
  EXPECT_EQ(negative->type, credential_type::session);
  found->identity->keep("P-", "P-User: u\r\n");
  EXPECT_EQ(*found->identity->find("P-"), "P-User: u\r\n");
  // The same holds for entries read back from Redis.
  const auto found_again = deserialize(credential_type::key, serialize(*found));
  const auto negative_again = deserialize(credential_type::session, serialize(*negative));
  ASSERT_TRUE(found_again && negative_again);
  EXPECT_NE(found_again->identity, nullptr);
  EXPECT_EQ(negative_again->identity, nullptr);
}

}  // namespace
}  // namespace keygate::cache
