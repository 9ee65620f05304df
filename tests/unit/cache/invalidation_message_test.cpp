#include <gtest/gtest.h>

#include "keygate/cache/invalidator.hpp"

namespace keygate::cache {
namespace {

TEST(InvalidationMessage, RoundTrip) {
  const std::vector<std::string> hashes{std::string(64, 'a'), std::string(64, 'b')};
  const auto m = encode_invalidation(credential_type::session, hashes);
  std::vector<std::string> seen;
  EXPECT_TRUE(decode_invalidation(m, [&](credential_type t, std::string_view h) {
    EXPECT_EQ(t, credential_type::session);
    seen.emplace_back(h);
  }));
  EXPECT_EQ(seen, hashes);
  EXPECT_EQ(invalidation_channel("kg:prod"), "kg:prod:invalidate");
}

TEST(InvalidationMessage, RejectsGarbage) {
  const auto ignore = [](credential_type, std::string_view) {};
  for (const char* bad : {"", "k", "x:", "k:*", "k:abc", "k;aaaa"})
    EXPECT_FALSE(decode_invalidation(bad, ignore)) << bad;
}

}  // namespace
}  // namespace keygate::cache
