#include "keygate/auth/key_format.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace keygate::auth {
namespace {

// CRC-32 (IEEE, reflected, as zlib) "slicing by 8": eight derived tables let the loop consume
// eight bytes per step instead of one (every API key is checksummed on every request).
using crc_tables = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr crc_tables make_crc_tables() noexcept {
  crc_tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s)
    for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
  return t;
}
constexpr crc_tables crc_table = make_crc_tables();

constexpr bool is_base62(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

constexpr std::array<unsigned char, 256> make_base62_table() noexcept {
  std::array<unsigned char, 256> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = is_base62(static_cast<char>(i)) ? 1 : 0;
  return t;
}
constexpr auto base62_table = make_base62_table();

// Without an early exit or a branch per character: credentials differ on every request, so a
// per-character range test mispredicts; the table AND costs the same for any input.
bool all_base62(std::string_view s) noexcept {
  unsigned char ok = 1;
  for (char c : s) ok &= base62_table[static_cast<unsigned char>(c)];
  return ok != 0;
}

// The body of `key` after "<prefix>_", or an empty view when `key` does not start with it.
std::string_view body_after(std::string_view key, std::string_view prefix) noexcept {
  if (key.size() <= prefix.size() + 1 || key.compare(0, prefix.size(), prefix) != 0 ||
      key[prefix.size()] != '_')
    return {};
  return key.substr(prefix.size() + 1);
}

bool checksum_ok(std::string_view key, std::string_view body) noexcept {
  const auto signed_part = key.substr(0, key.size() - checksum_chars);  // "<prefix>_<entropy>"
  const auto expected = crc_base62(crc32(signed_part));
  // The checksum is not a secret, but comparing in constant time costs nothing here.
  return CRYPTO_memcmp(expected.data(), body.data() + entropy_chars, checksum_chars) == 0;
}

}  // namespace

std::uint32_t crc32(std::string_view data) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = 0xFFFFFFFFu;
  const auto& t = crc_table;
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                  std::uint32_t{p[3]} << 24);
    c = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::array<char, checksum_chars> crc_base62(std::uint32_t value) noexcept {
  std::array<char, checksum_chars> out{};
  for (std::size_t i = checksum_chars; i-- > 0;) {
    out[i] = base62_alphabet[value % 62];
    value /= 62;
  }
  return out;  // 62^6 > 2^32: always fits
}

result<parsed_key> parse_key(std::string_view key, std::span<const config::key_prefix> prefixes) noexcept {
  // Prefixes may overlap ("kg" and "kg_live"); the body alphabet has no '_', so at most one
  // prefix yields a well-formed body, whichever order they are tried in.
  for (const auto& p : prefixes) {
    const auto body = body_after(key, p.prefix);
    if (body.empty()) continue;
    if (p.checksum) {
      if (body.size() != checksummed_body_chars || !all_base62(body)) continue;
      if (!checksum_ok(key, body)) continue;
    } else {
      if (body.size() < imported_body_min || body.size() > imported_body_max || !all_base62(body)) continue;
    }
    return parsed_key{key, p.prefix, body, p.checksum};
  }
  return errc::invalid_api_key;
}

namespace {

// OpenSSL 3's one-shot SHA256() fetches the algorithm from the provider table and allocates a
// digest context on every call (a lock, a hash lookup, malloc/free): on the request path the
// algorithm is fetched once per process and each thread keeps one context.
const EVP_MD* sha256_algorithm() noexcept {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct thread_digest_context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~thread_digest_context() { EVP_MD_CTX_free(ctx); }
};

void sha256_digest(std::string_view data, unsigned char (&digest)[SHA256_DIGEST_LENGTH]) noexcept {
  thread_local thread_digest_context holder;
  const EVP_MD* md = sha256_algorithm();
  unsigned int len = 0;
  if (!md || !holder.ctx || EVP_DigestInit_ex2(holder.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(holder.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(holder.ctx, digest, &len) != 1 || len != SHA256_DIGEST_LENGTH) {
    // Not expected with a working libcrypto; the one-shot form reports no errors either.
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  }
}

}  // namespace

sha256_hex_t sha256_hex(std::string_view data) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  sha256_digest(data, digest);
  sha256_hex_t out{};
  for (std::size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0x0F];
  }
  OPENSSL_cleanse(digest, sizeof digest);
  return out;
}

std::string sha256_hex_string(std::string_view data) {
  const auto h = sha256_hex(data);
  return std::string(h.data(), h.size());
}

std::string display_prefix(const parsed_key& k) {
  std::string out(k.prefix);
  out += '_';
  out += k.body.substr(0, display_body_chars);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_base62(std::size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("CSPRNG failure (RAND_bytes)");
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: keep the distribution uniform
      out += base62_alphabet[b % 62];
      if (out.size() == n) break;
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return out;
}

std::string generate_key(std::string_view prefix) {
  std::string key(prefix);
  key += '_';
  key += random_base62(entropy_chars);
  const auto sum = crc_base62(crc32(key));
  key.append(sum.data(), sum.size());
  return key;
}

std::string generate_session_token() {
  std::string t(session_token_prefix);
  t += random_base62(session_token_chars);
  return t;
}

bool is_session_token_shape(std::string_view token) noexcept {
  return token.size() == session_token_prefix.size() + session_token_chars &&
         token.substr(0, session_token_prefix.size()) == session_token_prefix &&
         all_base62(token.substr(session_token_prefix.size()));
}

}  // namespace keygate::auth
