// Test support: verifies a compact ES256 JWS the way an upstream would — with nothing but a
// JWKS document (the public key is rebuilt from the JWK's x/y, never taken from the signer).
// Used by tests/unit/auth/assertion_test.cpp and tests/integration/assertion_itest.cpp.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "keygate/auth/assertion.hpp"

namespace keygate::test {

struct jws_result {
  bool ok = false;
  std::string why;  // the first failed check when !ok
  nlohmann::json header;
  nlohmann::json claims;
};

// EC P-256 public key from a JWK's base64url x and y; nullptr when they are not a curve point.
inline std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> public_key_from_jwk(const nlohmann::json& jwk) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> none(nullptr, EVP_PKEY_free);
  std::string x, y;
  if (!jwk.contains("x") || !jwk.contains("y") || !auth::base64url_decode(jwk["x"].get<std::string>(), x) ||
      !auth::base64url_decode(jwk["y"].get<std::string>(), y) || x.size() != 32 || y.size() != 32)
    return none;
  const std::string point = std::string(1, '\x04') + x + y;  // SEC1 uncompressed point
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  char group[] = "prime256v1";
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return none;
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return none;
  return {key, EVP_PKEY_free};
}

// Checks: three base64url parts; header alg ES256 and a kid present in `jwks` (kty EC, crv
// P-256, alg ES256 when given); a 64-byte R||S signature over "header.claims" that verifies.
// Claims are parsed but not judged (the caller checks aud/exp/iss).
inline jws_result verify_es256(std::string_view token, const nlohmann::json& jwks) {
  jws_result r;
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    r.why = "not three parts";
    return r;
  }
  std::string header_raw, claims_raw, sig;
  if (!auth::base64url_decode(token.substr(0, d1), header_raw) ||
      !auth::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), claims_raw) ||
      !auth::base64url_decode(token.substr(d2 + 1), sig)) {
    r.why = "bad base64url";
    return r;
  }
  r.header = nlohmann::json::parse(header_raw, nullptr, false);
  r.claims = nlohmann::json::parse(claims_raw, nullptr, false);
  if (r.header.is_discarded() || !r.header.is_object() || r.claims.is_discarded() || !r.claims.is_object()) {
    r.why = "header or claims not a JSON object";
    return r;
  }
  if (r.header.value("alg", "") != "ES256") {
    r.why = "alg is not ES256";
    return r;
  }
  const nlohmann::json* jwk = nullptr;
  if (jwks.contains("keys") && jwks["keys"].is_array())
    for (const auto& k : jwks["keys"])
      if (k.is_object() && k.value("kid", "") == r.header.value("kid", "-")) jwk = &k;
  if (!jwk || jwk->value("kty", "") != "EC" || jwk->value("crv", "") != "P-256" ||
      jwk->value("alg", "ES256") != "ES256") {
    r.why = "kid not in the JWKS (or not an EC P-256 ES256 key)";
    return r;
  }
  if (sig.size() != 64) {
    r.why = "signature is not 64 bytes";
    return r;
  }
  auto key = public_key_from_jwk(*jwk);
  if (!key) {
    r.why = "JWK x/y is not a P-256 point";
    return r;
  }
  // R||S → DER, which is what OpenSSL's ECDSA verify expects.
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(ECDSA_SIG_new(), ECDSA_SIG_free);
  const auto* s = reinterpret_cast<const unsigned char*>(sig.data());
  BIGNUM* br = BN_bin2bn(s, 32, nullptr);
  BIGNUM* bs = BN_bin2bn(s + 32, 32, nullptr);
  if (!es || !br || !bs || ECDSA_SIG_set0(es.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    r.why = "cannot build ECDSA_SIG";
    return r;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(es.get(), &der);
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const auto signing_input = token.substr(0, d2);
  if (der_len <= 0 || !md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestVerify(md.get(), der, static_cast<std::size_t>(der_len),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    r.why = "signature does not verify";
    return r;
  }
  r.ok = true;
  return r;
}

inline jws_result verify_es256(std::string_view token, const std::string& jwks_json) {
  return verify_es256(token, nlohmann::json::parse(jwks_json));
}

}  // namespace keygate::test
