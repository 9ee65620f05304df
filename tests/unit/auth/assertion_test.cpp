// assertion_signer (SPEC §4 X-Keygate-Assertion): ES256 compact JWS verified with OpenSSL from
// the JWKS alone; claims; tampering; kid (RFC 7638) stability; PEM loading and rejection.
#include "keygate/auth/assertion.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "keygate/auth/assertion_keys.hpp"
#include "support/jws_verify.hpp"

namespace keygate::auth {
namespace {

using namespace std::chrono_literals;
using test::verify_es256;
using pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

pkey ec_key(const char* curve) {
  return {EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free};
}

enum class pem_form { pkcs8, sec1, encrypted };

std::string to_pem(EVP_PKEY* key, pem_form form = pem_form::pkcs8) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  int rc = 0;
  char pass[] = "secret-pass";
  switch (form) {
    case pem_form::pkcs8:
      rc = PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case pem_form::sec1:
      rc = PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case pem_form::encrypted:
      rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), nullptr, 0, nullptr, pass);
      break;
  }
  EXPECT_EQ(rc, 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(n)};
}

std::string p256_pem(pem_form form = pem_form::pkcs8) {
  return to_pem(ec_key("P-256").get(), form);
}

assertion_identity key_identity() {
  return {"acme", "alice", "key_01HX", "", "api_key", {"read", "write:orders"}};
}

const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)) + 750ms;

// Replaces part `i` (0 header, 1 claims, 2 signature) of a compact JWS.
std::string with_part(const std::string& token, int i, const std::string& part) {
  const auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
  std::string p[3] = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
  p[i] = part;
  return p[0] + "." + p[1] + "." + p[2];
}
std::string part(const std::string& token, int i) {
  const auto d1 = token.find('.'), d2 = token.find('.', d1 + 1);
  return i == 0 ? token.substr(0, d1) : i == 1 ? token.substr(d1 + 1, d2 - d1 - 1) : token.substr(d2 + 1);
}

struct temp_file {
  explicit temp_file(const std::string& content) {
    char tmpl[] = "/tmp/kg-assert-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::filesystem::remove(path); }
  std::string path;
};

config::assertion cfg_for(const std::string& file, std::string audience = "my-app",
                          config::duration ttl = 60s) {
  config::assertion a;
  a.signing_key_file = file;
  a.audience = std::move(audience);
  a.ttl = ttl;
  return a;
}

// --------------------------------------------------------------------------------------------
TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");  // the URL-safe characters
  std::string out;
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xbf\x00\x01"}) {
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out)) << s;
    EXPECT_EQ(out, s);
  }
}

TEST(Base64Url, DecodeRejectsNonUrlAlphabetPaddingAndNonCanonical) {
  std::string out;
  EXPECT_FALSE(base64url_decode("Zg==", out));
  EXPECT_FALSE(base64url_decode("+/+/", out));
  EXPECT_FALSE(base64url_decode("Z", out));      // impossible length
  EXPECT_FALSE(base64url_decode("Zh", out));     // non-zero leftover bits
  EXPECT_FALSE(base64url_decode("Zm9 v", out));  // whitespace
}

// --------------------------------------------------------------------------------------------
TEST(AssertionSigner, SignedTokenVerifiesWithOnlyTheJwks) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto token = signer.sign(key_identity(), t0);
  const auto r = verify_es256(token, signer.jwks_json());
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.header, (nlohmann::json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", signer.kid()}}));
  std::string sig;
  ASSERT_TRUE(base64url_decode(part(token, 2), sig));
  EXPECT_EQ(sig.size(), 64u) << "JWS ES256 signatures are raw R||S, not DER";
}

TEST(AssertionSigner, ClaimsOfAnApiKeyIdentity) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 90s);
  const auto r = verify_es256(signer.sign(key_identity(), t0), signer.jwks_json());
  ASSERT_TRUE(r.ok) << r.why;
  const auto& c = r.claims;
  EXPECT_EQ(c["iss"], "keygate");
  EXPECT_EQ(c["aud"], "my-app");
  EXPECT_EQ(c["sub"], "alice");
  EXPECT_EQ(c["tenant"], "acme");
  EXPECT_EQ(c["key_id"], "key_01HX");
  EXPECT_FALSE(c.contains("session_id"));
  EXPECT_EQ(c["auth_method"], "api_key");
  EXPECT_EQ(c["scopes"], (nlohmann::json{"read", "write:orders"}));
  EXPECT_EQ(c["iat"], 1'700'000'000);  // whole seconds, truncated
  EXPECT_EQ(c["exp"], 1'700'000'000 + 90);
  std::string jti;
  ASSERT_TRUE(c["jti"].is_string());
  ASSERT_TRUE(base64url_decode(c["jti"].get<std::string>(), jti));
  EXPECT_EQ(jti.size(), 16u);
  EXPECT_EQ(c.size(), 10u) << c.dump();
}

TEST(AssertionSigner, ClaimsOfASessionIdentity) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "aud-2", 5s);
  const assertion_identity id{"acme", "bob", "", "ses_42", "session", {}};
  const auto r = verify_es256(signer.sign(id, t0), signer.jwks_json());
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.claims["session_id"], "ses_42");
  EXPECT_FALSE(r.claims.contains("key_id"));
  EXPECT_EQ(r.claims["auth_method"], "session");
  EXPECT_EQ(r.claims["scopes"], nlohmann::json::array());
  EXPECT_EQ(r.claims["exp"].get<long long>() - r.claims["iat"].get<long long>(), 5);
}

TEST(AssertionSigner, JtiIsFreshPerTokenAndSignaturesDiffer) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto a = signer.sign(key_identity(), t0), b = signer.sign(key_identity(), t0);
  EXPECT_NE(verify_es256(a, signer.jwks_json()).claims["jti"],
            verify_es256(b, signer.jwks_json()).claims["jti"]);
  EXPECT_NE(part(a, 2), part(b, 2));
}

TEST(AssertionSigner, TamperedTokensFail) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto token = signer.sign(key_identity(), t0);
  ASSERT_TRUE(verify_es256(token, signer.jwks_json()).ok);

  // Payload: a different subject, correctly encoded.
  auto claims = verify_es256(token, signer.jwks_json()).claims;
  claims["sub"] = "mallory";
  EXPECT_FALSE(verify_es256(with_part(token, 1, base64url_encode(claims.dump())), signer.jwks_json()).ok);
  // Payload: one character changed.
  auto p1 = part(token, 1);
  p1[5] = p1[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_es256(with_part(token, 1, p1), signer.jwks_json()).ok);
  // Signature: one bit flipped in R and in S.
  std::string sig;
  ASSERT_TRUE(base64url_decode(part(token, 2), sig));
  for (const std::size_t at : {std::size_t{0}, std::size_t{40}}) {
    auto bad = sig;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    EXPECT_FALSE(verify_es256(with_part(token, 2, base64url_encode(bad)), signer.jwks_json()).ok) << at;
  }
  // Signature: truncated; DER instead of raw is rejected by length.
  EXPECT_FALSE(verify_es256(with_part(token, 2, base64url_encode(sig.substr(0, 63))), signer.jwks_json()).ok);
  // Header: alg none / another alg / unknown kid / same key claims but re-serialized header.
  for (const auto& h : {nlohmann::json{{"alg", "none"}, {"typ", "JWT"}, {"kid", signer.kid()}},
                        nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", signer.kid()}},
                        nlohmann::json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "other"}},
                        nlohmann::json{{"alg", "ES256"}, {"kid", signer.kid()}, {"typ", "jwt"}}})
    EXPECT_FALSE(verify_es256(with_part(token, 0, base64url_encode(h.dump())), signer.jwks_json()).ok) << h;
  // Another key's JWKS under the same kid.
  const auto other = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  auto jwks = nlohmann::json::parse(other.jwks_json());
  jwks["keys"][0]["kid"] = signer.kid();
  EXPECT_FALSE(verify_es256(token, jwks).ok);
}

TEST(AssertionSigner, EveryTokenVerifiesIncludingShortRAndS) {
  // R or S below 2^248 (a leading zero byte) happens about once in 64 signatures. At least 400
  // tokens, and on until one such signature was seen (bounded: p(none in 5000) < 1e-34), so the
  // left-padding of the DER → R||S conversion is always exercised and the test never fails by chance.
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto jwks = nlohmann::json::parse(signer.jwks_json());
  int short_component = 0;
  for (int i = 0; i < 5000 && (i < 400 || short_component == 0); ++i) {
    const auto token = signer.sign(key_identity(), t0);
    const auto r = verify_es256(token, jwks);
    ASSERT_TRUE(r.ok) << i << ": " << r.why;
    std::string sig;
    ASSERT_TRUE(base64url_decode(part(token, 2), sig));
    if (sig[0] == '\0' || sig[32] == '\0') ++short_component;
  }
  EXPECT_GT(short_component, 0) << "no leading-zero component in 5000 signatures";
}

TEST(AssertionSigner, KidIsTheRfc7638ThumbprintAndStableForTheSameKey) {
  const auto pem = p256_pem();
  const auto a = assertion_signer::from_pem(pem, "my-app", 60s);
  const auto b = assertion_signer::from_pem(pem, "other-aud", 10s);
  EXPECT_EQ(a.kid(), b.kid());
  EXPECT_EQ(a.jwks_json(), b.jwks_json());
  EXPECT_EQ(a.kid().size(), 43u);  // base64url of 32 bytes

  const auto jwk = nlohmann::json::parse(a.jwks_json())["keys"][0];
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + jwk["x"].get<std::string>() +
                                R"(","y":")" + jwk["y"].get<std::string>() + R"("})";
  unsigned char md[32];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(canonical.data(), canonical.size(), md, &len, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(a.kid(), base64url_encode({reinterpret_cast<const char*>(md), len}));

  const auto c = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  EXPECT_NE(a.kid(), c.kid());
}

TEST(AssertionSigner, JwksHasOnlyPublicMembers) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto jwks = nlohmann::json::parse(signer.jwks_json());
  ASSERT_EQ(jwks.size(), 1u);
  ASSERT_EQ(jwks["keys"].size(), 1u);
  const auto& k = jwks["keys"][0];
  EXPECT_EQ(k["kty"], "EC");
  EXPECT_EQ(k["crv"], "P-256");
  EXPECT_EQ(k["alg"], "ES256");
  EXPECT_EQ(k["use"], "sig");
  EXPECT_EQ(k["kid"], signer.kid());
  EXPECT_EQ(k["x"].get<std::string>().size(), 43u);
  EXPECT_EQ(k["y"].get<std::string>().size(), 43u);
  EXPECT_FALSE(k.contains("d")) << "private key in the JWKS";
  EXPECT_EQ(k.size(), 7u);
}

// --------------------------------------------------------------------------------------------
TEST(AssertionSigner, LoadsPkcs8AndSec1PemFiles) {
  const auto key = ec_key("P-256");
  temp_file pkcs8(to_pem(key.get(), pem_form::pkcs8));
  temp_file sec1(to_pem(key.get(), pem_form::sec1));
  ASSERT_NE(to_pem(key.get(), pem_form::sec1).find("BEGIN EC PRIVATE KEY"), std::string::npos);
  const assertion_signer a(cfg_for(pkcs8.path));
  const assertion_signer b(cfg_for(sec1.path));
  EXPECT_EQ(a.kid(), b.kid());
  EXPECT_EQ(a.audience(), "my-app");
  EXPECT_EQ(a.ttl(), 60s);
  EXPECT_TRUE(verify_es256(a.sign(key_identity(), t0), b.jwks_json()).ok);
}

TEST(AssertionSigner, GeneratesAKeyWhenNoFileIsConfigured) {
  const assertion_signer a(cfg_for(""));
  const assertion_signer b(cfg_for(""));
  EXPECT_NE(a.kid(), b.kid()) << "each start generates a fresh key";
  EXPECT_TRUE(verify_es256(a.sign(key_identity(), t0), a.jwks_json()).ok);
}

void expect_rejected(const std::string& pem, const std::string& needle) {
  try {
    (void)assertion_signer::from_pem(pem, "my-app", 60s);
    ADD_FAILURE() << "accepted; expected an error containing '" << needle << "'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("PRIVATE KEY-----\n"), std::string::npos)
        << "key material in the error";
  }
}

TEST(AssertionSigner, RejectsWrongCurvesOtherKeyTypesAndGarbage) {
  expect_rejected(to_pem(ec_key("P-384").get()), "P-256");
  expect_rejected(to_pem(ec_key("secp256k1").get()), "P-256");  // same size, wrong curve
  pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  expect_rejected(to_pem(ed.get()), "not an EC private key");
  expect_rejected("not a pem", "not a PEM private key");
  expect_rejected("", "not a PEM private key");
  // A public key alone is not a signing key.
  expect_rejected(
      "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
      "not a PEM private key");
  ERR_clear_error();
}

TEST(AssertionSigner, RejectsEncryptedKeysWithoutPrompting) {
  expect_rejected(p256_pem(pem_form::encrypted), "encrypted");
}

TEST(AssertionSigner, ConfigErrorsNameTheSetting) {
  try {
    const assertion_signer s(cfg_for("/nonexistent/assert.pem"));
    ADD_FAILURE() << "accepted a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("signing_key_file /nonexistent/assert.pem"), std::string::npos)
        << e.what();
  }
  temp_file f(p256_pem());
  EXPECT_THROW(assertion_signer(cfg_for(f.path, "")), std::runtime_error);
  EXPECT_THROW(assertion_signer(cfg_for(f.path, "a", 500ms)), std::runtime_error);
}

// --------------------------------------------------------------------------------------------
TEST(AssertionSigner, ConcurrentSignersAllVerify) {
  const auto signer = assertion_signer::from_pem(p256_pem(), "my-app", 60s);
  const auto jwks = nlohmann::json::parse(signer.jwks_json());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (!verify_es256(signer.sign(key_identity(), t0), jwks).ok) ++bad;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// assertion_keys: the signer in use across reloads (SIGHUP).
TEST(AssertionKeys, RotationKeepsTheReplacedKeyInTheJwks) {
  temp_file file(p256_pem());
  assertion_keys keys;
  EXPECT_EQ(keys.current(), nullptr);
  EXPECT_EQ(keys.jwks_json(), "");
  keys.install(cfg_for(file.path));
  const auto* first = keys.current();
  ASSERT_NE(first, nullptr);
  const auto kid_a = first->kid();

  keys.install(cfg_for(file.path));  // same file, same settings: nothing changes
  EXPECT_EQ(keys.current(), first);
  EXPECT_EQ(nlohmann::json::parse(keys.jwks_json())["keys"].size(), 1u);

  std::ofstream(file.path, std::ios::binary | std::ios::trunc) << p256_pem();  // the operator rotates
  keys.install(cfg_for(file.path));
  ASSERT_NE(keys.current(), nullptr);
  EXPECT_NE(keys.current()->kid(), kid_a);
  const auto jwks = nlohmann::json::parse(keys.jwks_json());
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], keys.current()->kid());
  EXPECT_EQ(jwks["keys"][1]["kid"], kid_a);
  EXPECT_TRUE(verify_es256(first->sign(key_identity(), t0), keys.jwks_json()).ok)
      << "the replaced signer stays valid for workers that still hold it";

  std::ofstream(file.path, std::ios::binary | std::ios::trunc) << "garbage";
  const auto* before = keys.current();
  EXPECT_THROW(keys.install(cfg_for(file.path)), std::runtime_error);
  EXPECT_EQ(keys.current(), before) << "an unusable key leaves the current one in place";

  keys.install(std::nullopt);
  EXPECT_EQ(keys.current(), nullptr);
  EXPECT_EQ(keys.jwks_json(), "");
}

TEST(AssertionKeys, GeneratedKeySurvivesReloadsUnlessItsSettingsChange) {
  assertion_keys keys;
  keys.install(cfg_for(""));
  const auto* generated = keys.current();
  ASSERT_NE(generated, nullptr);
  keys.install(cfg_for(""));
  EXPECT_EQ(keys.current(), generated);
  keys.install(cfg_for("", "another-app"));
  ASSERT_NE(keys.current(), generated);
  EXPECT_EQ(keys.current()->audience(), "another-app");
}

}  // namespace
}  // namespace keygate::auth
