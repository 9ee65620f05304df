#include "keygate/auth/assertion.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace keygate::auth {
namespace {

constexpr char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t coord_size = 32;  // P-256 field element / scalar size in bytes

// The first queued OpenSSL error as text (never contains key material), and clears the queue.
std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct bio_free {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct bn_free {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

// Refuses to prompt for a passphrase (OpenSSL's default would read the terminal).
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string bn_coordinate(const EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1)
    throw std::runtime_error("cannot read the public key: " + openssl_error());
  std::unique_ptr<BIGNUM, bn_free> bn(raw);
  std::string out(coord_size, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(coord_size)) !=
      static_cast<int>(coord_size))
    throw std::runtime_error("public key coordinate does not fit P-256");
  return out;
}

// Only EC keys on P-256 are accepted: ES256 is defined for that curve alone.
void require_p256(const EVP_PKEY* key, std::string_view source) {
  if (EVP_PKEY_is_a(key, "EC") != 1)
    throw std::runtime_error(std::string(source) + ": not an EC private key (ES256 needs EC P-256)");
  std::array<char, 64> group{};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &len) != 1)
    throw std::runtime_error(std::string(source) + ": EC key without a named curve (ES256 needs P-256)");
  const std::string_view name(group.data(), len);
  if (name != "prime256v1" && name != "P-256" && name != "secp256r1")
    throw std::runtime_error(std::string(source) + ": EC key on curve " + std::string(name) +
                             ", ES256 needs P-256 (prime256v1)");
  if (EVP_PKEY_get_bits(key) != 256) throw std::runtime_error(std::string(source) + ": not a 256-bit EC key");
}

pkey_ptr load_pem(std::string_view pem, std::string_view source) {
  std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::runtime_error("out of memory reading " + std::string(source));
  ERR_clear_error();
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    if (pem.find("ENCRYPTED") != std::string_view::npos)
      throw std::runtime_error(
          std::string(source) +
          ": encrypted private keys are not supported (store it unencrypted, mode 0600)");
    throw std::runtime_error(std::string(source) +
                             ": not a PEM private key (expected an EC P-256 key, e.g. `openssl "
                             "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)");
  }
  require_p256(key.get(), source);
  return key;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("auth.assertion.signing_key_file " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error("auth.assertion.signing_key_file " + path + ": read error");
  return std::move(ss).str();
}

pkey_ptr generate_p256() {
  pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("cannot generate an EC P-256 key: " + openssl_error());
  return key;
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != md.size())
    throw std::runtime_error("SHA-256 failed: " + openssl_error());
  return {reinterpret_cast<const char*>(md.data()), md.size()};
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (unsigned{p[i]} << 16) | (unsigned{p[i + 1]} << 8) | p[i + 2];
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
    out += b64url_alphabet[(v >> 6) & 63];
    out += b64url_alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned v = unsigned{p[i]} << 16;
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const unsigned v = (unsigned{p[i]} << 16) | (unsigned{p[i + 1]} << 8);
    out += b64url_alphabet[(v >> 18) & 63];
    out += b64url_alphabet[(v >> 12) & 63];
    out += b64url_alphabet[(v >> 6) & 63];
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : text) {
    unsigned v;
    if (c >= 'A' && c <= 'Z')
      v = static_cast<unsigned>(c - 'A');
    else if (c >= 'a' && c <= 'z')
      v = static_cast<unsigned>(c - 'a') + 26;
    else if (c >= '0' && c <= '9')
      v = static_cast<unsigned>(c - '0') + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (canonical encoding: one text per byte string).
  return (acc & ((1u << bits) - 1)) == 0;
}

struct md_free {
  void operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};

// The key, and SHA-256 fetched once (an implicit fetch per signature costs a lock and a lookup).
// Both are only read after construction, which OpenSSL 3 allows from several threads.
struct assertion_signer::key_holder {
  pkey_ptr key;
  std::unique_ptr<EVP_MD, md_free> sha256{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
};

assertion_signer::assertion_signer(const config::assertion& cfg)
    : assertion_signer(
          [&] {
            auto holder = std::make_unique<key_holder>();
            if (cfg.signing_key_file.empty()) {
              holder->key = generate_p256();
              spdlog::warn(
                  "auth.assertion: no signing_key_file, generated an ephemeral EC P-256 key; upstreams must "
                  "fetch "
                  "/.well-known/jwks.json again after every restart (configure a key file to keep the kid "
                  "stable)");
            } else {
              holder->key = load_pem(read_file(cfg.signing_key_file),
                                     "auth.assertion.signing_key_file " + cfg.signing_key_file);
            }
            return holder;
          }(),
          cfg.audience, cfg.ttl) {}

assertion_signer assertion_signer::from_pem(std::string_view pem, std::string audience,
                                            std::chrono::milliseconds ttl) {
  auto holder = std::make_unique<key_holder>();
  holder->key = load_pem(pem, "assertion signing key");
  return assertion_signer(std::move(holder), std::move(audience), ttl);
}

assertion_signer::assertion_signer(std::unique_ptr<key_holder> key, std::string audience,
                                   std::chrono::milliseconds ttl)
    : key_(std::move(key)),
      audience_(std::move(audience)),
      ttl_(std::chrono::duration_cast<std::chrono::seconds>(ttl)) {
  if (audience_.empty()) throw std::runtime_error("auth.assertion.audience: must not be empty");
  if (ttl_ < std::chrono::seconds(1)) throw std::runtime_error("auth.assertion.ttl: must be at least 1s");

  const std::string x = base64url_encode(bn_coordinate(key_->key.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  const std::string y = base64url_encode(bn_coordinate(key_->key.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  // RFC 7638: the required members only, lexicographic order, no whitespace.
  kid_ = base64url_encode(sha256(R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})"));

  const nlohmann::json header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}};
  header_b64_ = base64url_encode(header.dump()) + '.';
  const nlohmann::json jwks{{"keys", nlohmann::json::array({{{"kty", "EC"},
                                                             {"crv", "P-256"},
                                                             {"x", x},
                                                             {"y", y},
                                                             {"kid", kid_},
                                                             {"alg", "ES256"},
                                                             {"use", "sig"}}})}};
  jwks_ = jwks.dump();
}

assertion_signer::assertion_signer(assertion_signer&&) noexcept = default;
assertion_signer& assertion_signer::operator=(assertion_signer&&) noexcept = default;
assertion_signer::~assertion_signer() = default;

std::string assertion_signer::sign(const assertion_identity& id, time_point now) const {
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::array<unsigned char, 16> jti{};
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1)
    throw std::runtime_error("CSPRNG failure (RAND_bytes)");

  nlohmann::json claims{{"iss", "keygate"},
                        {"aud", audience_},
                        {"tenant", id.tenant},
                        {"auth_method", id.auth_method},
                        {"scopes", id.scopes},
                        {"iat", iat},
                        {"exp", iat + ttl_.count()},
                        {"jti", base64url_encode({reinterpret_cast<const char*>(jti.data()), jti.size()})}};
  if (!id.user.empty()) claims["sub"] = id.user;
  if (!id.key_id.empty()) claims["key_id"] = id.key_id;
  if (!id.session_id.empty()) claims["session_id"] = id.session_id;

  // Stored values are expected to be UTF-8; replace rather than throw on anything else.
  std::string token = header_b64_;
  token += base64url_encode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));

  // SHA-256 of the signing input, then ECDSA over that digest with a context of this call's
  // own (cheaper than EVP_DigestSignInit, which re-fetches and re-initializes everything).
  std::array<unsigned char, 32> digest{};
  unsigned int digest_len = 0;
  std::array<unsigned char, 80> der{};  // DER ECDSA-Sig-Value for P-256: at most 72 bytes
  std::size_t der_len = der.size();
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key_->key.get(), nullptr));
  if (!key_->sha256 || !ctx ||
      EVP_Digest(token.data(), token.size(), digest.data(), &digest_len, key_->sha256.get(), nullptr) != 1 ||
      EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), der.data(), &der_len, digest.data(), digest_len) != 1)
    throw std::runtime_error("ES256 signing failed: " + openssl_error());

  // JWS (RFC 7518 §3.4) carries R||S as two 32-byte big-endian integers, not DER.
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) throw std::runtime_error("ES256 signing produced an unreadable signature: " + openssl_error());
  std::array<unsigned char, 2 * coord_size> raw{};
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), static_cast<int>(coord_size)) !=
          static_cast<int>(coord_size) ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + coord_size, static_cast<int>(coord_size)) !=
          static_cast<int>(coord_size))
    throw std::runtime_error("ES256 signature component does not fit 32 bytes");
  token += '.';
  token += base64url_encode({reinterpret_cast<const char*>(raw.data()), raw.size()});
  return token;
}

}  // namespace keygate::auth
