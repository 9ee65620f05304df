// keygate::auth::assertion_keys — the assertion signing key in use, replaceable on SIGHUP.
//
// install() runs at start and on every reload: it reads `auth.assertion.signing_key_file` again,
// so an operator rotates the key by replacing the file and sending SIGHUP. The JWKS then lists
// the new key and the one it replaced, so tokens signed just before the rotation still verify
// until they expire (upstreams that cache the JWKS should refetch on an unknown kid). A
// generated key (no file) is kept across reloads unless audience or ttl change.
//
// Threads: current() is called by every worker on the request path and takes no lock; install()
// and jwks_json() (control and internal threads) take a mutex. A signer, once installed, lives
// as long as this object, so a worker may keep using the pointer it loaded while a reload
// replaces it (one signer per actual key change; reloads that change nothing add none).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keygate/auth/assertion.hpp"
#include "keygate/config/config.hpp"

namespace keygate::auth {

class assertion_keys {
 public:
  // The signer for requests now; nullptr when auth.assertion is not configured.
  const assertion_signer* current() const noexcept { return current_.load(std::memory_order_acquire); }

  // Makes `cfg` current (nullopt: assertions off). Throws std::runtime_error on an unusable key
  // (assertion_signer's errors), leaving the current signer in place.
  void install(const std::optional<config::assertion>& cfg);

  // {"keys":[current, previous]} (previous only after a rotation); "" when assertions are off.
  std::string jwks_json() const;

 private:
  void render_jwks();  // jwks_ from current_ and previous_; under mu_

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<const assertion_signer>> installed_;  // never freed before *this
  std::atomic<const assertion_signer*> current_{nullptr};
  const assertion_signer* previous_ = nullptr;
  std::optional<config::assertion> config_;  // the config current_ was built from
  std::string jwks_;                         // what jwks_json() returns, rendered by install()
};

}  // namespace keygate::auth
