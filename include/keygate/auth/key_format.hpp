// keygate::auth key format (SPEC §3): generation, parsing and hashing of API keys.
//
// A key is `<prefix>_<body>`. For checksummed prefixes the body is 32 base62 characters of
// CSPRNG entropy followed by the 6-character base62 CRC-32 (IEEE, as zlib's crc32) of
// "<prefix>_<entropy>". Prefixes configured with `checksum: false` (imported keys) accept any
// body of [A-Za-z0-9] of imported_body_min..imported_body_max characters.
//
// Everything here is pure (no I/O, no logging) and, except the generators and the std::string
// helpers, allocation-free: parse_key() is the gate every credential passes before any cache,
// Redis or Postgres access.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "keygate/config/config.hpp"
#include "keygate/core/errc.hpp"

namespace keygate::auth {

inline constexpr std::size_t entropy_chars = 32;
inline constexpr std::size_t checksum_chars = 6;
inline constexpr std::size_t checksummed_body_chars = entropy_chars + checksum_chars;  // 38
inline constexpr std::size_t imported_body_min = 16;
inline constexpr std::size_t imported_body_max = 128;
inline constexpr std::size_t display_body_chars = 6;
inline constexpr std::string_view base62_alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A syntactically valid key; views into the caller's string (which must outlive it).
struct parsed_key {
  std::string_view key;     // the whole key
  std::string_view prefix;  // without the '_'
  std::string_view body;
  bool checksummed = true;
};

// Validates prefix (one of `prefixes`), length, alphabet and, when the prefix has one, the
// checksum. Returns errc::invalid_api_key for anything else; never allocates.
result<parsed_key> parse_key(std::string_view key, std::span<const config::key_prefix> prefixes) noexcept;

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of `data`.
std::uint32_t crc32(std::string_view data) noexcept;
// `value` in base62 (base62_alphabet), most significant first, left-padded with '0'.
std::array<char, checksum_chars> crc_base62(std::uint32_t value) noexcept;

// 64 lowercase hex characters of SHA-256(data).
using sha256_hex_t = std::array<char, 64>;
sha256_hex_t sha256_hex(std::string_view data) noexcept;
std::string sha256_hex_string(std::string_view data);
inline std::string_view view(const sha256_hex_t& h) noexcept {
  return {h.data(), h.size()};
}

// "<prefix>_" + the first 6 body characters (what lists and logs show instead of the key).
std::string display_prefix(const parsed_key& k);

// Constant-time equality of two byte strings (lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// `n` base62 characters from the CSPRNG (OpenSSL RAND_bytes, rejection sampling: no bias).
// Throws std::runtime_error only if the CSPRNG fails.
std::string random_base62(std::size_t n);

// A new key for a checksummed prefix (which must be a valid key prefix).
std::string generate_key(std::string_view prefix);

// A session token: "kgs_" + 43 base62 characters (~256 bits). Opaque: only its SHA-256 is stored.
inline constexpr std::string_view session_token_prefix = "kgs_";
inline constexpr std::size_t session_token_chars = 43;
std::string generate_session_token();
// Shape check done before any lookup of a cookie value.
bool is_session_token_shape(std::string_view token) noexcept;

}  // namespace keygate::auth
