// Key format (SPEC §3): known vectors from ../shared/bench/tools/genkeys.py, every rejection
// class, imported (checksum: false) prefixes, generation round trips.
#include "keygate/auth/key_format.hpp"

#include <gtest/gtest.h>

namespace keygate::auth {
namespace {

const std::vector<config::key_prefix> prefixes = {{"kg_live", true}, {"kg_test", true}, {"wm", false}};

struct vector_case {
  const char* key;
  const char* sha256;
};
// genkeys.py keys.txt lines 1-3 and their keys.map hashes.
const vector_case vectors[] = {
    {"kg_live_AXLJ8EmQJqOSAOS9VIY5GNjfgMGMnbdi4L81PX",
     "bfb732bfe842977d4e492065d3e5a238c6d6bcc342b3fc2d423902c5c8eeee0d"},
    {"kg_live_9ZATd3WrEwQj6JA6GdPg2LTHXg9Ib5sf4eEWxU",
     "dc0e1b25b945fb745e90013a5e1dc45802e737487d545424ea726b5e83fce033"},
    {"kg_live_KHMPWDbC5oJGIUFmWhT9kHzxS4Vmw2wR0pyZ5T",
     "7bb09332bfcc2a423efdaba78ec69ac1763bc6e6735c526c28312cad146ffef0"},
};

TEST(KeyFormat, Crc32MatchesZlib) {
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32("kg_live_AXLJ8EmQJqOSAOS9VIY5GNjfgMGMnbdi"), 3976746435u);  // python zlib.crc32
}

// The eight-bytes-at-a-time loop against the bitwise definition, for every length around the
// word boundaries and every byte value.
TEST(KeyFormat, Crc32MatchesTheBitwiseDefinitionAtEveryLength) {
  const auto bitwise = [](std::string_view data) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
  };
  std::string data;
  for (int len = 0; len <= 67; ++len) {
    EXPECT_EQ(crc32(data), bitwise(data)) << "length " << len;
    data += static_cast<char>((len * 97 + 13) & 0xFF);
  }
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  EXPECT_EQ(crc32(every_byte), bitwise(every_byte));
}

TEST(KeyFormat, Base62ChecksumIsPaddedMostSignificantFirst) {
  const auto zero = crc_base62(0);
  EXPECT_EQ(std::string(zero.data(), zero.size()), "000000");
  const auto sixty_two = crc_base62(62);
  EXPECT_EQ(std::string(sixty_two.data(), sixty_two.size()), "000010");
  const auto v = crc_base62(3976746435u);
  EXPECT_EQ(std::string(v.data(), v.size()), "4L81PX");
}

TEST(KeyFormat, AcceptsKnownVectorsAndHashesThem) {
  for (const auto& v : vectors) {
    auto k = parse_key(v.key, prefixes);
    ASSERT_TRUE(k) << v.key;
    EXPECT_EQ(k->prefix, "kg_live");
    EXPECT_TRUE(k->checksummed);
    EXPECT_EQ(sha256_hex_string(v.key), v.sha256);
    EXPECT_EQ(display_prefix(*k), std::string(v.key).substr(0, 14));
  }
}

TEST(KeyFormat, RejectsEveryMalformation) {
  const std::string good = vectors[0].key;
  auto rejected = [](const std::string& s) { return !parse_key(s, prefixes); };
  EXPECT_TRUE(rejected(""));
  EXPECT_TRUE(rejected("kg_live_" + std::string(32, 'f')));  // the bench's malformed key: wrong length
  EXPECT_TRUE(rejected(good.substr(0, good.size() - 1)));    // too short
  EXPECT_TRUE(rejected(good + "0"));                         // too long
  EXPECT_TRUE(rejected("kg_prod" + good.substr(7)));         // unknown prefix
  EXPECT_TRUE(rejected("KG_LIVE" + good.substr(7)));         // prefixes are case-sensitive
  EXPECT_TRUE(rejected("kg_live-" + good.substr(8)));        // separator
  std::string bad_alpha = good;
  bad_alpha[10] = '-';
  EXPECT_TRUE(rejected(bad_alpha));
  std::string bad_sum = good;
  bad_sum.back() = bad_sum.back() == 'X' ? 'Y' : 'X';
  EXPECT_TRUE(rejected(bad_sum));
  std::string flipped = good;
  flipped[9] = flipped[9] == 'a' ? 'b' : 'a';  // entropy changed, checksum kept
  EXPECT_TRUE(rejected(flipped));
  std::string nul = good;
  nul[12] = '\0';
  EXPECT_TRUE(rejected(nul));
}

TEST(KeyFormat, ImportedPrefixAcceptsAnyBase62BodyWithinBounds) {
  EXPECT_TRUE(parse_key("wm_" + std::string(imported_body_min, 'a'), prefixes));
  EXPECT_TRUE(parse_key("wm_" + std::string(imported_body_max, 'Z'), prefixes));
  EXPECT_FALSE(parse_key("wm_" + std::string(imported_body_min - 1, 'a'), prefixes));
  EXPECT_FALSE(parse_key("wm_" + std::string(imported_body_max + 1, 'a'), prefixes));
  EXPECT_FALSE(parse_key("wm_abcdefghijklmnop_q", prefixes));
  auto k = parse_key("wm_0123456789abcdefXYZ", prefixes);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->checksummed);
  EXPECT_EQ(display_prefix(*k), "wm_012345");
}

TEST(KeyFormat, GeneratedKeysParseAndDiffer) {
  const auto a = generate_key("kg_test");
  const auto b = generate_key("kg_test");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), std::string("kg_test_").size() + checksummed_body_chars);
  auto k = parse_key(a, prefixes);
  ASSERT_TRUE(k) << a;
  EXPECT_EQ(k->prefix, "kg_test");
}

TEST(KeyFormat, RandomBase62UsesTheWholeAlphabet) {
  const auto s = random_base62(20000);
  for (char c : base62_alphabet) EXPECT_NE(s.find(c), std::string::npos) << c;
}

TEST(KeyFormat, SessionTokens) {
  const auto t = generate_session_token();
  EXPECT_TRUE(is_session_token_shape(t));
  EXPECT_FALSE(is_session_token_shape(t.substr(1)));
  EXPECT_FALSE(is_session_token_shape(vectors[0].key));
}

TEST(KeyFormat, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace keygate::auth
