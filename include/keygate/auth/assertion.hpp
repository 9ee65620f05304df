// keygate::auth::assertion_signer — the optional X-Keygate-Assertion (SPEC §2 auth.assertion, §4).
//
// A short-lived ES256 JWT of the identity keygate forwards, so an upstream can verify that a
// request came through keygate (the plain identity headers only prove that whoever can reach
// the upstream wrote them). Public keys are published as a JWKS on the internal listener
// (GET /.well-known/jwks.json); docs/assertion.md describes verification.
//
// Key: an EC P-256 private key from a PEM file (PKCS#8 or SEC1 "EC PRIVATE KEY", unencrypted),
// or — when no file is configured — a fresh key generated at start (logged as a warning:
// upstreams must fetch the JWKS again after every restart). `kid` is the RFC 7638 JWK
// thumbprint (SHA-256, base64url) of the public key, so it is stable for the same key.
//
// Cost: one sign() is one ECDSA P-256 signature plus a small JSON encode (≈ 30-60 µs on
// one core); that is why assertions are optional.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keygate/config/config.hpp"

namespace keygate::auth {

// The identity an assertion states. Exactly one of key_id / session_id is set, matching
// auth_method ("api_key" / "session").
struct assertion_identity {
  std::string tenant;
  std::string user;
  std::string key_id;
  std::string session_id;
  std::string auth_method;
  std::vector<std::string> scopes;
};

class assertion_signer {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // From the config: loads `signing_key_file`, or generates a key when it is empty.
  // Throws std::runtime_error (unreadable file, not a PEM private key, encrypted, not EC
  // P-256, empty audience, ttl below one second).
  explicit assertion_signer(const config::assertion& cfg);
  // From PEM text (tests, or a key held elsewhere). Same errors as above.
  static assertion_signer from_pem(std::string_view pem, std::string audience, std::chrono::milliseconds ttl);

  assertion_signer(assertion_signer&&) noexcept;
  assertion_signer& operator=(assertion_signer&&) noexcept;
  ~assertion_signer();

  // The compact JWS `header.claims.signature`. Claims: iss "keygate", aud, sub (user id,
  // omitted when empty), tenant, key_id or session_id, auth_method, scopes (array), iat,
  // exp = iat + ttl (whole seconds), jti (128 random bits, base64url). Safe to call
  // concurrently from several threads (each call uses its own EVP_MD_CTX; the key is only
  // read). Throws std::runtime_error on an OpenSSL failure (not expected with a valid key).
  std::string sign(const assertion_identity& id, time_point now) const;

  // {"keys":[{"kty":"EC","crv":"P-256","x","y","kid","alg":"ES256","use":"sig"}]} — public
  // values only. Computed once.
  const std::string& jwks_json() const noexcept { return jwks_; }
  const std::string& kid() const noexcept { return kid_; }
  const std::string& audience() const noexcept { return audience_; }
  std::chrono::seconds ttl() const noexcept { return ttl_; }

 private:
  struct key_holder;
  assertion_signer(std::unique_ptr<key_holder> key, std::string audience, std::chrono::milliseconds ttl);

  std::unique_ptr<key_holder> key_;
  std::string audience_;
  std::chrono::seconds ttl_{};
  std::string kid_;
  std::string header_b64_;  // base64url of the constant JOSE header, with the trailing '.'
  std::string jwks_;
};

// RFC 4648 §5 base64url without padding. decode returns false on a character outside the
// alphabet or an impossible length (padding '=' is not accepted: JWS never uses it).
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace keygate::auth
